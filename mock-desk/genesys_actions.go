package mockdesk

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// start opens the session's chat with the desk.
func (f *GenesysFace) start(sess *genesysSession, attrs map[string]string) error {
	if sess.chatID != "" {
		return nil
	}
	item := servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: attrs[f.opts.SummaryAttribute]}
	res, err := f.d.StartChat(f.d.ctx, deskproto.StartRequest{Customer: &deskproto.Customer{Name: "Guest"}, ConnectItem: &item})
	if err != nil {
		return err
	}
	sess.chatID, sess.chatToken = res.ChatID, res.ChatToken
	return nil
}

func (f *GenesysFace) onMessage(sess *genesysSession, req genesysRequest) *genesysEnvelope {
	ctx := f.d.ctx
	m := req.Message
	fail := func(err error) *genesysEnvelope {
		env := genesysError(req.TracingID, genesysCodeOf(err), Reason(err))
		return &env
	}
	var attrs map[string]string
	if m.Channel != nil && m.Channel.Metadata != nil {
		attrs = m.Channel.Metadata.CustomAttributes
	}
	switch m.Type {
	case "Event":
		for _, e := range m.Events {
			switch {
			case e.EventType == "Presence" && e.Presence != nil && e.Presence.Type == "Join":
				if err := f.start(sess, attrs); err != nil {
					return fail(err)
				}
			case e.EventType == "Typing" && e.Typing != nil && e.Typing.Type == "On":
				if sess.chatID == "" {
					continue
				}
				if err := f.d.customerTyping(ctx, sess.chatID, sess.chatToken, true); err != nil {
					return fail(err)
				}
				// Genesys typing has a duration; the desk sees it end.
				_ = f.d.customerTyping(ctx, sess.chatID, sess.chatToken, false)
			}
		}
		return nil
	case "Text", "Structured":
	default:
		return fail(fmt.Errorf("message type %q: %w", m.Type, ErrBadRequest))
	}
	if len(m.Text) > 4096 {
		env := genesysError(req.TracingID, 4011, "Message exceeded max message length.")
		return &env
	}
	if err := f.start(sess, attrs); err != nil {
		return fail(err)
	}
	var fileIDs []string
	for _, c := range m.Content {
		if c.ContentType == "Attachment" && c.Attachment != nil {
			f.mu.Lock()
			u := f.uploads[c.Attachment.ID]
			f.mu.Unlock()
			if u == nil || !u.uploaded {
				env := genesysError(req.TracingID, 4010, "Attachment "+c.Attachment.ID+" was not successfully uploaded.")
				return &env
			}
			fileIDs = append(fileIDs, c.Attachment.ID)
		}
	}
	key := m.Metadata["customMessageId"]
	msg := servicedesk.NewTextRequest(m.Text)
	msg.ID = key
	res, err := f.d.sendMessage(ctx, sess.chatID, sess.chatToken, key, msg, fileIDs)
	if err != nil {
		return fail(err)
	}
	// The guest's own message comes back, inbound, as its receipt.
	echo := genesysMessage{ID: res.MessageID, Type: "Text", Text: m.Text, Direction: "Inbound", Metadata: m.Metadata,
		Channel: &genesysChannel{Time: genesysTime(res.CreatedAt), MessageID: res.MessageID}}
	return &genesysEnvelope{Type: "message", Class: "StructuredMessage", Code: 200, Body: echo, TracingID: req.TracingID}
}

func (f *GenesysFace) onAttachment(r *http.Request, sess *genesysSession, req genesysRequest) *genesysEnvelope {
	if req.AttachmentID == "" || req.FileName == "" || req.FileType == "" {
		env := genesysError(req.TracingID, 4020, "attachmentId, fileName and fileType are required.")
		return &env
	}
	if err := f.start(sess, nil); err != nil {
		env := genesysError(req.TracingID, genesysCodeOf(err), Reason(err))
		return &env
	}
	f.d.mu.Lock()
	var caps servicedesk.Capabilities
	if c := f.d.chats[sess.chatID]; c != nil {
		caps = c.caps
	}
	f.d.mu.Unlock()
	blocked := false
	for _, ext := range f.opts.BlockedExtensions {
		if strings.HasSuffix(strings.ToLower(req.FileName), ext) {
			blocked = true
		}
	}
	if accepted, _ := caps.Accepts(req.FileName, req.FileType, req.FileSize); blocked || !accepted {
		// The desk records the refused file, then the guest gets the error.
		ctx := f.d.ctx
		_, err := f.d.sendMessage(ctx, sess.chatID, sess.chatToken, req.AttachmentID, servicedesk.MessageRequest{}, []string{req.AttachmentID})
		if err == nil {
			_, err = f.d.uploadFile(ctx, sess.chatID, sess.chatToken, req.AttachmentID, req.AttachmentID, req.FileName, req.FileType, nil, caps.MaxFileSizeBytes > 0 && req.FileSize > caps.MaxFileSizeBytes)
		}
		if err == nil {
			err = fmt.Errorf("file %s: %w", req.FileName, ErrFileTypeNotAllowed)
		}
		env := genesysError(req.TracingID, genesysCodeOf(err), Reason(err))
		return &env
	}
	f.mu.Lock()
	f.uploads[req.AttachmentID] = &genesysUpload{s: sess, id: req.AttachmentID, name: req.FileName, ctype: req.FileType, size: req.FileSize}
	f.mu.Unlock()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &genesysEnvelope{Type: "response", Class: "PresignedUrlResponse", Code: 200, TracingID: req.TracingID, Body: map[string]any{
		"attachmentId": req.AttachmentID, "url": scheme + "://" + r.Host + "/genesys/uploads/" + req.AttachmentID + "?X-Amz-Signature=" + newID("", 16),
		"headers": map[string]string{"x-amz-tagging": "abc", "Content-Type": req.FileType}, "fileName": req.FileName, "fileSize": req.FileSize, "fileType": req.FileType,
	}}
}

// putAttachment takes the upload; the desk checks the file, and the
// outcome goes to the guest's WebSocket as UploadSuccessEvent or
// UploadFailureEvent.
func (f *GenesysFace) putAttachment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	u := f.uploads[r.PathValue("id")]
	f.mu.Unlock()
	if u == nil || r.URL.Query().Get("X-Amz-Signature") == "" || r.Header.Get("Content-Type") != u.ctype || r.Header.Get("x-amz-tagging") == "" {
		http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, u.size))
	if err != nil || int64(len(b)) != u.size {
		http.Error(w, "<Error><Code>IncompleteBody</Code></Error>", http.StatusBadRequest)
		return
	}
	sess := u.s
	sess.mu.Lock()
	chatID, chatToken := sess.chatID, sess.chatToken
	sess.mu.Unlock()
	_, ferr := f.d.uploadFile(f.d.ctx, chatID, chatToken, u.id, "", u.name, u.ctype, b, false)
	f.mu.Lock()
	u.data, u.uploaded, u.failed = b, ferr == nil, ferr != nil
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	var env genesysEnvelope
	now := genesysTime(time.Now())
	if ferr != nil {
		env = genesysEnvelope{Type: "message", Class: "UploadFailureEvent", Code: genesysCodeOf(ferr), Body: map[string]any{"attachmentId": u.id, "errorCode": genesysCodeOf(ferr), "errorMessage": Reason(ferr), "timestamp": now}}
	} else {
		env = genesysEnvelope{Type: "message", Class: "UploadSuccessEvent", Code: 200, Body: map[string]any{"attachmentId": u.id, "downloadUrl": "https://api.example.invalid/downloads/" + u.id, "timestamp": now}}
	}
	f.d.mu.Lock()
	var conns []*wsConn
	if c := f.d.chats[chatID]; c != nil {
		for s := range c.conns {
			conns = append(conns, s)
		}
	}
	f.d.mu.Unlock()
	for _, s := range conns {
		f.reply(s, env)
	}
}
