package mockdesk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// The agent side: what a test, a script or the console does as the agent.
// Every method takes the chat id and uses only core types, strings and
// ints, so a conformance suite in core can describe them with an interface
// of its own without importing this package.

// agentAct runs f on a chat under the lock, wrapping its error once.
func (d *Desk) agentAct(ctx context.Context, op, chatID string, f func(*chat) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mockdesk: agent %s in chat %s: %w", op, chatID, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.chats[chatID]
	if !ok {
		return fmt.Errorf("mockdesk: agent %s: chat %q: %w", op, chatID, ErrChatNotFound)
	}
	if c.state == StateEnded {
		return fmt.Errorf("mockdesk: agent %s in chat %s: %w", op, chatID, ErrChatEnded)
	}
	if err := f(c); err != nil {
		return fmt.Errorf("mockdesk: agent %s in chat %s: %w", op, chatID, err)
	}
	return nil
}

func needAgent(c *chat) error {
	if c.state != StateActive || c.profile == nil {
		return ErrNoAgent
	}
	return nil
}

// AgentJoin puts an agent into a waiting, transferring or agent-left chat:
// the customer gets agent_joined. A profile whose id is on the roster
// takes one of that agent's seats.
func (d *Desk) AgentJoin(ctx context.Context, chatID string, profile servicedesk.AgentProfile) error {
	return d.agentAct(ctx, "join", chatID, func(c *chat) error {
		if profile.ID == "" {
			return fmt.Errorf("agent profile without id: %w", ErrBadRequest)
		}
		if c.state == StateActive {
			return fmt.Errorf("agent %s already in the chat: %w", c.profile.ID, ErrWrongState)
		}
		return d.joinLocked(c, profile)
	})
}

func (d *Desk) joinLocked(c *chat, profile servicedesk.AgentProfile) error {
	if profile.UserType == "" {
		profile.UserType = servicedesk.UserHuman
	}
	if c.state == StateQueued {
		d.dequeueLocked(c)
	}
	if c.scriptFor != nil {
		c.scriptFor.reserved--
		c.scriptFor = nil
	}
	c.agent = d.agentByID(profile.ID)
	if c.agent != nil {
		c.agent.chats[c.id] = c
	}
	c.profile = &profile
	c.transferTo = nil
	c.state = StateActive
	p := profile
	d.emit(c, deskproto.Event{Type: deskproto.EventAgentJoined, Agent: &p})
	c.addLine(TranscriptEntry{From: "system", Text: p.Nickname + " joined."})
	d.updateQueueLocked()
	return nil
}

// AgentSay sends a message (text with markdown, image, link button, …) to
// the customer and returns its message id.
func (d *Desk) AgentSay(ctx context.Context, chatID string, msg servicedesk.MessageResponse) (string, error) {
	var id string
	err := d.agentAct(ctx, "say", chatID, func(c *chat) error {
		if err := needAgent(c); err != nil {
			return err
		}
		if len(msg.Output.Generic) == 0 {
			return fmt.Errorf("message without items: %w", ErrBadRequest)
		}
		c.agentMsgs++
		id = fmt.Sprintf("am_%s_%d", c.id[3:], c.agentMsgs)
		m := msg
		if m.ID == "" {
			m.ID = id
		}
		p := *c.profile
		d.emit(c, deskproto.Event{Type: deskproto.EventAgentMessage, MessageID: id, Message: &m, Agent: &p})
		c.addLine(TranscriptEntry{From: "agent", ID: id, Text: m.PlainText(), Message: &m})
		return nil
	})
	return id, err
}

// AgentTyping shows or hides the agent's typing indicator.
func (d *Desk) AgentTyping(ctx context.Context, chatID string, typing bool) error {
	return d.agentAct(ctx, "typing", chatID, func(c *chat) error {
		if err := needAgent(c); err != nil {
			return err
		}
		d.emit(c, deskproto.Event{Type: deskproto.EventAgentTyping, Typing: boolPtr(typing)})
		return nil
	})
}

// AgentRead marks every customer message so far as read by the agent.
func (d *Desk) AgentRead(ctx context.Context, chatID string) error {
	return d.agentAct(ctx, "read", chatID, func(c *chat) error {
		if err := needAgent(c); err != nil {
			return err
		}
		if len(c.messages) == 0 {
			return fmt.Errorf("no customer message to read: %w", ErrWrongState)
		}
		d.emit(c, deskproto.Event{Type: deskproto.EventAgentRead, ReadMessageID: c.messages[len(c.messages)-1].ID})
		return nil
	})
}

// agentTransfer hands the chat to another agent: the customer gets
// transfer_started naming it, then agent_joined when it joins. A scripted
// roster agent joins by itself; any other must be joined with AgentJoin.
func (d *Desk) agentTransfer(ctx context.Context, chatID string, to servicedesk.AgentProfile) error {
	return d.agentAct(ctx, "transfer", chatID, func(c *chat) error {
		if err := needAgent(c); err != nil {
			return err
		}
		if to.ID == "" {
			return fmt.Errorf("transfer target without id: %w", ErrBadRequest)
		}
		target := d.agentByID(to.ID)
		if target != nil && to.Nickname == "" {
			to = target.cfg.Profile
		}
		if to.UserType == "" {
			to.UserType = servicedesk.UserHuman
		}
		p := to
		d.emit(c, deskproto.Event{Type: deskproto.EventTransferStarted, Agent: &p})
		c.addLine(TranscriptEntry{From: "system", Text: "Transferring to " + strOr(p.Nickname, p.ID) + "."})
		d.releaseLocked(c)
		c.state = StateTransferring
		c.transferTo = &p
		if target != nil && target.cfg.Script != nil {
			d.assignScriptLocked(c, target)
		}
		return nil
	})
}

// agentLeave takes the agent out; the chat stays open (agent_left).
func (d *Desk) agentLeave(ctx context.Context, chatID string) error {
	return d.agentAct(ctx, "leave", chatID, func(c *chat) error {
		if err := needAgent(c); err != nil {
			return err
		}
		p := *c.profile
		c.share, c.shareState = "", ""
		d.releaseLocked(c)
		c.state = StateAgentLeft
		d.emit(c, deskproto.Event{Type: deskproto.EventAgentLeft, Agent: &p})
		c.addLine(TranscriptEntry{From: "system", Text: p.Nickname + " left."})
		return nil
	})
}

// agentEnd ends the chat as the agent: agent_ended, then chat_ended.
func (d *Desk) agentEnd(ctx context.Context, chatID string) error {
	return d.agentAct(ctx, "end", chatID, func(c *chat) error {
		if c.profile != nil {
			p := *c.profile
			d.emit(c, deskproto.Event{Type: deskproto.EventAgentEnded, Agent: &p})
		}
		d.endLocked(c, EndedByAgent, "agent_ended")
		return nil
	})
}

// DeskEnd ends the chat on the desk's behalf (an administrator, a timeout).
func (d *Desk) DeskEnd(ctx context.Context, chatID, reason string) error {
	return d.agentAct(ctx, "desk end", chatID, func(c *chat) error {
		d.endLocked(c, EndedByDesk, strOr(reason, "desk_ended"))
		return nil
	})
}

// AgentRequestScreenShareAsync asks the customer to share their screen and
// returns the request id without waiting for the answer.
func (d *Desk) AgentRequestScreenShareAsync(ctx context.Context, chatID string) (string, error) {
	var id string
	err := d.agentAct(ctx, "screen share request", chatID, func(c *chat) error {
		if err := needAgent(c); err != nil {
			return err
		}
		if c.shareState != "" {
			return fmt.Errorf("screen share %s already %s: %w", c.share, c.shareState, ErrWrongState)
		}
		id = newID("ss_", 6)
		c.share, c.shareState = id, "requested"
		d.emit(c, deskproto.Event{Type: deskproto.EventScreenShareRequested, ScreenShareID: id})
		return nil
	})
	return id, err
}

// agentRequestScreenShare asks the customer to share their screen and
// waits for the answer: accepted, declined or cancelled.
func (d *Desk) agentRequestScreenShare(ctx context.Context, chatID string) (servicedesk.ScreenShareState, error) {
	d.skipObservations(chatID, obsShare)
	if _, err := d.AgentRequestScreenShareAsync(ctx, chatID); err != nil {
		return "", err
	}
	o, err := d.await(ctx, chatID, obsShare, nil)
	if err != nil {
		return "", err
	}
	return o.share, nil
}

// agentEndScreenShare stops an active share, or withdraws a pending request
// (the customer gets screen_share_ended with state ended or cancelled).
func (d *Desk) agentEndScreenShare(ctx context.Context, chatID string) error {
	return d.agentAct(ctx, "end screen share", chatID, func(c *chat) error {
		if c.shareState == "" {
			return ErrNoScreenShare
		}
		state := servicedesk.ScreenShareEnded
		if c.shareState == "requested" {
			state = servicedesk.ScreenShareCancelled
		}
		id := c.share
		c.share, c.shareState = "", ""
		d.emit(c, deskproto.Event{Type: deskproto.EventScreenShareEnded, ScreenShareID: id, ScreenShareState: state})
		return nil
	})
}

// SetChatCapabilities changes what the customer may upload in one chat and
// tells it (a capabilities event).
func (d *Desk) SetChatCapabilities(ctx context.Context, chatID string, caps servicedesk.Capabilities) error {
	return d.agentAct(ctx, "set capabilities", chatID, func(c *chat) error {
		c.caps = caps
		d.emit(c, deskproto.Event{Type: deskproto.EventCapabilities, Capabilities: &caps})
		return nil
	})
}

// agentRequestFiles asks the customer for files: it turns uploads on for
// the chat (if they were off) and says text.
func (d *Desk) agentRequestFiles(ctx context.Context, chatID, text string) error {
	err := d.agentAct(ctx, "request files", chatID, func(c *chat) error {
		if err := needAgent(c); err != nil {
			return err
		}
		if !c.caps.AllowFileUploads {
			c.caps.AllowFileUploads = true
			caps := c.caps
			d.emit(c, deskproto.Event{Type: deskproto.EventCapabilities, Capabilities: &caps})
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = d.AgentSay(ctx, chatID, servicedesk.TextResponse(strOr(text, "Could you upload the file here?")))
	return err
}

// The awaits: each returns the next thing of its kind the customer did
// that this control API has not returned before, waiting for it.

// AwaitChatID waits for the next chat started (in start order) that no
// earlier AwaitChatID/AwaitChat returned.
func (d *Desk) AwaitChatID(ctx context.Context) (string, error) {
	for {
		d.mu.Lock()
		if d.handed < len(d.order) {
			c := d.order[d.handed]
			d.handed++
			d.mu.Unlock()
			return c.id, nil
		}
		ch := d.changed
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return "", fmt.Errorf("mockdesk: await chat: %w", ctx.Err())
		case <-d.ctx.Done():
			return "", fmt.Errorf("mockdesk: await chat: %w", ErrClosed)
		}
	}
}

// AwaitCustomerMessage returns the next message the customer sent and the
// desk stored. Its ID is the customer's own message id (MessageRequest.ID),
// end to end. Messages the desk refused are skipped.
func (d *Desk) AwaitCustomerMessage(ctx context.Context, chatID string) (servicedesk.MessageRequest, error) {
	for {
		m, err := d.AwaitCustomerMessageInfo(ctx, chatID)
		if err != nil || m.Rejected == "" {
			return m.Request, err
		}
	}
}

// AwaitCustomerMessageInfo returns the next message the customer sent,
// stored or refused (Rejected says why), with its idempotency key and the
// ids of the files it announced.
func (d *Desk) AwaitCustomerMessageInfo(ctx context.Context, chatID string) (CustomerMessage, error) {
	o, err := d.await(ctx, chatID, obsMessage, nil)
	return o.message, err
}

// AwaitFileOutcome waits until the file fileID of a chat was uploaded and
// checked, and returns it: accepted (Open reads it) or rejected (IsError,
// ErrorMessage). It does not move the AwaitCustomerFile position.
func (d *Desk) AwaitFileOutcome(ctx context.Context, chatID, fileID string) (servicedesk.FileUpload, error) {
	for {
		d.mu.Lock()
		c, ok := d.chats[chatID]
		if !ok {
			d.mu.Unlock()
			return servicedesk.FileUpload{}, fmt.Errorf("mockdesk: await file %s: chat %q: %w", fileID, chatID, ErrChatNotFound)
		}
		for _, f := range c.fileLog {
			if f.ID == fileID {
				d.mu.Unlock()
				return f, nil
			}
		}
		ch := c.changed
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return servicedesk.FileUpload{}, fmt.Errorf("mockdesk: await file %s in chat %s: %w", fileID, chatID, ctx.Err())
		case <-d.ctx.Done():
			return servicedesk.FileUpload{}, fmt.Errorf("mockdesk: await file %s in chat %s: %w", fileID, chatID, ErrClosed)
		}
	}
}

// AwaitCustomerTyping returns the customer's next typing change.
func (d *Desk) AwaitCustomerTyping(ctx context.Context, chatID string) (bool, error) {
	o, err := d.await(ctx, chatID, obsTyping, nil)
	return o.typing, err
}

// AwaitCustomerRead returns the id of the agent message the customer read
// next (the id from the agent_message event).
func (d *Desk) AwaitCustomerRead(ctx context.Context, chatID string) (string, error) {
	o, err := d.await(ctx, chatID, obsRead, nil)
	return o.readID, err
}

// AwaitCustomerFile returns the next file the customer uploaded, accepted
// (Status success, Open reads it) or rejected (IsError, ErrorMessage says
// why). ID is the customer's file id.
func (d *Desk) AwaitCustomerFile(ctx context.Context, chatID string) (servicedesk.FileUpload, error) {
	o, err := d.await(ctx, chatID, obsFile, nil)
	return o.file, err
}

// AwaitScreenShare returns the customer's next screen share change:
// accepted, declined or cancelled for a request, ended when they stop.
func (d *Desk) AwaitScreenShare(ctx context.Context, chatID string) (servicedesk.ScreenShareState, error) {
	o, err := d.await(ctx, chatID, obsShare, nil)
	return o.share, err
}

// awaitChatEnded waits for the chat to end and says who ended it:
// "customer", "agent" or "desk".
func (d *Desk) awaitChatEnded(ctx context.Context, chatID string) (string, error) {
	o, err := d.await(ctx, chatID, obsEnded, nil)
	return o.endedBy, err
}

// skipObservations moves the control cursor of kind to the end, so that a
// new request waits only for answers given after it.
func (d *Desk) skipObservations(chatID, kind string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.chats[chatID]; ok {
		c.ctrl[kind] = len(c.obs)
	}
}

// await returns the next observation of kind at or after cur (the control
// API's cursor when cur is nil) and moves the cursor past it.
func (d *Desk) await(ctx context.Context, chatID, kind string, cur cursor) (observation, error) {
	for {
		d.mu.Lock()
		c, ok := d.chats[chatID]
		if !ok {
			d.mu.Unlock()
			return observation{}, fmt.Errorf("mockdesk: await %s: chat %q: %w", kind, chatID, ErrChatNotFound)
		}
		if cur == nil {
			cur = c.ctrl
		}
		for i := cur[kind]; i < len(c.obs); i++ {
			if c.obs[i].kind == kind {
				cur[kind] = i + 1
				o := c.obs[i]
				d.mu.Unlock()
				return o, nil
			}
		}
		cur[kind] = len(c.obs)
		ended := c.state == StateEnded
		ch := c.changed
		d.mu.Unlock()
		if ended {
			return observation{}, fmt.Errorf("mockdesk: await %s in chat %s: %w", kind, chatID, ErrChatEnded)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return observation{}, fmt.Errorf("mockdesk: await %s in chat %s: %w", kind, chatID, ctx.Err())
		case <-d.ctx.Done():
			return observation{}, fmt.Errorf("mockdesk: await %s in chat %s: %w", kind, chatID, ErrClosed)
		}
	}
}

// ChatSummary returns what the bot handed over for the agent (the
// connect_to_agent item's summary_message_to_agent as text, else its
// message_to_human_agent).
func (d *Desk) ChatSummary(chatID string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.chats[chatID]
	if !ok {
		return "", fmt.Errorf("mockdesk: summary: chat %q: %w", chatID, ErrChatNotFound)
	}
	return c.summary, nil
}

// ChatState returns the chat's state (StateQueued, StateActive, …).
func (d *Desk) ChatState(chatID string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.chats[chatID]
	if !ok {
		return "", fmt.Errorf("mockdesk: state: chat %q: %w", chatID, ErrChatNotFound)
	}
	return c.state, nil
}

// Events returns a copy of a chat's event log.
func (d *Desk) Events(chatID string) ([]deskproto.Event, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.chats[chatID]
	if !ok {
		return nil, fmt.Errorf("mockdesk: events: chat %q: %w", chatID, ErrChatNotFound)
	}
	return append([]deskproto.Event(nil), c.events...), nil
}

// CustomerMessages returns every message stored for a chat, in order.
func (d *Desk) CustomerMessages(chatID string) ([]CustomerMessage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.chats[chatID]
	if !ok {
		return nil, fmt.Errorf("mockdesk: messages: chat %q: %w", chatID, ErrChatNotFound)
	}
	return append([]CustomerMessage(nil), c.messages...), nil
}

// Files returns the files stored for a chat.
func (d *Desk) Files(chatID string) ([]StoredFile, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.chats[chatID]
	if !ok {
		return nil, fmt.Errorf("mockdesk: files: chat %q: %w", chatID, ErrChatNotFound)
	}
	return append([]StoredFile(nil), c.files...), nil
}

// fileUpload describes a stored or rejected file with core's type.
func fileUpload(id, name, mimeType string, size int64, content []byte, reason string) servicedesk.FileUpload {
	fu := servicedesk.FileUpload{ID: id, File: servicedesk.File{Name: name, Size: size, Type: mimeType}, Status: servicedesk.FileSuccess}
	if reason != "" {
		fu.IsError, fu.ErrorMessage, fu.Status = true, reason, servicedesk.FileComplete
		return fu
	}
	fu.File.Open = func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content)), nil
	}
	return fu
}

// AgentChat is a handle on one chat for a test acting as the agent. It is
// a thin layer over the Desk's Agent…/Await… methods.
type AgentChat struct {
	d  *Desk
	id string
}

// AwaitChat waits for the next new chat and returns a handle on it.
func (d *Desk) AwaitChat(ctx context.Context) (*AgentChat, error) {
	id, err := d.AwaitChatID(ctx)
	if err != nil {
		return nil, err
	}
	return &AgentChat{d: d, id: id}, nil
}

// Chat returns a handle on an existing chat.
func (d *Desk) Chat(chatID string) (*AgentChat, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.chats[chatID]; !ok {
		return nil, fmt.Errorf("mockdesk: chat %q: %w", chatID, ErrChatNotFound)
	}
	return &AgentChat{d: d, id: chatID}, nil
}

// ID returns the chat id.
func (c *AgentChat) ID() string { return c.id }

// Summary returns the bot's summary for the agent.
func (c *AgentChat) Summary() string { s, _ := c.d.ChatSummary(c.id); return s }

// State returns the chat's state.
func (c *AgentChat) State() string { s, _ := c.d.ChatState(c.id); return s }

// Events returns the chat's event log.
func (c *AgentChat) Events() []deskproto.Event { e, _ := c.d.Events(c.id); return e }

// Join joins the chat as profile.
func (c *AgentChat) Join(ctx context.Context, p servicedesk.AgentProfile) error {
	return c.d.AgentJoin(ctx, c.id, p)
}

// Say sends a message and returns its id.
func (c *AgentChat) Say(ctx context.Context, m servicedesk.MessageResponse) (string, error) {
	return c.d.AgentSay(ctx, c.id, m)
}

// SayText sends a text (markdown) message and returns its id.
func (c *AgentChat) SayText(ctx context.Context, text string) (string, error) {
	return c.d.AgentSay(ctx, c.id, servicedesk.TextResponse(text))
}

// Typing shows or hides the agent typing.
func (c *AgentChat) Typing(ctx context.Context, on bool) error { return c.d.AgentTyping(ctx, c.id, on) }

// Read marks the customer's messages read.
func (c *AgentChat) Read(ctx context.Context) error { return c.d.AgentRead(ctx, c.id) }

// Transfer hands the chat to another agent.
func (c *AgentChat) Transfer(ctx context.Context, to servicedesk.AgentProfile) error {
	return c.d.agentTransfer(ctx, c.id, to)
}

// Leave leaves the chat open without an agent.
func (c *AgentChat) Leave(ctx context.Context) error { return c.d.agentLeave(ctx, c.id) }

// End ends the chat as the agent.
func (c *AgentChat) End(ctx context.Context) error { return c.d.agentEnd(ctx, c.id) }

// RequestScreenShare asks for the customer's screen and waits for the answer.
func (c *AgentChat) RequestScreenShare(ctx context.Context) (servicedesk.ScreenShareState, error) {
	return c.d.agentRequestScreenShare(ctx, c.id)
}

// EndScreenShare ends an active share or withdraws a request.
func (c *AgentChat) EndScreenShare(ctx context.Context) error {
	return c.d.agentEndScreenShare(ctx, c.id)
}

// RequestFiles asks the customer for files.
func (c *AgentChat) requestFiles(ctx context.Context, text string) error {
	return c.d.agentRequestFiles(ctx, c.id, text)
}

// AwaitCustomerMessage waits for the customer's next message.
func (c *AgentChat) AwaitCustomerMessage(ctx context.Context) (servicedesk.MessageRequest, error) {
	return c.d.AwaitCustomerMessage(ctx, c.id)
}

// AwaitCustomerTyping waits for the customer's next typing change.
func (c *AgentChat) AwaitCustomerTyping(ctx context.Context) (bool, error) {
	return c.d.AwaitCustomerTyping(ctx, c.id)
}

// AwaitCustomerRead waits for the customer's next read receipt.
func (c *AgentChat) AwaitCustomerRead(ctx context.Context) (string, error) {
	return c.d.AwaitCustomerRead(ctx, c.id)
}

// AwaitFile waits for the customer's next upload (accepted or rejected).
func (c *AgentChat) AwaitFile(ctx context.Context) (servicedesk.FileUpload, error) {
	return c.d.AwaitCustomerFile(ctx, c.id)
}

// AwaitScreenShare waits for the customer's next screen share change.
func (c *AgentChat) AwaitScreenShare(ctx context.Context) (servicedesk.ScreenShareState, error) {
	return c.d.AwaitScreenShare(ctx, c.id)
}

// AwaitEnded waits for the chat to end and says who ended it.
func (c *AgentChat) AwaitEnded(ctx context.Context) (string, error) {
	return c.d.awaitChatEnded(ctx, c.id)
}

// pause waits for d or until ctx or the desk is done.
func (d *Desk) pause(ctx context.Context, wait time.Duration) error {
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-d.ctx.Done():
		return ErrClosed
	}
}

// Desk-side behaviours a conformance suite asks for.

// RefuseNextChat makes the desk refuse the next chat started: it gets an
// error event (code "refused", reason) and ends at once.
func (d *Desk) RefuseNextChat(ctx context.Context, reason string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mockdesk: refuse next chat: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.refuse = strOr(reason, "The desk cannot take your chat now.")
	return nil
}

// RejectNextMessage makes the desk refuse the chat's next customer message
// (422 message_rejected with reason; nothing stored).
func (d *Desk) RejectNextMessage(ctx context.Context, chatID, reason string) error {
	return d.agentAct(ctx, "reject next message", chatID, func(c *chat) error {
		c.rejectNext = strOr(reason, "The message could not be delivered.")
		return nil
	})
}

// FailNextUpload makes the chat's next upload that passes the limits fail
// anyway (a virus scan, say): file_status error with reason.
func (d *Desk) FailNextUpload(ctx context.Context, chatID, reason string) error {
	return d.agentAct(ctx, "fail next upload", chatID, func(c *chat) error {
		c.failUpload = strOr(reason, "The file could not be scanned.")
		return nil
	})
}

// QueueUpdate sends the waiting customer a position and a wait in minutes
// of the caller's choosing (negative: left out).
func (d *Desk) QueueUpdate(ctx context.Context, chatID string, position, waitMinutes int) error {
	return d.agentAct(ctx, "queue update", chatID, func(c *chat) error {
		e := deskproto.Event{Type: deskproto.EventQueueUpdate}
		if position >= 0 {
			e.Position = intPtr(position)
		}
		if waitMinutes >= 0 {
			e.WaitMinutes = intPtr(waitMinutes)
		}
		d.emit(c, e)
		return nil
	})
}

// DropConnections cuts the customer side's live connections to a chat as a
// network failure would: WebSockets close without a close frame and
// pending long polls answer 503. The chat itself goes on; a client
// resumes from its last sequence number.
func (d *Desk) DropConnections(ctx context.Context, chatID string) error {
	var conns []*wsConn
	err := d.agentAct(ctx, "drop connections", chatID, func(c *chat) error {
		for s := range c.conns {
			conns = append(conns, s)
		}
		close(c.dropped)
		c.dropped = make(chan struct{})
		c.droppedAt = time.Now()
		c.partitionUntil = time.Now().Add(time.Duration(d.opts.DropPartition))
		return nil
	})
	for _, s := range conns {
		_ = s.conn.NetConn().Close()
	}
	return err
}

// SetAgentsOnline takes every roster agent on or off line.
func (d *Desk) SetAgentsOnline(ctx context.Context, online bool) error {
	for _, a := range d.Agents() {
		if err := d.SetAgentOnline(ctx, a.Profile.ID, online); err != nil {
			return err
		}
	}
	return nil
}
