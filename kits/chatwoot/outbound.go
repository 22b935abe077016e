package chatwoot

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/chatwoot/internal/wire"
)

// The optional methods the kit has (what it declares, no more).
var _ interface {
	servicedesk.ServiceDesk
	servicedesk.TypingNotifier
	servicedesk.ReadNotifier
	servicedesk.Reconnector
	io.Closer
} = (*desk)(nil)

// SendMessageToAgent posts a message with the engine's message id as its
// echo_id, its files as attachments[] of the same call (multipart), each
// read as it is sent. A file past MaxFileBytes is refused before.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	if d.Ended() || d.state().ConversationID == 0 {
		return fmt.Errorf("chatwoot: send message %s: %w", messageID, servicedesk.ErrNoChat)
	}
	var files []servicedesk.FileUpload
	for _, f := range data.FilesToUpload {
		if max := d.k.cfg.MaxFileBytes; f.File.Size > max {
			d.Callback.SetFileUploadStatus(f.ID, true, fmt.Sprintf("The file is larger than the %d MB Chatwoot takes.", max>>20))
		} else {
			files = append(files, f)
		}
	}
	switch {
	case strings.TrimSpace(message.Input.Text) != "" || len(files) > 0:
	case len(data.FilesToUpload) > 0:
		return fmt.Errorf("chatwoot: send message %s: %w: its files are too large", messageID, servicedesk.ErrRejected)
	default:
		return nil
	}
	err := d.post(ctx, messageID, message.Input.Text, files)
	var refused *httpjson.Error
	for _, f := range files {
		if err == nil {
			d.Callback.SetFileUploadStatus(f.ID, false, "")
		} else if errors.As(err, &refused) && !servicedesk.IsTemporary(err) {
			d.Callback.SetFileUploadStatus(f.ID, true, cmp.Or(refused.Message, "The file could not be sent.")) // Chatwoot's reason
		}
	}
	return err
}

// post sends a message of the contact. Chatwoot stores every POST, echo_id
// or not: after a try of unknown outcome the kit looks for the message
// (stored) and sends again only when Chatwoot has not stored it. It tries
// until ctx ends (the engine's send timeout), not a count of tries: a
// message failed after the outage it was caught in would be lost, where
// one still failing while the desk is away is kept by the engine for
// after it.
func (d *desk) post(ctx context.Context, echo, text string, files []servicedesk.FileUpload) error {
	if d.echoed(echo) {
		return nil // the engine's resend of a message Chatwoot showed back
	}
	path, after := d.conversationPath()+"/messages", d.state().LastMessageID
	var posted wire.Message
	send := func(ctx context.Context) error {
		call := httpjson.Call{Op: "send message", Method: http.MethodPost, Path: path, Body: map[string]string{"content": text, "echo_id": echo}, Out: &posted}
		if len(files) == 0 {
			return d.k.api.Call(ctx, call)
		}
		parts := []httpjson.Part{{Name: "content", Value: text}, {Name: "echo_id", Value: echo}}
		for _, f := range files {
			if f.File.Open == nil {
				return fmt.Errorf("chatwoot: send message %s: file %s has no content", echo, f.ID)
			}
			rc, err := f.File.Open(ctx) // each try reads the file from its start
			if err != nil {
				return fmt.Errorf("chatwoot: send message %s: open file %s: %w", echo, f.ID, err)
			}
			defer rc.Close()
			parts = append(parts, httpjson.Part{Name: "attachments[]", Filename: f.File.Name, Type: f.File.Type, Size: f.File.Size, Content: rc})
		}
		call.Body = nil
		call.Stream, call.ContentType, call.Length = httpjson.Multipart(parts)
		return d.k.api.Call(ctx, call)
	}
	unknown := func(err error) bool { return httpjson.StatusOf(err) != http.StatusTooManyRequests } // Rack::Attack refuses before
	sent := func(ctx context.Context) (bool, error) { return d.stored(ctx, path, echo, text, len(files), after) }
	err := vendorkit.Resend(ctx, retry.Policy{Backoff: d.k.cfg.Backoff}, unknown, sent,
		func(ctx context.Context) error { return d.k.try(ctx, "send message", send) })
	if id := posted.ID.Int(); err == nil && id != 0 {
		d.mu.Lock()
		d.mine[id] = true
		d.mu.Unlock()
	}
	return err
}

// stored tells whether Chatwoot stored a message whose POST went without
// an answer: its echo came on the cable, or the newest messages hold one
// of the contact's after the last delivered (after) with its text and its
// number of files that is no other POST of the kit's (the list shows no
// echo_id, and Chatwoot broadcasts later than it answers).
func (d *desk) stored(ctx context.Context, path, echo, text string, files int, after int64) (bool, error) {
	if d.echoed(echo) {
		return true, nil
	}
	var page []wire.Message
	list := func(ctx context.Context) error {
		return d.k.api.Do(ctx, "list messages", http.MethodGet, path, "", nil, &page)
	}
	if err := d.k.try(ctx, "list messages", list); err != nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range page {
		if id := m.ID.Int(); id > after && !d.mine[id] && m.MessageType == wire.Incoming && m.Text() == text && len(m.Attachments) == files {
			d.mine[id] = true
			return true, nil
		}
	}
	return false, nil
}

// UserTyping toggles the contact's typing (at most one "on" per
// TypingInterval; a failed one lets the next keystroke try again).
func (d *desk) UserTyping(ctx context.Context, isTyping bool) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	if d.state().ConversationID == 0 {
		return fmt.Errorf("chatwoot: typing: %w", servicedesk.ErrNoChat)
	}
	toggle := func(status string) error {
		return d.k.call(ctx, "toggle typing", http.MethodPost, d.conversationPath()+"/toggle_typing", map[string]string{"typing_status": status}, nil)
	}
	if !isTyping {
		d.typing.Reset()
		return toggle("off")
	}
	if !d.typing.Allow() {
		return nil
	}
	err := toggle("on")
	if err != nil {
		d.typing.Reset()
	}
	return err
}

// UserReadMessages marks the conversation seen by the contact
// (update_last_seen: the agent's messages until now read).
func (d *desk) UserReadMessages(ctx context.Context) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	if d.state().ConversationID == 0 {
		return fmt.Errorf("chatwoot: read: %w", servicedesk.ErrNoChat)
	}
	return d.k.call(ctx, "update last seen", http.MethodPost, d.conversationPath()+"/update_last_seen", nil, nil)
}

// contactBody is the contact of the hand-off: a verified customer's id as
// its identifier (with identifier_hash when the inbox's HMAC token is
// set), name and email; an anonymous one has neither.
func (d *desk) contactBody(h servicedesk.Handoff) map[string]any {
	body := map[string]any{}
	c := h.Customer
	if c == nil {
		return body
	}
	if c.ID != "" {
		body["identifier"] = c.ID
		if tok := d.k.cfg.HMACToken; tok != "" {
			mac := hmac.New(sha256.New, []byte(tok))
			mac.Write([]byte(c.ID))
			body["identifier_hash"] = hex.EncodeToString(mac.Sum(nil))
		}
	}
	if c.Name != "" {
		body["name"] = c.Name
	}
	if c.Email != "" {
		body["email"] = c.Email
	}
	return body
}

// attributes are the conversation's custom attributes: the routing
// attributes, the browser's own claims under "unverified_", and the
// summary, each cut to MaxAttributeBytes.
func (d *desk) attributes(h servicedesk.Handoff) map[string]string {
	max := d.k.cfg.MaxAttributeBytes
	attrs := map[string]string{}
	for k, v := range h.Unverified {
		attrs["unverified_"+k] = v
	}
	maps.Copy(attrs, h.Attributes)
	if h.Summary != "" {
		attrs["bot_summary"] = h.Summary
	}
	for k, v := range attrs {
		attrs[k] = servicedesk.Truncate(v, max)
	}
	return attrs
}

// opening is the bot transcript as one text (the newest turns kept),
// within MaxOpeningBytes; the summary travels as the bot_summary
// attribute.
func (d *desk) opening(h servicedesk.Handoff) string {
	if len(h.Transcript) == 0 {
		return ""
	}
	head := vendorkit.TranscriptHeading(h, 0) + "\n"
	return head + servicedesk.TranscriptText(h.Transcript, d.k.cfg.MaxOpeningBytes-len(head))
}
