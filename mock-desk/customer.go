package mockdesk

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// The customer side of the protocol, shared by every transport. Each method
// checks the chat token, changes the chat under Desk.mu, and records an
// observation for the control API and scripts.

func tokenEqual(want, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("mockdesk: encode %T: %v", v, err))
	}
	return b
}

func checkWebhookURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook_url %q: %w", s, ErrBadRequest)
	}
	return nil
}

const (
	maxIdempotencyKey  = 255
	maxFilesPerMessage = 20
)

// sendMessage stores a customer message once per idempotency key; a resent
// key with the same message answers the first result, with a different one
// fails with ErrIdempotencyReused.
func (d *Desk) sendMessage(ctx context.Context, chatID, token, key string, msg servicedesk.MessageRequest, fileIDs []string) (deskproto.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return deskproto.SendResult{}, fmt.Errorf("mockdesk: send message in chat %s: %w", chatID, err)
	}
	if len(key) > maxIdempotencyKey {
		return deskproto.SendResult{}, fmt.Errorf("mockdesk: send message in chat %s: idempotency key longer than %d: %w", chatID, maxIdempotencyKey, ErrBadRequest)
	}
	if len(fileIDs) > maxFilesPerMessage {
		return deskproto.SendResult{}, fmt.Errorf("mockdesk: send message in chat %s: more than %d file_ids: %w", chatID, maxFilesPerMessage, ErrBadRequest)
	}
	if msg.Input.Text == "" && msg.Input.MessageType != servicedesk.InputEvent && len(fileIDs) == 0 {
		return deskproto.SendResult{}, fmt.Errorf("mockdesk: send message in chat %s: empty input.text: %w", chatID, ErrBadRequest)
	}
	sum := sha256.Sum256(mustJSON(deskproto.Message{Message: msg, FileIDs: fileIDs}))
	hash := hex.EncodeToString(sum[:])
	d.mu.Lock()
	defer d.mu.Unlock()
	c, err := d.lookup(chatID, token)
	if err != nil {
		return deskproto.SendResult{}, fmt.Errorf("mockdesk: send message: %w", err)
	}
	if key != "" {
		if prev, ok := c.idem[key]; ok {
			if prev.hash != hash {
				return deskproto.SendResult{}, fmt.Errorf("mockdesk: send message in chat %s, key %q: %w", chatID, key, ErrIdempotencyReused)
			}
			r := prev.result
			r.Replayed = true
			return r, nil
		}
	}
	if c.state == StateEnded {
		return deskproto.SendResult{}, fmt.Errorf("mockdesk: send message in chat %s: %w", chatID, ErrChatEnded)
	}
	if c.rejectNext != "" {
		reason := c.rejectNext
		c.rejectNext = ""
		d.observe(c, observation{kind: obsMessage, message: CustomerMessage{Request: msg, Time: time.Now().UTC(), IdempotencyKey: key, FileIDs: fileIDs, Rejected: reason}})
		return deskproto.SendResult{}, fmt.Errorf("mockdesk: send message in chat %s: %s: %w", chatID, reason, ErrMessageRejected)
	}
	m := CustomerMessage{ID: newID("cm_", 8), Request: msg, Time: time.Now().UTC(), IdempotencyKey: key, FileIDs: fileIDs}
	c.messages = append(c.messages, m)
	res := deskproto.SendResult{MessageID: m.ID, IdempotencyKey: key, CreatedAt: m.Time}
	if key != "" {
		c.idem[key] = idemEntry{hash: hash, result: res}
	}
	c.addLine(TranscriptEntry{From: "customer", ID: m.ID, Text: msg.Input.Text})
	d.observe(c, observation{kind: obsMessage, message: m})
	return res, nil
}

func (d *Desk) customerTyping(ctx context.Context, chatID, token string, typing bool) error {
	return d.customerAct(ctx, "typing", chatID, token, func(c *chat) error {
		if c.typing == typing {
			return nil
		}
		c.typing = typing
		d.observe(c, observation{kind: obsTyping, typing: typing})
		return nil
	})
}

// customerRead marks agent messages read up to messageID (all when empty).
func (d *Desk) customerRead(ctx context.Context, chatID, token, messageID string) error {
	return d.customerAct(ctx, "read", chatID, token, func(c *chat) error {
		if messageID == "" {
			for i := len(c.events) - 1; i >= 0; i-- {
				if c.events[i].Type == deskproto.EventAgentMessage {
					messageID = c.events[i].MessageID
					break
				}
			}
		} else if !c.hasAgentMessage(messageID) {
			return fmt.Errorf("message %q is no agent message of this chat: %w", messageID, ErrBadRequest)
		}
		if messageID == "" || messageID == c.lastRead {
			return nil
		}
		c.lastRead = messageID
		d.observe(c, observation{kind: obsRead, readID: messageID})
		return nil
	})
}

func (c *chat) hasAgentMessage(id string) bool {
	for _, e := range c.events {
		if e.Type == deskproto.EventAgentMessage && e.MessageID == id {
			return true
		}
	}
	return false
}

func (d *Desk) customerEnd(ctx context.Context, chatID, token string) error {
	return d.customerAct(ctx, "end", chatID, token, func(c *chat) error {
		d.endLocked(c, EndedByCustomer, "customer_ended")
		return nil
	})
}

// endLocked ends c once: agent out, queue updated, chat_ended logged.
func (d *Desk) endLocked(c *chat, by, reason string) {
	if c.state == StateEnded {
		return
	}
	wasQueued := c.state == StateQueued
	c.state = StateEnded
	c.endedBy = by
	c.share, c.shareState = "", ""
	if wasQueued {
		d.dequeueLocked(c)
	}
	d.releaseLocked(c)
	d.emit(c, deskproto.Event{Type: deskproto.EventChatEnded, EndedBy: by, Reason: reason})
	c.addLine(TranscriptEntry{From: "system", Text: "Chat ended by the " + by + "."})
	d.observe(c, observation{kind: obsEnded, endedBy: by})
}

// screenShareAnswer records the customer's answer to a pending request.
func (d *Desk) screenShareAnswer(ctx context.Context, chatID, token, shareID string, state servicedesk.ScreenShareState) error {
	switch state {
	case servicedesk.ScreenShareAccepted, servicedesk.ScreenShareDeclined, servicedesk.ScreenShareCancelled:
	default:
		return fmt.Errorf("mockdesk: screen share answer in chat %s: state %q: %w", chatID, state, ErrBadRequest)
	}
	return d.customerAct(ctx, "screen share answer", chatID, token, func(c *chat) error {
		if c.shareState != "requested" || (shareID != "" && shareID != c.share) {
			return fmt.Errorf("screen share %q: %w", shareID, ErrNoScreenShare)
		}
		if state == servicedesk.ScreenShareAccepted {
			c.shareState = "accepted"
		} else {
			c.share, c.shareState = "", ""
		}
		d.observe(c, observation{kind: obsShare, share: state})
		return nil
	})
}

// screenShareStop is the customer ending an accepted share.
func (d *Desk) screenShareStop(ctx context.Context, chatID, token string) error {
	return d.customerAct(ctx, "screen share stop", chatID, token, func(c *chat) error {
		if c.shareState != "accepted" {
			return ErrNoScreenShare
		}
		c.share, c.shareState = "", ""
		d.observe(c, observation{kind: obsShare, share: servicedesk.ScreenShareEnded})
		return nil
	})
}

// customerAct runs f on an open chat under the lock, wrapping its error once.
func (d *Desk) customerAct(ctx context.Context, op, chatID, token string, f func(*chat) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mockdesk: %s in chat %s: %w", op, chatID, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c, err := d.lookup(chatID, token)
	if err != nil {
		return fmt.Errorf("mockdesk: %s: %w", op, err)
	}
	if c.state == StateEnded {
		return fmt.Errorf("mockdesk: %s in chat %s: %w", op, chatID, ErrChatEnded)
	}
	if err := f(c); err != nil {
		return fmt.Errorf("mockdesk: %s in chat %s: %w", op, chatID, err)
	}
	return nil
}

func (d *Desk) chatInfo(chatID, token string) (deskproto.ChatInfo, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, err := d.lookup(chatID, token)
	if err != nil {
		return deskproto.ChatInfo{}, fmt.Errorf("mockdesk: chat info: %w", err)
	}
	return c.infoLocked(), nil
}

func (c *chat) infoLocked() deskproto.ChatInfo {
	caps := c.caps
	info := deskproto.ChatInfo{ChatID: c.id, State: c.state, EndedBy: c.endedBy, Agent: c.profile, Capabilities: &caps, LastSeq: c.seq}
	if c.queuePos != 0 {
		info.Position = intPtr(c.queuePos)
	}
	if c.queueWait != 0 {
		info.WaitMinutes = intPtr(c.queueWait)
	}
	return info
}

const maxPage = 500

// eventsSince returns the chat's events after seq `after`, at most maxPage.
// Callers hold d.mu.
func (c *chat) eventsSince(after uint64) (deskproto.Page, error) {
	if after < 0 || after > c.seq {
		return deskproto.Page{}, fmt.Errorf("cursor %d of chat %s at %d: %w", after, c.id, c.seq, ErrBadCursor)
	}
	// Seq n sits at index n-1: events are never dropped.
	evs := c.events[after:]
	if len(evs) > maxPage {
		evs = evs[:maxPage]
	}
	page := deskproto.Page{Events: append([]deskproto.Event(nil), evs...), Cursor: after}
	if len(evs) > 0 {
		page.Cursor = evs[len(evs)-1].Seq
	}
	page.Ended = c.state == StateEnded && page.Cursor == c.seq
	return page, nil
}

// waitEvents returns events after `after`, waiting up to wait for the
// first when there are none yet (a long poll).
func (d *Desk) waitEvents(ctx context.Context, chatID, token string, after uint64, wait time.Duration) (deskproto.Page, error) {
	var timer <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
	}
	for {
		d.mu.RLock()
		c, err := d.lookup(chatID, token)
		if err != nil {
			d.mu.RUnlock()
			return deskproto.Page{}, fmt.Errorf("mockdesk: events: %w", err)
		}
		page, err := c.eventsSince(after)
		ch, dropped := c.changed, c.dropped
		d.mu.RUnlock()
		if err != nil {
			return deskproto.Page{}, fmt.Errorf("mockdesk: events: %w", err)
		}
		if len(page.Events) > 0 || page.Ended || timer == nil {
			return page, nil
		}
		select {
		case <-ch:
		case <-timer:
			return page, nil
		case <-dropped:
			return deskproto.Page{}, fmt.Errorf("mockdesk: events of chat %s: connection dropped: %w", chatID, ErrUnavailable)
		case <-ctx.Done():
			return deskproto.Page{}, fmt.Errorf("mockdesk: events of chat %s: %w", chatID, ctx.Err())
		case <-d.ctx.Done():
			return page, nil
		}
	}
}
