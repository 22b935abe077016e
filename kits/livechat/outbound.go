package livechat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/livechat/internal/wire"
)

// SendMessageToAgent sends the files first (upload_file, then a file
// event each, as LiveChat's widget shows an upload the moment it is made),
// then the text as a message event. Every event carries the engine's id as
// custom_id (a file's id for its event), the key by which a resend after a
// lost answer is found in the chat instead of sent twice.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	chat := d.state().ChatID
	if chat == "" {
		return fmt.Errorf("livechat: send: %w", servicedesk.ErrNoChat)
	}
	for _, f := range data.FilesToUpload {
		d.sendFile(ctx, chat, f)
	}
	if message.Input.Text == "" {
		return nil
	}
	return d.sendEvent(ctx, chat, wire.Event{Type: wire.EventMessage, Text: message.Input.Text, CustomID: messageID, Recipients: "all"})
}

// sendFile uploads one file and sends its event; the outcome is the
// file's status, with LiveChat's reason when it refused the file.
func (d *desk) sendFile(ctx context.Context, chat string, f servicedesk.FileUpload) {
	err := func() error {
		tok, err := d.customerToken(ctx)
		if err != nil {
			return err
		}
		u, err := d.k.uploadFile(ctx, tok, f)
		if err != nil {
			return err
		}
		return d.sendEvent(ctx, chat, wire.Event{Type: wire.EventFile, URL: u, CustomID: f.ID, Recipients: "all"})
	}()
	if err == nil {
		d.Callback.SetFileUploadStatus(f.ID, false, "")
		return
	}
	d.log.Warn("livechat: file not sent", "file", f.ID, "err", err)
	why := "The file could not be sent."
	var le *Error
	if errors.As(err, &le) && !servicedesk.IsTemporary(err) {
		why = le.Reason()
	}
	d.Callback.SetFileUploadStatus(f.ID, true, why)
}

// sendEvent sends one event with send_event. A try whose answer was lost
// may have been carried out (LiveChat does not deduplicate by custom_id):
// before the next, the chat's latest thread is searched for the event's
// custom_id, and a found event is not sent again.
func (d *desk) sendEvent(ctx context.Context, chat string, e wire.Event) error {
	g := d.chatGate()
	unknown := func(err error) bool { return errors.Is(err, errAmbiguous) }
	sent := func(ctx context.Context) (bool, error) { return d.hasEvent(ctx, g, chat, e.CustomID) }
	policy := retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries}
	return vendorkit.Resend(ctx, policy, unknown, sent, func(ctx context.Context) error {
		_, err := d.call(ctx, g, "send_event", map[string]any{"chat_id": chat, "event": e})
		if err != nil {
			d.log.Info("livechat: send_event failed", "custom_id", e.CustomID, "err", err)
		}
		return err
	})
}

// hasEvent reports whether the chat's latest thread holds an event with
// custom_id id.
func (d *desk) hasEvent(ctx context.Context, g *stream.Gate, chat, id string) (bool, error) {
	raw, err := d.call(ctx, g, "get_chat", map[string]any{"chat_id": chat})
	if err != nil {
		return false, err
	}
	var gc wire.GetChat
	if err := decode(raw, &gc); err != nil {
		return false, fmt.Errorf("livechat: get_chat: %w: %w", servicedesk.ErrUnavailable, err)
	}
	return gc.Thread != nil && slices.ContainsFunc(gc.Thread.Events, func(e wire.Event) bool { return e.CustomID == id }), nil
}

// UserTyping sends a sneak peek: LiveChat's customer typing is the text
// being typed, which Carbon does not pass on, so a placeholder while
// typing and an empty text when it stops.
func (d *desk) UserTyping(ctx context.Context, isTyping bool) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	chat := d.state().ChatID
	if chat == "" {
		return nil
	}
	text := ""
	if isTyping {
		text = "…"
	}
	_, err := d.request(ctx, "send_sneak_peek", map[string]any{"chat_id": chat, "sneak_peek_text": text})
	return err
}

// UserReadMessages marks the events seen up to the latest agent event
// delivered (mark_events_as_seen takes a time).
func (d *desk) UserReadMessages(ctx context.Context) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	mark := d.seenMark()
	if mark == nil {
		return nil
	}
	_, err := d.request(ctx, "mark_events_as_seen", mark)
	return err
}

// seenMark is mark_events_as_seen's payload, nil without a chat.
func (d *desk) seenMark() map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.st.ChatID == "" {
		return nil
	}
	upTo := d.seenUpTo
	if upTo == "" {
		upTo = time.Now().UTC().Format(time.RFC3339Nano)
	}
	return map[string]any{"chat_id": d.st.ChatID, "seen_up_to": upTo}
}

// FilesSelectedForUpload warns early about files larger than upload_file
// takes (10 MB); LiveChat refuses executables too, which it alone tells.
func (d *desk) FilesSelectedForUpload(_ context.Context, uploads []servicedesk.FileUpload) error {
	for _, u := range uploads {
		if u.File.Size > MaxFileBytes {
			d.Callback.SetFileUploadStatus(u.ID, true, fmt.Sprintf("The file is larger than LiveChat's %d MB.", MaxFileBytes>>20))
		}
	}
	return nil
}
