package genesys

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/genesys/internal/wire"
)

// Error is an error answer of Genesys: a code of 4000–4029 (or an HTTP-like
// 4xx/5xx) and its message. It matches servicedesk.ErrRateLimited (4029,
// 429), ErrChatNotFound (4006 session expired, 4007 session not found),
// ErrUnavailable (5xx) or ErrRejected (the rest) with errors.Is.
type Error struct {
	Op         string
	Code       int
	Message    string
	RetryAfter int // seconds, for 4029
}

func (e *Error) Error() string {
	return fmt.Sprintf("genesys: %s: code %d: %s", e.Op, e.Code, e.Message)
}

// ErrorCode implements servicedesk.Coder: the kind of Genesys's code.
func (e *Error) ErrorCode() servicedesk.ErrorCode {
	switch {
	case e.Code == 4029 || e.Code == 429:
		return servicedesk.CodeRateLimited
	case e.Code == 4006 || e.Code == 4007 || e.Code == 403 || e.Code == 401:
		return servicedesk.CodeNotFound
	case e.Code >= 500 && e.Code < 600, e.Code == 408:
		return servicedesk.CodeUnavailable
	}
	return servicedesk.CodeRejected
}

// Unwrap returns the servicedesk sentinel of the error's kind.
func (e *Error) Unwrap() error { return e.ErrorCode().Err() }

// RetryDelay implements retry.Delayer: a 4029's retryAfter, or a
// history answer's Retry-After.
func (e *Error) RetryDelay() time.Duration { return time.Duration(e.RetryAfter) * time.Second }

// errorOf reads an error answer.
func errorOf(op string, env wire.Envelope) *Error {
	e := &Error{Op: op, Code: env.Code}
	switch env.Class {
	case wire.ClassTooManyRequests:
		var t wire.TooManyRequests
		_ = json.Unmarshal(env.Body, &t)
		e.Message, e.RetryAfter = t.ErrorMessage, t.RetryAfter
		if t.ErrorCode != 0 {
			e.Code = t.ErrorCode
		}
	default:
		var s string
		if json.Unmarshal(env.Body, &s) != nil {
			var m struct {
				ErrorMessage string `json:"errorMessage"`
				Message      string `json:"message"`
				ErrorCode    int    `json:"errorCode"`
			}
			_ = json.Unmarshal(env.Body, &m)
			s = m.ErrorMessage + m.Message
			if m.ErrorCode != 0 {
				e.Code = m.ErrorCode
			}
		}
		e.Message = s
	}
	return e
}

// toResponse turns an outbound message into a Carbon message: its text,
// then its content in order (image attachments as image items, other files
// as link buttons, card Link actions as link buttons, quick replies and
// other card actions as a list of choices in text).
func toResponse(m wire.Message) servicedesk.MessageResponse {
	var items []servicedesk.GenericItem
	if strings.TrimSpace(m.Text) != "" {
		items = append(items, servicedesk.TextItem(m.Text))
	}
	var choices []string
	for _, c := range m.Content {
		switch {
		case c.Attachment != nil && c.ContentType == wire.ContentTypeAttachment:
			a := c.Attachment
			if a.MediaType == "Image" || strings.HasPrefix(a.Mime, "image/") {
				items = append(items, servicedesk.ImageItem(a.URL, a.Filename))
			} else {
				items = append(items, servicedesk.LinkButtonItem(a.Filename, a.URL))
			}
		case c.QuickReply != nil:
			choices = append(choices, c.QuickReply.Text)
		case c.Card != nil:
			for _, a := range c.Card.Actions {
				if a.Type == "Link" && a.URL != "" {
					items = append(items, servicedesk.LinkButtonItem(a.Text, a.URL))
				} else {
					choices = append(choices, a.Text)
				}
			}
		}
	}
	if len(choices) > 0 {
		items = append(items, servicedesk.TextItem("- "+strings.Join(choices, "\n- ")))
	}
	if len(items) == 0 {
		items = append(items, servicedesk.TextItem(m.Text))
	}
	return servicedesk.NewResponse(items...)
}

// capabilities turns a wire.SessionResponse's allowedMedia into Carbon's
// capabilities. Blocked extensions cannot be expressed in an accept list:
// the desk refuses them on upload (4001), and FilesSelectedForUpload warns
// about them early.
func capabilities(s wire.SessionResponse) servicedesk.Capabilities {
	c := servicedesk.Capabilities{}
	if s.AllowedMedia == nil || s.AllowedMedia.Inbound == nil || len(s.AllowedMedia.Inbound.FileTypes) == 0 {
		return c
	}
	var types []string
	for _, t := range s.AllowedMedia.Inbound.FileTypes {
		if t.Type == "*/*" || t.Type == "*" {
			types = nil
			break
		}
		types = append(types, t.Type)
	}
	c.AllowFileUploads = true
	c.AllowMultipleFileUploads = true
	c.AllowedFileUploadTypes = strings.Join(types, ",")
	c.MaxFileSizeBytes = int64(s.AllowedMedia.Inbound.MaxFileSizeKB * 1024)
	return c
}
