package genesysface

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// The guest's actions: messages, events, attachments, JWTs, the end.

// handle runs one action of a configured session.
func (f *Face) handle(r *http.Request, sess *session, req request) *envelope {
	ctx := r.Context()
	ok := func(class string, body any) *envelope {
		return &envelope{Type: "response", Class: class, Code: 200, Body: body, TracingID: req.TracingID}
	}
	switch req.Action {
	case "echo":
		return ok("StructuredMessage", message{ID: facekit.NewID("", 16), Type: "Text", Text: "ping", Direction: "Inbound", Metadata: map[string]string{"customMessageId": "SGVhbHRoQ2hlY2tNZXNzYWdlSWQ="}})
	case "getJwt":
		f.mu.Lock()
		if sess.jwt == "" {
			sess.jwt = "eyJhbGciOiJIUzI1NiJ9." + facekit.NewID("", 24)
			f.jwts[sess.jwt] = sess
		}
		jwt := sess.jwt
		f.mu.Unlock()
		return ok("JwtResponse", map[string]any{"jwt": jwt, "exp": time.Now().Add(time.Hour).Unix()})
	case "closeSession":
		if sess.chat != nil {
			if err := sess.chat.End(ctx); err != nil && !errors.Is(err, mockdesk.ErrChatEnded) {
				return fail(req, err)
			}
		}
		return ok("SessionResponse", map[string]any{"connected": false, "readOnly": true})
	case "onAttachment":
		return f.onAttachment(r, sess, req)
	case "onMessage":
		if req.Message == nil {
			return fail(req, fmt.Errorf("message: %w", mockdesk.ErrBadRequest))
		}
		return f.onMessage(ctx, sess, req)
	}
	env := errorEnvelope(req.TracingID, 4000, "Unknown action "+strconv.Quote(req.Action)+".")
	return &env
}

// fail answers req with the desk error's Genesys code and reason.
func fail(req request, err error) *envelope {
	env := errorEnvelope(req.TracingID, codeOf(err), mockdesk.Reason(err))
	return &env
}

// start opens the session's chat with the desk.
func (f *Face) start(ctx context.Context, sess *session, attrs map[string]string) error {
	if sess.chat != nil {
		return nil
	}
	customer := deskproto.Customer{Name: "Guest"}
	if sess.customer != nil {
		customer = *sess.customer // an authenticated session
	}
	cc, err := f.d.StartCustomerChat(ctx, mockdesk.ChatStart{Customer: customer, Summary: attrs[f.opts.SummaryAttribute], Attributes: attrs})
	if err != nil {
		return err
	}
	sess.chat = cc
	return nil
}

func (f *Face) onMessage(ctx context.Context, sess *session, req request) *envelope {
	m := req.Message
	var attrs map[string]string
	if m.Channel != nil && m.Channel.Metadata != nil {
		attrs = m.Channel.Metadata.CustomAttributes
	}
	switch m.Type {
	case "Event":
		for _, e := range m.Events {
			switch {
			case e.EventType == "Presence" && e.Presence != nil && e.Presence.Type == "Join":
				if err := f.start(ctx, sess, attrs); err != nil {
					return fail(req, err)
				}
			case e.EventType == "Typing" && e.Typing != nil && e.Typing.Type == "On":
				if sess.chat == nil {
					continue
				}
				if err := sess.chat.Typing(ctx, true); err != nil {
					return fail(req, err)
				}
				// Genesys typing has a duration; the desk sees it end.
				_ = sess.chat.Typing(ctx, false)
			}
		}
		return nil
	case "Text", "Structured":
	default:
		return fail(req, fmt.Errorf("message type %q: %w", m.Type, mockdesk.ErrBadRequest))
	}
	if len(m.Text) > 4096 {
		env := errorEnvelope(req.TracingID, 4011, "Message exceeded max message length.")
		return &env
	}
	if err := f.start(ctx, sess, attrs); err != nil {
		return fail(req, err)
	}
	var fileIDs []string
	for _, c := range m.Content {
		if c.ContentType == "Attachment" && c.Attachment != nil {
			f.mu.Lock()
			u := f.uploads[c.Attachment.ID]
			uploaded := u != nil && u.uploaded
			f.mu.Unlock()
			if !uploaded {
				env := errorEnvelope(req.TracingID, 4010, "Attachment "+c.Attachment.ID+" was not successfully uploaded.")
				return &env
			}
			fileIDs = append(fileIDs, c.Attachment.ID)
		}
	}
	key := m.Metadata["customMessageId"]
	msg := servicedesk.NewTextRequest(m.Text)
	msg.ID = key
	res, err := sess.chat.Send(ctx, deskproto.Message{IdempotencyKey: key, Message: msg, FileIDs: fileIDs})
	if err != nil {
		return fail(req, err)
	}
	// The guest's own message comes back, inbound, as its receipt.
	echo := message{ID: res.MessageID, Type: "Text", Text: m.Text, Direction: "Inbound", Metadata: m.Metadata,
		Channel: &channel{Time: wireTime(res.CreatedAt), MessageID: res.MessageID}}
	return &envelope{Type: "message", Class: "StructuredMessage", Code: 200, Body: echo, TracingID: req.TracingID}
}

func (f *Face) onAttachment(r *http.Request, sess *session, req request) *envelope {
	ctx := r.Context()
	if req.AttachmentID == "" || req.FileName == "" || req.FileType == "" {
		env := errorEnvelope(req.TracingID, 4020, "attachmentId, fileName and fileType are required.")
		return &env
	}
	if err := f.start(ctx, sess, nil); err != nil {
		return fail(req, err)
	}
	var caps servicedesk.Capabilities
	if info, err := sess.chat.Info(ctx); err == nil {
		caps = *info.Capabilities
	}
	blocked := false
	for _, ext := range f.opts.BlockedExtensions {
		if strings.HasSuffix(strings.ToLower(req.FileName), ext) {
			blocked = true
		}
	}
	if accepted, _ := caps.Accepts(req.FileName, req.FileType, req.FileSize); blocked || !accepted {
		// The desk records the refused file, then the guest gets the error.
		_, err := sess.chat.Send(ctx, deskproto.Message{IdempotencyKey: req.AttachmentID, FileIDs: []string{req.AttachmentID}})
		if err == nil {
			_, err = sess.chat.Upload(ctx, mockdesk.Upload{FileID: req.AttachmentID, MessageID: req.AttachmentID, Name: req.FileName, Type: req.FileType, Size: req.FileSize})
		}
		if err == nil {
			err = fmt.Errorf("file %s: %w", req.FileName, mockdesk.ErrFileTypeNotAllowed)
		}
		return fail(req, err)
	}
	f.mu.Lock()
	f.uploads[req.AttachmentID] = &upload{s: sess, id: req.AttachmentID, name: req.FileName, ctype: req.FileType, size: req.FileSize}
	f.mu.Unlock()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &envelope{Type: "response", Class: "PresignedUrlResponse", Code: 200, TracingID: req.TracingID, Body: map[string]any{
		"attachmentId": req.AttachmentID, "url": scheme + "://" + r.Host + "/genesys/uploads/" + req.AttachmentID + "?X-Amz-Signature=" + facekit.NewID("", 16),
		"headers": map[string]string{"x-amz-tagging": "abc", "Content-Type": req.FileType}, "fileName": req.FileName, "fileSize": req.FileSize, "fileType": req.FileType,
	}}
}

// putAttachment takes the upload; the desk checks the file, and the
// outcome goes to the guest's WebSockets as UploadSuccessEvent or
// UploadFailureEvent.
func (f *Face) putAttachment(w http.ResponseWriter, r *http.Request) {
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
	u.s.mu.Lock()
	cc := u.s.chat
	u.s.mu.Unlock()
	_, ferr := cc.Upload(r.Context(), mockdesk.Upload{FileID: u.id, Name: u.name, Type: u.ctype, Content: b})
	f.mu.Lock()
	u.data, u.uploaded, u.failed = b, ferr == nil, ferr != nil
	var socks []*facekit.Socket
	for s := range f.sockets[cc.ID()] {
		socks = append(socks, s)
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	var env envelope
	now := wireTime(time.Now())
	if ferr != nil {
		env = envelope{Type: "message", Class: "UploadFailureEvent", Code: codeOf(ferr), Body: map[string]any{"attachmentId": u.id, "errorCode": codeOf(ferr), "errorMessage": mockdesk.Reason(ferr), "timestamp": now}}
	} else {
		env = envelope{Type: "message", Class: "UploadSuccessEvent", Code: 200, Body: map[string]any{"attachmentId": u.id, "downloadUrl": "https://api.example.invalid/downloads/" + u.id, "timestamp": now}}
	}
	for _, s := range socks {
		f.reply(s, env)
	}
}
