package connectface

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// Attachments: StartAttachmentUpload, the pre-signed S3 PUT, and
// CompleteAttachmentUpload.

type upload struct {
	p           *participant
	id          string
	name, ctype string
	size        int64
	clientToken string
	data        []byte
	uploaded    bool
}

func (f *Face) startAttachmentUpload(w http.ResponseWriter, r *http.Request, p *participant) {
	req, ok := decode[struct {
		ContentType           string
		AttachmentSizeInBytes int64
		AttachmentName        string
		ClientToken           string
	}](w, r, f.maxBody)
	if !ok {
		return
	}
	if req.AttachmentName == "" || req.ContentType == "" || req.ClientToken == "" || req.AttachmentSizeInBytes <= 0 {
		connectError(w, http.StatusBadRequest, "ValidationException", "AttachmentName, ContentType, ClientToken and a positive AttachmentSizeInBytes are required.")
		return
	}
	info, err := p.chat.Info(r.Context())
	if err != nil {
		errorOf(w, err)
		return
	}
	id := facekit.NewID("att_", 12)
	if accepted, _ := info.Capabilities.Accepts(req.AttachmentName, req.ContentType, req.AttachmentSizeInBytes); !accepted {
		// The desk records the refused file (the agent's side sees it),
		// then the caller gets Connect's error with the desk's reason.
		_, err := p.chat.Send(r.Context(), deskproto.Message{IdempotencyKey: req.ClientToken, FileIDs: []string{id}})
		if err == nil {
			_, err = p.chat.Upload(r.Context(), mockdesk.Upload{FileID: id, MessageID: req.ClientToken, Name: req.AttachmentName, Type: req.ContentType, Size: req.AttachmentSizeInBytes})
		}
		if err == nil {
			err = fmt.Errorf("attachment %s: %w", id, mockdesk.ErrBadRequest)
		}
		errorOf(w, err)
		return
	}
	f.mu.Lock()
	f.uploads[id] = &upload{p: p, id: id, name: req.AttachmentName, ctype: req.ContentType, size: req.AttachmentSizeInBytes, clientToken: req.ClientToken}
	f.mu.Unlock()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{
		"AttachmentId": id,
		"UploadMetadata": map[string]any{
			"Url":              scheme + "://" + r.Host + "/connect/s3/" + id + "?X-Amz-Signature=" + facekit.NewID("", 16),
			"UrlExpiry":        connectTime(time.Now().Add(5 * time.Minute)),
			"HeadersToInclude": map[string]string{"Content-Type": req.ContentType, "x-amz-server-side-encryption": "AES256"},
		},
	})
}

// putAttachment is the pre-signed S3 PUT.
func (f *Face) putAttachment(w http.ResponseWriter, r *http.Request) {
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

func (f *Face) completeAttachmentUpload(w http.ResponseWriter, r *http.Request, p *participant) {
	req, ok := decode[struct {
		AttachmentIDs []string `json:"AttachmentIds"`
		ClientToken   string
	}](w, r, f.maxBody)
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
		var data []byte
		uploaded := false
		if u != nil {
			data, uploaded = u.data, u.uploaded
		}
		f.mu.Unlock()
		if u == nil || u.p != p {
			connectError(w, http.StatusBadRequest, "ValidationException", "Attachment "+id+" is not known.")
			return
		}
		if !uploaded {
			connectError(w, http.StatusConflict, "ConflictException", "Attachment "+id+" has not been uploaded.")
			return
		}
		if _, err := p.chat.Send(r.Context(), deskproto.Message{IdempotencyKey: u.clientToken, FileIDs: []string{id}}); err != nil {
			errorOf(w, err)
			return
		}
		if _, err := p.chat.Upload(r.Context(), mockdesk.Upload{FileID: id, MessageID: u.clientToken, Name: u.name, Type: u.ctype, Content: data}); err != nil {
			errorOf(w, err)
			return
		}
	}
	facekit.WriteJSON(w, http.StatusOK, struct{}{})
}
