package amazonconnect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/amazonconnect/internal/wire"
)

// connection returns the connection token, or ErrNoChat.
func (d *desk) connection(op string) (saved, error) {
	st := d.State()
	if d.Life.Closed() {
		return st, fmt.Errorf("amazonconnect: %s: desk closed: %w", op, servicedesk.ErrNoChat)
	}
	if st.ConnectionToken == "" {
		return st, fmt.Errorf("amazonconnect: %s: %w", op, servicedesk.ErrNoChat)
	}
	return st, nil
}

// SendMessageToAgent uploads the message's files (StartAttachmentUpload,
// the pre-signed PUT, CompleteAttachmentUpload), then sends its text
// (SendMessage with messageID as ClientToken, so a retry never doubles it).
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st, err := d.awaitConnection(ctx, "SendMessage")
	if err != nil {
		return err
	}
	for _, f := range data.FilesToUpload {
		d.sendFile(ctx, st, messageID, f)
	}
	if message.Input.Text == "" {
		return nil
	}
	var out sendResponse
	err = d.k.participant.call(ctx, "SendMessage", "/participant/message", st.ConnectionToken,
		sendRequest{ContentType: wire.CTTextPlain, Content: message.Input.Text, ClientToken: messageID}, &out)
	if err != nil {
		return fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	return nil
}

// awaitConnection returns the state once a connection token exists: right
// after StartChat the first CreateParticipantConnection may still run.
func (d *desk) awaitConnection(ctx context.Context, op string) (saved, error) {
	for {
		st, err := d.connection(op)
		if err == nil || d.State().ParticipantToken == "" || d.Life.Context().Err() != nil {
			return st, err
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return st, fmt.Errorf("amazonconnect: %s contact=%s: no connection yet: %w", op, st.ContactID, ctx.Err())
		}
	}
}

// sendFile uploads one file and reports its outcome.
func (d *desk) sendFile(ctx context.Context, st saved, messageID string, f servicedesk.FileUpload) {
	fail := func(err error) {
		d.log.Warn("amazonconnect: attachment failed", "file", f.ID, "err", err)
		msg := "The file could not be sent."
		var ae *APIError
		if errors.As(err, &ae) && ae.Status/100 == 4 && ae.Status != 429 && ae.Status != 403 {
			msg = ae.Message
		}
		d.Callback.SetFileUploadStatus(f.ID, true, msg)
	}
	token := messageID + "-" + f.ID
	var start startUploadResponse
	err := d.k.participant.call(ctx, "StartAttachmentUpload", "/participant/start-attachment-upload", st.ConnectionToken,
		startUploadRequest{ContentType: f.File.Type, AttachmentSizeInBytes: f.File.Size, AttachmentName: f.File.Name, ClientToken: token}, &start)
	if err != nil {
		fail(err)
		return
	}
	content, err := f.File.ReadAll(ctx)
	if err != nil {
		fail(err)
		return
	}
	if err := d.k.participant.upload(ctx, start.UploadMetadata.URL, start.UploadMetadata.HeadersToInclude, content); err != nil {
		fail(err)
		return
	}
	d.mu.Lock()
	d.attachments[start.AttachmentID] = f.ID
	d.mu.Unlock()
	err = d.k.participant.call(ctx, "CompleteAttachmentUpload", "/participant/complete-attachment-upload", st.ConnectionToken,
		completeUploadRequest{AttachmentIDs: []string{start.AttachmentID}, ClientToken: token}, nil)
	if err != nil {
		fail(err)
		return
	}
	d.Callback.SetFileUploadStatus(f.ID, false, "")
}

// UserTyping sends a typing event, at most one per TypingInterval (as
// ChatJS). Connect has no "stopped typing" event: false sends nothing.
func (d *desk) UserTyping(ctx context.Context, isTyping bool) error {
	if !isTyping {
		return nil
	}
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st, err := d.connection("SendEvent")
	if err != nil {
		return err
	}
	if !d.typing.Allow() {
		return nil
	}
	err = d.k.participant.call(ctx, "SendEvent", "/participant/event", st.ConnectionToken,
		sendRequest{ContentType: wire.CTTyping, ClientToken: randomToken()}, nil)
	if err != nil {
		d.typing.Reset()
		return fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	return nil
}

// UserReadMessages sends a read receipt for the last agent message.
func (d *desk) UserReadMessages(ctx context.Context) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	d.mu.Lock()
	last := d.lastAgentID
	d.mu.Unlock()
	return d.receipt(ctx, wire.CTMessageRead, last)
}

// sendReceipt sends a delivered receipt in the background; a failure is
// only logged (the agent misses a tick, nothing else).
func (d *desk) sendReceipt(contentType, messageID string) {
	if err := d.receipt(d.Life.Context(), contentType, messageID); err != nil {
		d.log.Info("amazonconnect: receipt not sent", "err", err)
	}
}

// receipt is SendEvent with a message.read or message.delivered receipt.
func (d *desk) receipt(ctx context.Context, contentType, messageID string) error {
	st, err := d.connection("SendEvent")
	if err != nil {
		return err
	}
	content, _ := json.Marshal(map[string]string{"messageId": messageID})
	err = d.k.participant.call(ctx, "SendEvent", "/participant/event", st.ConnectionToken,
		sendRequest{ContentType: contentType, Content: string(content), ClientToken: randomToken()}, nil)
	if err != nil {
		return fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	return nil
}
