package genesys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/genesys/internal/wire"
)

// SendMessageToAgent uploads the files (onAttachment, the pre-signed PUT,
// the upload event), then sends one onMessage with the text and the
// uploaded attachments, the engine's message id as customMessageId.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	if d.token() == "" {
		return fmt.Errorf("genesys: SendMessageToAgent: %w", servicedesk.ErrNoChat)
	}
	why := func(err error) string {
		var ge *Error
		if errors.As(err, &ge) && errors.Is(ge, servicedesk.ErrRejected) && ge.Message != "" {
			return ge.Message
		}
		return "The file could not be sent."
	}
	upload := func(ctx context.Context, f servicedesk.FileUpload) (any, error) {
		id, err := d.upload(ctx, f)
		return map[string]any{"contentType": wire.ContentTypeAttachment, "attachment": map[string]string{"id": id}}, err
	}
	return vendorkit.SendWithFiles(ctx, d.Callback, d.log, data.FilesToUpload, upload, why, func(ctx context.Context, content []any) error {
		if message.Input.Text == "" && len(content) == 0 {
			return nil
		}
		msg := map[string]any{"type": "Text", "text": message.Input.Text, "metadata": map[string]string{"customMessageId": messageID}}
		if len(content) > 0 {
			msg["content"] = content
		}
		_, err := d.request(ctx, "onMessage", map[string]any{"action": "onMessage", "message": msg}, withAnswer)
		return err
	})
}

// upload sends one file and returns its attachment id once Genesys has it.
func (d *desk) upload(ctx context.Context, f servicedesk.FileUpload) (string, error) {
	id := vendorkit.NewUUID()
	ch := make(chan wire.Envelope, 1)
	d.mu.Lock()
	d.uploads[id] = ch
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.uploads, id)
		d.mu.Unlock()
	}()
	env, err := d.request(ctx, "onAttachment", map[string]any{"action": "onAttachment", "attachmentId": id, "fileName": f.File.Name,
		"fileType": f.File.Type, "fileSize": f.File.Size, "errorsAsJson": true}, withAnswer)
	if err != nil {
		return "", err
	}
	var pre wire.PresignedURL
	if err := json.Unmarshal(env.Body, &pre); err != nil || pre.URL == "" {
		return "", fmt.Errorf("genesys: onAttachment: no url in %s", env.Body)
	}
	content, err := f.File.ReadAll(ctx)
	if err != nil {
		return "", fmt.Errorf("genesys: upload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, pre.URL, bytes.NewReader(content))
	if err != nil {
		return "", fmt.Errorf("genesys: upload: %w", err)
	}
	for k, v := range pre.Headers {
		req.Header.Set(k, v)
	}
	resp, err := d.k.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("genesys: upload: %w: %w", servicedesk.ErrUnavailable, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", &Error{Op: "upload", Code: resp.StatusCode, Message: resp.Status}
	}
	t := time.NewTimer(d.k.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case env := <-ch:
		if env.Class == wire.ClassUploadFailure {
			var r wire.UploadResult
			_ = json.Unmarshal(env.Body, &r)
			return "", &Error{Op: "upload", Code: r.ErrorCode, Message: r.ErrorMessage}
		}
		return id, nil
	case <-t.C:
		return "", fmt.Errorf("genesys: upload: no upload event: %w", servicedesk.ErrUnavailable)
	case <-ctx.Done():
		return "", fmt.Errorf("genesys: upload: %w", ctx.Err())
	}
}

// FilesSelectedForUpload warns early about files Genesys will refuse: a
// blocked extension, or a type or size outside allowedMedia.
func (d *desk) FilesSelectedForUpload(_ context.Context, uploads []servicedesk.FileUpload) error {
	d.mu.Lock()
	s := d.session
	d.mu.Unlock()
	caps := capabilities(s)
	for _, u := range uploads {
		ext := strings.ToLower(path.Ext(u.File.Name))
		if slices.Contains(s.BlockedExtensions, ext) {
			d.Callback.SetFileUploadStatus(u.ID, true, "Files of this type can't be sent.")
			continue
		}
		if caps.AllowFileUploads {
			if ok, why := caps.Accepts(u.File.Name, u.File.Type, u.File.Size); !ok {
				d.Callback.SetFileUploadStatus(u.ID, true, why)
			}
		}
	}
	return nil
}

// UserTyping sends a Typing On event, at most one per TypingInterval.
// Genesys has no "stopped typing": false sends nothing.
func (d *desk) UserTyping(ctx context.Context, isTyping bool) error {
	if !isTyping {
		return nil
	}
	ctx, done := d.Life.Bind(ctx)
	defer done()
	if d.token() == "" {
		return fmt.Errorf("genesys: UserTyping: %w", servicedesk.ErrNoChat)
	}
	if !d.typing.Allow() {
		return nil
	}
	msg := map[string]any{"type": "Event", "events": []any{map[string]any{"eventType": wire.EventTypeTyping, "typing": map[string]string{"type": "On"}}}}
	if _, err := d.request(ctx, "typing", map[string]any{"action": "onMessage", "message": msg}, eventRefusal); err != nil {
		d.typing.Reset()
		return err
	}
	return nil
}
