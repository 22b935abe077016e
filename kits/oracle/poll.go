package oracle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"math"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/kits/oracle/internal/wire"
)

// follow starts the one getMessages loop of session s and returns a
// channel closed at its first outcome (an answer, or the engagement gone).
func (d *desk) follow(s *session) <-chan struct{} {
	ctx, cancel := context.WithCancel(d.Life.Context())
	first, done := make(chan struct{}), make(chan struct{})
	d.mu.Lock()
	d.gen++
	d.s, d.stop, d.done = s, cancel, done
	gen := d.gen
	d.mu.Unlock()
	if !d.Life.Go(func() { defer close(done); d.poll(ctx, gen, s, first) }) {
		cancel()
		close(done)
	}
	return first
}

// unfollow stops the loop of the chat before and waits until its
// getMessages is over, so that a new one is never in flight beside it.
func (d *desk) unfollow(ctx context.Context) error {
	d.mu.Lock()
	stop, done := d.stop, d.done
	d.s, d.stop, d.agent = nil, nil, ""
	d.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("oracle: stop following the chat before: %w", ctx.Err())
	}
}

// poll keeps exactly one getMessages of the session in flight: the next
// is sent only once the last was answered (or failed) and its messages
// were delivered. Messages are delivered in sequenceNumber order, each
// once: a repeat is dropped, one after a gap waits for it.
func (d *desk) poll(ctx context.Context, gen int, s *session, first chan struct{}) {
	once := func() {
		select {
		case <-first:
		default:
			close(first)
		}
	}
	defer once()
	seq := stream.NewSequencer[wire.Message](d.st.State().LastSeq, 0)
	behind := 0 // answers a gap stayed open through
	for attempt := 0; ctx.Err() == nil && !d.Ended(); {
		var raw []byte
		err := s.call(ctx, "getMessages", http.MethodPost, "getMessages", struct{}{}, &raw, true)
		var msgs []wire.Message
		if err == nil {
			msgs, err = wire.DecodeMessages(raw)
		}
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, servicedesk.ErrChatNotFound):
			// 404 (the session is gone) or 409 (the engagement concluded).
			d.log.Info("oracle: the engagement is over", "err", err)
			once()
			d.over(gen, "The chat is over.")
			return
		case err != nil:
			if servicedesk.CodeOf(err) == servicedesk.CodeUnavailable {
				d.outage.Failed(&d.Chat)
			}
			d.log.Debug("oracle: getMessages failed", "err", err)
			wait := d.k.cfg.Backoff.Delay(attempt)
			if rd := retry.Delayer(nil); errors.As(err, &rd) && rd.RetryDelay() > 0 {
				wait = min(rd.RetryDelay(), cmp.Or(d.k.cfg.Backoff.MaxRetryAfter, d.k.cfg.Backoff.Max))
			}
			if !retry.Sleep(ctx, wait) {
				return
			}
			attempt++
			continue
		}
		attempt = 0
		d.log.Debug("oracle: getMessages answered", "messages", len(msgs), "last_seq", seq.Last())
		back := d.outage.Answered()
		var ready []wire.Message
		gap := false
		for _, m := range msgs {
			r, g := seq.Push(m.Seq(), m)
			ready, gap = append(ready, r...), g
		}
		if behind++; !gap {
			behind = 0
		} else if behind > 1 {
			// getMessages hands each message out once: one missing after
			// the next answer too will not come.
			d.log.Warn("oracle: gave up on missing messages", "after", seq.Last())
			ready, behind = append(ready, seq.Skip()...), 0
		}
		for _, m := range ready {
			d.deliver(gen, m)
		}
		if back {
			d.outage.Over(&d.Chat)
		}
		once()
	}
}

// current reports whether gen is still the chat followed.
func (d *desk) current(gen int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gen == gen && d.s != nil
}

// deliver acts on one system message, in order.
func (d *desk) deliver(gen int, m wire.Message) {
	if !d.current(gen) || d.Ended() {
		return
	}
	st := d.st.Merge(func(st *saved) map[string]any {
		st.LastSeq = max(st.LastSeq, m.Seq())
		return map[string]any{"last_seq": st.LastSeq}
	})
	own := m.Client() != "" && m.Client() == st.ClientID
	switch m.Name {
	case wire.MsgWaitInfo:
		var a servicedesk.AgentAvailability
		a.PositionInQueue = m.Position
		if w := m.ExpectedWaitTimeSeconds; w != nil {
			minutes := math.Ceil(*w / 60)
			a.EstimatedWaitTime = &minutes
		}
		d.Callback.UpdateAgentAvailability(a)
	case wire.MsgAdded:
		if own {
			return
		}
		p := d.profile(m.Client(), m.DisplayName)
		d.mu.Lock()
		d.agent = p.ID
		d.mu.Unlock()
		d.st.Merge(func(st *saved) map[string]any {
			st.Agent, st.AgentName = m.Client(), m.DisplayName
			return map[string]any{"agent": st.Agent, "agent_name": st.AgentName}
		})
		d.JoinAgent(p, d.log)
		if g := strings.TrimSpace(m.Greeting); g != "" {
			d.show(m, g)
		}
	case wire.MsgPosted:
		if !own {
			d.AgentTyping.Off()
			d.show(m, m.Body)
		}
	case wire.MsgActivity:
		if own {
			return
		}
		if m.Mode == wire.ModeResponding {
			d.AgentTyping.On(typingFor)
		} else {
			d.AgentTyping.Off()
		}
	case wire.MsgLeft:
		if own || m.Client() != st.Agent {
			return
		}
		d.AgentTyping.Off()
		if m.DisconnectReason == wire.LeftTransferredToAgent {
			d.Callback.BeginTransferToAnotherAgent(nil)
		} else {
			d.Callback.AgentLeftChat()
		}
	case wire.MsgConcluded:
		d.over(gen, concludedText(m.Reason))
	default:
		d.log.Info("oracle: ignored a system message", "message_name", m.Name)
	}
}

// typingFor is how long an agent shows typing without a LISTENING.
const typingFor = 30 * time.Second

// over ends the chat the desk concluded (or lost) and forgets it.
func (d *desk) over(gen int, reason string) {
	if d.current(gen) {
		d.EndedByDesk(reason, false)
		d.forget(gen)
	}
}

func concludedText(reason string) string {
	switch reason {
	case "NO_AGENTS_AVAILABLE", "QUEUE_TIMEOUT":
		return "No agent is available right now."
	}
	return "The chat was concluded (" + cmp.Or(reason, "no reason given") + ")."
}

func (d *desk) profile(clientID, name string) servicedesk.AgentProfile {
	p := servicedesk.AgentProfile{ID: cmp.Or(clientID, "agent"), Nickname: cmp.Or(name, "Agent"), UserType: servicedesk.UserHuman}
	if fn := d.k.cfg.AgentProfile; fn != nil {
		p = fn(d.Life.Context(), p)
	}
	return p
}

// show sends an agent's text (rich text as plain text with its line
// breaks) to the customer.
func (d *desk) show(m wire.Message, body string) {
	if m.RichText {
		body = plain(body)
	}
	items := servicedesk.MarkdownItems(body)
	if len(items) == 0 {
		return
	}
	d.mu.Lock()
	agent := d.agent
	d.mu.Unlock()
	d.Callback.SendMessageToUser(servicedesk.NewResponse(items...), agent)
}

var (
	breaks = regexp.MustCompile(`(?i)<br\s*/?>|</p>`)
	tags   = regexp.MustCompile(`<[^>]*>`)
)

// plain reads a rich text body: its breaks as new lines, without tags.
func plain(s string) string {
	s = breaks.ReplaceAllString(s, "\n")
	return strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(s, "")))
}
