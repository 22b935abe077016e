package zendesk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/zendesk/internal/wire"
)

func (d *desk) post(ctx context.Context, op string, a wire.Author, c wire.Content, md map[string]any, key string) error {
	_, err := d.postID(ctx, op, a, c, md, key)
	return err
}

// postID posts a message carrying key as its deskbridge_message_id, and
// returns its id. Sunshine Conversations has no idempotency key: when an
// earlier try's outcome is unknown, the conversation's last messages are
// looked through for key before the message is sent again.
func (d *desk) postID(ctx context.Context, op string, a wire.Author, c wire.Content, md map[string]any, key string) (string, error) {
	md[metaMessageID] = key
	var out struct{ Messages []wire.Message }
	var id string
	err := d.k.call(ctx, request{Call: httpjson.Call{Op: op, Method: http.MethodPost, Path: d.path("/messages"),
		Body: map[string]any{"author": a, "content": c, "metadata": md}, Out: &out}, health: &d.health, sent: func(ctx context.Context) (bool, error) {
		page, err := d.messages(ctx, "")
		if err != nil {
			return false, err
		}
		for _, m := range page.Messages {
			if m.Metadata[metaMessageID] == key {
				id = m.ID
				return true, nil
			}
		}
		return false, nil
	}})
	if err != nil {
		return "", err
	}
	if len(out.Messages) > 0 {
		id = out.Messages[0].ID
	}
	return id, nil
}

// messages lists a page of the conversation's messages: the latest, or
// the one before cursor before.
func (d *desk) messages(ctx context.Context, before string) (wire.MessageList, error) {
	p := d.path("/messages")
	if before != "" {
		p += "?" + url.Values{"page[before]": {before}}.Encode()
	}
	var page wire.MessageList
	err := d.k.call(ctx, request{Call: httpjson.Call{Op: "list messages", Method: http.MethodGet, Path: p, Out: &page}, safe: true, health: &d.health})
	return page, err
}

// SendMessageToAgent uploads the files (POST /attachments), then posts the
// text, as the user, with the first file (a file or image message has a
// text); further files follow as messages of their own. The engine's
// message id is the messages' deskbridge_message_id metadata.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.State()
	if st.ConversationID == "" || d.Ended() {
		return fmt.Errorf("zendesk: SendMessageToAgent: %w", servicedesk.ErrNoChat)
	}
	upload := func(ctx context.Context, f servicedesk.FileUpload) (wire.Content, error) {
		att, err := d.upload(ctx, f)
		typ := wire.ContentFile
		if strings.HasPrefix(att.MediaType, "image/") {
			typ = wire.ContentImage
		}
		return wire.Content{Type: typ, MediaURL: att.MediaURL, AltText: servicedesk.Truncate(f.File.Name, 128)}, err
	}
	// A file is sent once its message is; a refused message's reason
	// (Zendesk's file validation) is the file's.
	return vendorkit.SendWithFiles(ctx, d.Callback, d.log, data.FilesToUpload, upload, vendorkit.FileRefusal, func(ctx context.Context, contents []wire.Content) error {
		// A text past Zendesk's bound goes as several messages, the first
		// with the first file.
		texts := servicedesk.SplitText(message.Input.Text, maxTextBytes)
		var msgs []wire.Content
		if len(contents) > 0 && len(texts) > 0 {
			contents[0].Text = texts[0]
			msgs = append(msgs, contents[0])
			contents, texts = contents[1:], texts[1:]
		}
		for _, t := range texts {
			msgs = append(msgs, wire.Content{Type: wire.ContentText, Text: t})
		}
		msgs = append(msgs, contents...)
		for i, c := range msgs {
			if err := d.post(ctx, "post message", userAuthor(st.UserID), c, map[string]any{}, vendorkit.PartID(messageID, i)); err != nil {
				return err
			}
		}
		return nil
	})
}

// upload sends one file as multipart/form-data (its part "source") and
// returns the attachment's mediaUrl and mediaType.
func (d *desk) upload(ctx context.Context, f servicedesk.FileUpload) (wire.Attachment, error) {
	content, err := f.File.ReadAll(ctx)
	if err != nil {
		return wire.Attachment{}, fmt.Errorf("zendesk: upload %s: %w", f.ID, err)
	}
	// Read into one body: every try of the call sends it again.
	mp, ctype, _ := httpjson.Multipart([]httpjson.Part{{Name: "source", Filename: f.File.Name, Type: cmpType(f.File.Type),
		Size: int64(len(content)), Content: bytes.NewReader(content)}})
	body, err := io.ReadAll(mp)
	if err != nil {
		return wire.Attachment{}, fmt.Errorf("zendesk: upload %s: %w", f.ID, err)
	}
	q := url.Values{"access": {"public"}, "for": {"message"}, "conversationId": {d.State().ConversationID}}
	var out struct{ Attachment wire.Attachment }
	// An attachment uploaded twice is harmless (unused, it expires).
	err = d.k.call(ctx, request{Call: httpjson.Call{Op: "upload attachment", Method: http.MethodPost, Path: "/attachments?" + q.Encode(),
		Raw: body, ContentType: ctype, Out: &out}, safe: true, health: &d.health})
	if err != nil {
		return wire.Attachment{}, err
	}
	if out.Attachment.MediaURL == "" {
		return wire.Attachment{}, fmt.Errorf("zendesk: upload %s: no mediaUrl in the answer: %w", f.ID, servicedesk.ErrUnavailable)
	}
	if out.Attachment.MediaType == "" {
		out.Attachment.MediaType = cmpType(f.File.Type)
	}
	return out.Attachment, nil
}

func cmpType(t string) string {
	if t == "" {
		return "application/octet-stream"
	}
	return t
}

// UserReadMessages posts the conversation:read activity as the user (the
// one activity a user may post).
func (d *desk) UserReadMessages(ctx context.Context) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.State()
	if st.ConversationID == "" || d.Ended() {
		return fmt.Errorf("zendesk: UserReadMessages: %w", servicedesk.ErrNoChat)
	}
	return d.k.call(ctx, request{Call: httpjson.Call{Op: "post activity", Method: http.MethodPost, Path: d.path("/activity"),
		Body: map[string]any{"author": userAuthor(st.UserID), "type": wire.ActivityRead}}, safe: true, health: &d.health})
}

// FilesSelectedForUpload warns early about files outside the upload
// limits shown to the customer.
func (d *desk) FilesSelectedForUpload(_ context.Context, uploads []servicedesk.FileUpload) error {
	vendorkit.RefuseFiles(d.Callback, d.k.caps, uploads)
	return nil
}
