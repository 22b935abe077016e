package mockdesk

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func (f *ConnectFace) startAttachmentUpload(w http.ResponseWriter, r *http.Request, p *connectParticipant) {
	req, ok := decodeConnect[struct {
		ContentType           string
		AttachmentSizeInBytes int64
		AttachmentName        string
		ClientToken           string
	}](w, r, f.d.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if req.AttachmentName == "" || req.ContentType == "" || req.ClientToken == "" || req.AttachmentSizeInBytes <= 0 {
		connectError(w, http.StatusBadRequest, "ValidationException", "AttachmentName, ContentType, ClientToken and a positive AttachmentSizeInBytes are required.")
		return
	}
	f.d.mu.Lock()
	c, ok := f.d.chats[p.chatID]
	var caps servicedesk.Capabilities
	if ok {
		caps = c.caps
	}
	f.d.mu.Unlock()
	id := newID("att_", 12)
	if accepted, _ := caps.Accepts(req.AttachmentName, req.ContentType, req.AttachmentSizeInBytes); !accepted {
		// The desk records the refused file (the agent's side sees it),
		// then the caller gets Connect's error with the desk's reason.
		_, err := f.d.sendMessage(r.Context(), p.chatID, p.chatToken, req.ClientToken, servicedesk.MessageRequest{}, []string{id})
		if err == nil {
			_, err = f.d.uploadFile(r.Context(), p.chatID, p.chatToken, id, req.ClientToken, req.AttachmentName, req.ContentType, nil, req.AttachmentSizeInBytes > caps.MaxFileSizeBytes && caps.MaxFileSizeBytes > 0)
		}
		if err == nil {
			err = fmt.Errorf("attachment %s: %w", id, ErrBadRequest)
		}
		connectErrorOf(w, err)
		return
	}
	f.mu.Lock()
	f.uploads[id] = &connectUpload{p: p, id: id, name: req.AttachmentName, ctype: req.ContentType, size: req.AttachmentSizeInBytes, clientToken: req.ClientToken}
	f.mu.Unlock()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	writeConnectJSON(w, map[string]any{
		"AttachmentId": id,
		"UploadMetadata": map[string]any{
			"Url":              scheme + "://" + r.Host + "/connect/s3/" + id + "?X-Amz-Signature=" + newID("", 16),
			"UrlExpiry":        connectTime(time.Now().Add(5 * time.Minute)),
			"HeadersToInclude": map[string]string{"Content-Type": req.ContentType, "x-amz-server-side-encryption": "AES256"},
		},
	})
}

// putAttachment is the pre-signed S3 PUT.
func (f *ConnectFace) putAttachment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	u := f.uploads[r.PathValue("id")]
	f.mu.Unlock()
	s3err := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
	}
	if u == nil || r.URL.Query().Get("X-Amz-Signature") == "" {
		s3err(http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	if r.Header.Get("Content-Type") != u.ctype || r.Header.Get("x-amz-server-side-encryption") != "AES256" {
		s3err(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, u.size))
	if err != nil || int64(len(b)) != u.size {
		s3err(http.StatusBadRequest, "IncompleteBody", "The request body does not have the declared size.")
		return
	}
	f.mu.Lock()
	u.data, u.uploaded = b, true
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (f *ConnectFace) completeAttachmentUpload(w http.ResponseWriter, r *http.Request, p *connectParticipant) {
	req, ok := decodeConnect[struct {
		AttachmentIDs []string `json:"AttachmentIds"`
		ClientToken   string
	}](w, r, f.d.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if len(req.AttachmentIDs) == 0 || req.ClientToken == "" {
		connectError(w, http.StatusBadRequest, "ValidationException", "AttachmentIds and ClientToken are required.")
		return
	}
	for _, id := range req.AttachmentIDs {
		f.mu.Lock()
		u := f.uploads[id]
		f.mu.Unlock()
		if u == nil || u.p != p {
			connectError(w, http.StatusBadRequest, "ValidationException", "Attachment "+id+" is not known.")
			return
		}
		if !u.uploaded {
			connectError(w, http.StatusConflict, "ConflictException", "Attachment "+id+" has not been uploaded.")
			return
		}
		if _, err := f.d.sendMessage(r.Context(), p.chatID, p.chatToken, u.clientToken, servicedesk.MessageRequest{}, []string{id}); err != nil {
			connectErrorOf(w, err)
			return
		}
		if _, err := f.d.uploadFile(r.Context(), p.chatID, p.chatToken, id, u.clientToken, u.name, u.ctype, u.data, false); err != nil {
			connectErrorOf(w, err)
			return
		}
	}
	writeConnectJSON(w, struct{}{})
}
