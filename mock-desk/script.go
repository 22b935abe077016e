package mockdesk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Script is what a scripted agent does in each chat routed to it, step by
// step. A step that needs the agent in the chat joins it first, so a
// script may start with Say; start with JoinAfter to make the customer
// wait. When the script ends the agent stays in the chat until it ends.
type Script []Step

// Step is one action of a Script. Do names it (join, wait, say, echo,
// typing, read, transfer, leave, end, request_files, await_message,
// await_file, screen_share, end_screen_share: the constructors below make
// each); Delay waits before it.
type Step struct {
	Do    string   `json:"do"`
	Delay Duration `json:"delay,omitempty"`
	// say, request_files: the text (markdown); say: or a whole message
	Text    string                       `json:"text,omitempty"`
	Message *servicedesk.MessageResponse `json:"message,omitempty"`
	// typing: on or off (default on)
	Typing *bool `json:"typing,omitempty"`
	// transfer: the roster agent id to hand the chat to
	To string `json:"to,omitempty"`
	// echo: how many messages to echo (0: until the chat ends), and the
	// prefix put before each (default "echo: ")
	Count  int     `json:"count,omitempty"`
	Prefix *string `json:"prefix,omitempty"`
}

// Step names (Step.Do).
const (
	doJoin           = "join"
	doWait           = "wait"
	doSay            = "say"
	doEcho           = "echo"
	doTyping         = "typing"
	doRead           = "read"
	doTransfer       = "transfer"
	doLeave          = "leave"
	doEnd            = "end"
	doRequestFiles   = "request_files"
	doAwaitMessage   = "await_message"
	doAwaitFile      = "await_file"
	doScreenShare    = "screen_share"
	doEndScreenShare = "end_screen_share"
)

// JoinAfter joins the chat after d.
func JoinAfter(d time.Duration) Step { return Step{Do: doJoin, Delay: Duration(d)} }

// Wait pauses the script.
func Wait(d time.Duration) Step { return Step{Do: doWait, Delay: Duration(d)} }

// Say sends a text message (markdown allowed).
func Say(text string) Step { return Step{Do: doSay, Text: text} }

// SayMessage sends a rich message: any mix of text, image and link button
// items (servicedesk.TextItem, ImageItem, LinkButtonItem).
func SayMessage(m servicedesk.MessageResponse) Step { return Step{Do: doSay, Message: &m} }

// Echo answers the next n customer messages with their text ("echo: …");
// n = 0 echoes until the chat ends.
func Echo(n int) Step { return Step{Do: doEcho, Count: n} }

// EchoWithPrefix is Echo with another prefix ("" for a bare echo).
func EchoWithPrefix(n int, prefix string) Step { return Step{Do: doEcho, Count: n, Prefix: &prefix} }

// Typing shows (on) or hides the typing indicator.
func Typing(on bool) Step { return Step{Do: doTyping, Typing: &on} }

// Read marks the customer's messages read.
func Read() Step { return Step{Do: doRead} }

// TransferTo hands the chat to the roster agent with id agentID.
func TransferTo(agentID string) Step { return Step{Do: doTransfer, To: agentID} }

// Leave leaves the chat without ending it.
func Leave() Step { return Step{Do: doLeave} }

// End ends the chat.
func End() Step { return Step{Do: doEnd} }

// RequestFiles asks the customer for files.
func RequestFiles(text string) Step { return Step{Do: doRequestFiles, Text: text} }

// AwaitMessage waits for the customer's next message.
func AwaitMessage() Step { return Step{Do: doAwaitMessage} }

// AwaitFile waits for the customer's next upload.
func AwaitFile() Step { return Step{Do: doAwaitFile} }

// RequestScreenShare asks for the customer's screen and waits for the answer.
func RequestScreenShare() Step { return Step{Do: doScreenShare} }

// EndScreenShare ends the screen share.
func EndScreenShare() Step { return Step{Do: doEndScreenShare} }

func (s Script) validate() error {
	for i, st := range s {
		switch st.Do {
		case doJoin, doWait, doEcho, doTyping, doRead, doLeave, doEnd, doRequestFiles, doAwaitMessage, doAwaitFile, doScreenShare, doEndScreenShare:
		case doSay:
			if st.Text == "" && st.Message == nil {
				return fmt.Errorf("script step %d: say needs text or message: %w", i, ErrBadRequest)
			}
		case doTransfer:
			if st.To == "" {
				return fmt.Errorf("script step %d: transfer needs to: %w", i, ErrBadRequest)
			}
		default:
			return fmt.Errorf("script step %d: unknown do %q: %w", i, st.Do, ErrBadRequest)
		}
		if st.Delay < 0 || st.Count < 0 {
			return fmt.Errorf("script step %d: negative delay or count: %w", i, ErrBadRequest)
		}
	}
	return nil
}

// runScript plays a's script in a chat routed to it. It stops at the end
// of the script, when the chat ends, or when the desk closes.
func (d *Desk) runScript(a *agent, chatID string) {
	ctx := d.ctx
	d.mu.Lock()
	c := d.chats[chatID]
	// A transferred chat's agent reads only what comes after it; a new
	// chat's agent reads what the customer wrote while waiting.
	cur := cursor{}
	if c.state == StateTransferring {
		for _, k := range []string{obsMessage, obsFile, obsShare} {
			cur[k] = len(c.obs)
		}
	}
	d.mu.Unlock()
	joined := false
	join := func() error {
		if joined {
			return nil
		}
		joined = true
		return d.scriptJoin(ctx, a, chatID)
	}
	for _, st := range a.cfg.Script {
		if err := d.pause(ctx, time.Duration(st.Delay)); err != nil {
			return
		}
		var err error
		if st.Do != doWait {
			err = join()
		}
		if err == nil {
			err = d.runStep(ctx, st, chatID, cur)
		}
		if err != nil {
			if !errors.Is(err, ErrChatEnded) && !errors.Is(err, ErrClosed) && ctx.Err() == nil {
				d.log.Info("script stopped", "agent", a.cfg.Profile.ID, "chat", chatID, "err", err)
			}
			return
		}
	}
	if !joined {
		_ = join()
	}
}

// scriptJoin joins a as the chat's agent if the chat is still routed to it.
func (d *Desk) scriptJoin(ctx context.Context, a *agent, chatID string) error {
	return d.agentAct(ctx, "join", chatID, func(c *chat) error {
		if c.scriptFor != a {
			return fmt.Errorf("chat no longer routed to %s: %w", a.cfg.Profile.ID, ErrChatEnded)
		}
		return d.joinLocked(c, a.cfg.Profile)
	})
}

func (d *Desk) runStep(ctx context.Context, st Step, chatID string, cur cursor) error {
	switch st.Do {
	case doJoin, doWait:
		return nil
	case doSay:
		m := servicedesk.TextResponse(st.Text)
		if st.Message != nil {
			m = *st.Message
		}
		_, err := d.AgentSay(ctx, chatID, m)
		return err
	case doEcho:
		prefix := "echo: "
		if st.Prefix != nil {
			prefix = *st.Prefix
		}
		for i := 0; st.Count == 0 || i < st.Count; {
			o, err := d.await(ctx, chatID, obsMessage, cur)
			if err != nil {
				return err
			}
			if o.message.Rejected != "" {
				continue // the desk refused it: nothing to echo
			}
			i++
			if _, err := d.AgentSay(ctx, chatID, servicedesk.TextResponse(prefix+o.message.Request.Input.Text)); err != nil {
				return err
			}
		}
		return nil
	case doTyping:
		return d.AgentTyping(ctx, chatID, st.Typing == nil || *st.Typing)
	case doRead:
		return d.AgentRead(ctx, chatID)
	case doTransfer:
		d.mu.Lock()
		target := d.agentByID(st.To)
		d.mu.Unlock()
		if target == nil {
			return fmt.Errorf("transfer to %q: %w", st.To, ErrUnknownAgent)
		}
		if err := d.agentTransfer(ctx, chatID, target.cfg.Profile); err != nil {
			return err
		}
		return ErrChatEnded // this agent is done with the chat
	case doLeave:
		if err := d.agentLeave(ctx, chatID); err != nil {
			return err
		}
		return ErrChatEnded
	case doEnd:
		if err := d.agentEnd(ctx, chatID); err != nil {
			return err
		}
		return ErrChatEnded
	case doRequestFiles:
		return d.agentRequestFiles(ctx, chatID, st.Text)
	case doAwaitMessage:
		_, err := d.await(ctx, chatID, obsMessage, cur)
		return err
	case doAwaitFile:
		_, err := d.await(ctx, chatID, obsFile, cur)
		return err
	case doScreenShare:
		if _, err := d.AgentRequestScreenShareAsync(ctx, chatID); err != nil {
			return err
		}
		_, err := d.await(ctx, chatID, obsShare, cur)
		return err
	case doEndScreenShare:
		return d.agentEndScreenShare(ctx, chatID)
	}
	return fmt.Errorf("step %q: %w", st.Do, ErrBadRequest)
}

// ParseScenario reads a scenario: Options as JSON (agents with scripts,
// capabilities, queue settings, faults). Unknown members are errors, so a
// typo in a scenario file is found at start.
func ParseScenario(b []byte) (Options, error) {
	var o Options
	dec := jsonStrictDecoder(b)
	if err := dec.Decode(&o); err != nil {
		return Options{}, fmt.Errorf("mockdesk: scenario: %v: %w", err, errBadJSON)
	}
	if dec.More() {
		return Options{}, fmt.Errorf("mockdesk: scenario: data after the JSON value: %w", errBadJSON)
	}
	for _, a := range o.Agents {
		if err := a.Script.validate(); err != nil {
			return Options{}, fmt.Errorf("mockdesk: scenario: agent %s: %w", a.Profile.ID, err)
		}
	}
	return o, nil
}

// LoadScenario reads a scenario file.
func LoadScenario(path string) (Options, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Options{}, fmt.Errorf("mockdesk: load scenario: %w", err)
	}
	return ParseScenario(b)
}
