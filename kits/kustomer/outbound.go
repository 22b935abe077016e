package kustomer

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/kustomer/internal/wire"
)

// SendMessageToAgent uploads the files (an attachment record, then its
// presigned form), then posts the text with them as the customer (POST
// /v2.1/chat/messages). The engine's message id is the message's
// externalId: a try whose outcome is unknown is looked up by it before
// the message is sent again.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	st, ok := d.live()
	if !ok {
		return fmt.Errorf("kustomer: SendMessageToAgent %s: %w", messageID, servicedesk.ErrNoChat)
	}
	ctx, done := d.Life.Bind(ctx)
	defer done()
	return vendorkit.SendWithFiles(ctx, d.Callback, d.log, data.FilesToUpload, d.uploadFile, vendorkit.FileRefusal, func(ctx context.Context, files []wire.File) error {
		// A text past Kustomer's bound goes as several messages, the files
		// with the first; each part has its own externalId.
		parts := servicedesk.SplitText(message.Input.Text, maxBody)
		if len(parts) == 0 {
			if len(files) == 0 {
				return nil
			}
			parts = []string{""}
		}
		for i, text := range parts {
			id := vendorkit.PartID(messageID, i)
			body := map[string]any{"customerId": st.CustomerID, "session": st.ConversationID, "externalId": id}
			if text != "" {
				body["body"] = text
			}
			if i == 0 && len(files) > 0 {
				body["attachments"] = files
			}
			err := d.create(ctx, httpjson.Call{Op: "post message " + id, Method: http.MethodPost, Path: "/v2.1/chat/messages", Body: body},
				func(ctx context.Context) (bool, error) { return d.posted(ctx, id) })
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// live returns the state of a chat that goes on; false when there is
// none (not started, ended).
func (d *desk) live() (saved, bool) {
	st := d.State()
	return st, st.ConversationID != "" && !d.Ended()
}

// posted reports whether the session's latest messages hold the one with
// externalId id.
func (d *desk) posted(ctx context.Context, id string) (bool, error) {
	msgs, _, err := d.page(ctx, "")
	return slices.ContainsFunc(msgs, func(m wire.Message) bool { return m.Attributes.ExternalID == id }), err
}

// uploadFile makes the attachment record of f (POST /v1/attachments) and
// sends its bytes with the presigned form (its fields, then the file);
// it returns what the message references.
func (d *desk) uploadFile(ctx context.Context, f servicedesk.FileUpload) (wire.File, error) {
	content, err := f.File.ReadAll(ctx)
	if err != nil {
		return wire.File{}, fmt.Errorf("kustomer: upload %s: %w", f.ID, err)
	}
	file := wire.File{Name: servicedesk.Truncate(f.File.Name, 255), ContentType: cmp.Or(f.File.Type, "application/octet-stream"), ContentLength: int64(len(content))}
	var att wire.Attachment
	// A record made twice is harmless: the unused one is never referenced.
	if err := d.call(ctx, httpjson.Call{Op: "create attachment", Method: http.MethodPost, Path: "/v1/attachments",
		Body: map[string]any{"name": file.Name, "contentType": file.ContentType, "contentLength": file.ContentLength}, Out: &att}); err != nil {
		return wire.File{}, err
	}
	up := att.Meta.Upload
	if u, err := url.Parse(up.URL); att.Data.ID == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return wire.File{}, fmt.Errorf("kustomer: create attachment %s: no id or upload URL in the answer: %w", f.ID, servicedesk.ErrUnavailable)
	}
	parts := make([]httpjson.Part, 0, len(up.Fields)+1)
	for _, k := range slices.Sorted(maps.Keys(up.Fields)) {
		parts = append(parts, httpjson.Part{Name: k, Value: up.Fields[k]})
	}
	// The file is the form's last part, under "file" (core API "Create
	// attachment").
	parts = append(parts, httpjson.Part{Name: "file", Filename: file.Name, Type: file.ContentType, Size: file.ContentLength, Content: bytes.NewReader(content)})
	mp, ctype, _ := httpjson.Multipart(parts)
	form, err := io.ReadAll(mp)
	if err != nil {
		return wire.File{}, fmt.Errorf("kustomer: upload %s: %w", f.ID, err)
	}
	// The form goes to its own URL, without the API key.
	err = d.k.upload.Retry(ctx, d.k.policy(), httpjson.Call{Op: "upload " + f.ID, Method: http.MethodPost, Path: up.URL, Raw: form, ContentType: ctype}, nil, d.log)
	if err != nil {
		return wire.File{}, err
	}
	file.ID = att.Data.ID
	return file, nil
}

// FilesSelectedForUpload warns early about files outside the upload
// limits shown to the customer.
func (d *desk) FilesSelectedForUpload(_ context.Context, uploads []servicedesk.FileUpload) error {
	vendorkit.RefuseFiles(d.Callback, d.k.caps, uploads)
	return nil
}
