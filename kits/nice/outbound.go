package nice

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/nice/internal/wire"
)

// SendMessageToAgent uploads the files first (the temporary upload),
// then sends the message carrying them with the engine's id as its
// idOnExternalPlatform, the key by which a resend after a lost answer is
// found in the thread instead of sent twice.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	if d.st.State().ThreadID == "" {
		return fmt.Errorf("nice: send: %w", servicedesk.ErrNoChat)
	}
	text := message.Input.Text
	return vendorkit.SendWithFiles(ctx, d.Callback, d.log, data.FilesToUpload, d.upload, fileReason, func(ctx context.Context, atts []wire.Attachment) error {
		if text == "" && len(atts) == 0 {
			return nil
		}
		_, err := d.sendMessage(ctx, messageID, text, atts, nil)
		return err
	})
}

// sendMessage sends one SendMessage. CXone does not deduplicate by
// idOnExternalPlatform: after a try whose outcome is unknown, the thread
// (RecoverLivechat) is searched for the id before the next.
func (d *desk) sendMessage(ctx context.Context, id, text string, atts []wire.Attachment, fields []wire.CustomField) (wire.MessageEvent, error) {
	st := d.st.State()
	if atts == nil {
		atts = []wire.Attachment{}
	}
	if fields == nil {
		fields = []wire.CustomField{}
	}
	data := map[string]any{
		"thread":               wire.Ref{IDOnExternalPlatform: st.ThreadID},
		"idOnExternalPlatform": id,
		"messageContent":       map[string]any{"type": "TEXT", "payload": map[string]string{"text": text}},
		"attachments":          atts,
		"consumer":             map[string]any{"customFields": []wire.CustomField{}},
		"consumerContact":      map[string]any{"customFields": fields},
		"browserFingerprint":   map[string]any{},
	}
	var out wire.MessageEvent
	g := d.chatGate()
	unknown := func(err error) bool {
		return errors.Is(err, errAmbiguous) || servicedesk.CodeOf(err) == servicedesk.CodeUnavailable
	}
	sent := func(ctx context.Context) (bool, error) {
		rec, err := d.recover(ctx)
		if servicedesk.CodeOf(err) == servicedesk.CodeNotFound {
			return false, nil // not even the thread: the first message is not in
		}
		found := err == nil && slices.ContainsFunc(rec.Messages, func(m wire.Message) bool { return m.IDOnExternalPlatform == id })
		d.log.Debug("nice: looked the message up", "id", id, "found", found, "err", err)
		return found, err
	}
	err := vendorkit.Resend(ctx, retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries}, unknown, sent, func(ctx context.Context) error {
		f, err := d.call(ctx, g, wire.SendMessage, data)
		if err != nil {
			d.log.Info("nice: SendMessage failed", "id", id, "err", err)
			return err
		}
		if json.Unmarshal(f.Data, &out) != nil {
			d.log.Debug("nice: SendMessage's answer does not decode", "id", id)
		}
		return nil
	})
	return out, err
}

// upload sends one file to the temporary upload (base64 in JSON, as the
// SDK does) and returns the attachment its message names. A file larger
// than the channel takes is refused before it is read.
func (d *desk) upload(ctx context.Context, f servicedesk.FileUpload) (wire.Attachment, error) {
	caps := d.k.cfg.Capabilities
	if ok, why := caps.Accepts(f.File.Name, f.File.Type, f.File.Size); !ok && caps.MaxFileSizeBytes > 0 && f.File.Size > caps.MaxFileSizeBytes {
		return wire.Attachment{}, fmt.Errorf("nice: upload %s: %w", f.ID, &refusedFile{why})
	}
	rc, err := f.File.Open(ctx)
	if err != nil {
		return wire.Attachment{}, fmt.Errorf("nice: upload %s: open: %w", f.ID, err)
	}
	b, err := io.ReadAll(io.LimitReader(rc, max(caps.MaxFileSizeBytes, f.File.Size)+1))
	rc.Close()
	if err != nil {
		return wire.Attachment{}, fmt.Errorf("nice: upload %s: read: %w", f.ID, err)
	}
	body := wire.Upload{Content: base64.StdEncoding.EncodeToString(b), FileName: f.File.Name, MimeType: f.File.Type}
	var out wire.Uploaded
	err = d.k.rest().Retry(ctx, retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries},
		httpjson.Call{Op: "attachment " + f.ID, Method: http.MethodPost, Path: d.k.channelPath("/attachment"), Body: body, Out: &out}, nil, d.log)
	if err != nil {
		return wire.Attachment{}, err
	}
	if out.FileURL == "" {
		return wire.Attachment{}, fmt.Errorf("nice: upload %s: %w", f.ID, &refusedFile{restrictions(out)})
	}
	return wire.Attachment{URL: out.FileURL, FriendlyName: f.File.Name}, nil
}

// restrictions says why the channel refused a file, from its file
// restrictions.
func restrictions(u wire.Uploaded) string {
	if u.IsAttachmentsEnabled != nil && !*u.IsAttachmentsEnabled {
		return "The channel takes no attachments."
	}
	var types []string
	for _, t := range u.AllowedFileTypes {
		types = append(types, cmp.Or(t.Description, t.MimeType))
	}
	why := strings.TrimSuffix(cmp.Or(u.Message, "The file is not allowed."), ".")
	if n := u.AllowedFileSize.Int(); n > 0 {
		why += fmt.Sprintf(": files up to %d MB", n)
	}
	if len(types) > 0 {
		why += " of types " + strings.Join(types, ", ")
	}
	return why + "."
}

// refusedFile is a file the kit or the channel refused, with why.
type refusedFile struct{ why string }

func (r *refusedFile) Error() string { return r.why }
func (r *refusedFile) Unwrap() error { return servicedesk.ErrRejected }

// fileReason is the sentence a failed file shows: CXone's reason when it
// refused it, else a general one.
func fileReason(err error) string {
	var e *Error
	if errors.As(err, &e) && !servicedesk.IsTemporary(err) {
		return e.Reason()
	}
	var he *httpjson.Error
	if errors.As(err, &he) && !servicedesk.IsTemporary(err) && he.Message != "" {
		return he.Message
	}
	var r *refusedFile
	if errors.As(err, &r) {
		return r.why
	}
	return "The file could not be sent."
}

// UserTyping sends SenderTypingStarted or SenderTypingEnded.
func (d *desk) UserTyping(ctx context.Context, isTyping bool) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	thread := d.st.State().ThreadID
	if thread == "" {
		return nil
	}
	ev := wire.TypingEnded
	if isTyping {
		ev = wire.TypingStarted
	}
	_, err := d.request(ctx, ev, map[string]any{"thread": wire.Ref{IDOnExternalPlatform: thread}})
	return err
}

// UserReadMessages sends MessageSeenByConsumer: the customer saw the
// thread's messages.
func (d *desk) UserReadMessages(ctx context.Context) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	thread := d.st.State().ThreadID
	if thread == "" {
		return nil
	}
	_, err := d.request(ctx, wire.MessageSeenByConsumer, map[string]any{"thread": wire.Ref{IDOnExternalPlatform: thread}})
	return err
}

// FilesSelectedForUpload refuses at once the files outside the channel's
// limits (Config.Capabilities).
func (d *desk) FilesSelectedForUpload(_ context.Context, uploads []servicedesk.FileUpload) error {
	vendorkit.RefuseFiles(d.Callback, d.k.cfg.Capabilities, uploads)
	return nil
}

// AreAnyAgentsOnline asks the channel's availability: online is online,
// offline offline, anything else unknown.
func (d *desk) AreAnyAgentsOnline(ctx context.Context, _ servicedesk.MessageResponse) (servicedesk.OnlineStatus, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	var out wire.Availability
	err := d.k.rest().Retry(ctx, retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries},
		httpjson.Call{Op: "availability", Method: http.MethodGet, Path: d.k.channelPath("/availability"), Out: &out}, nil, d.log)
	if err != nil {
		return servicedesk.OnlineUnknown, err
	}
	switch out.Status {
	case wire.AvailabilityOnline:
		return servicedesk.Online, nil
	case wire.AvailabilityOffline:
		return servicedesk.Offline, nil
	}
	return servicedesk.OnlineUnknown, nil
}

// rest is the chat API's client; a refused upload's body says the
// channel's file restrictions.
func (k *Kit) rest() *httpjson.Client {
	return &httpjson.Client{Name: "nice", Base: k.cfg.ChatURL, HTTP: k.cfg.HTTPClient, ErrorBody: func(b []byte) (string, string) {
		var u wire.Uploaded
		if json.Unmarshal(b, &u) == nil && (u.AllowedFileSize != "" || len(u.AllowedFileTypes) > 0) {
			return "", restrictions(u)
		}
		return "", httpjson.Message(b)
	}}
}

func (k *Kit) channelPath(tail string) string {
	return fmt.Sprintf("/chat/1.0/brand/%d/channel/%s%s", k.cfg.BrandID, k.cfg.ChannelID, tail)
}
