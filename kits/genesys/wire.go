package genesys

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Envelope is every frame of the guest WebSocket: a response to a request
// (type "response", carrying the request's tracingId) or a message pushed
// by Genesys (type "message"). Class names the body's shape; code is 200
// or an error code (4000–4029, 5xx).
type Envelope struct {
	Type      string          `json:"type"`
	Class     string          `json:"class"`
	Code      int             `json:"code"`
	Body      json.RawMessage `json:"body"`
	TracingID string          `json:"tracingId,omitempty"`
}

// Body classes.
const (
	ClassString             = "string"
	ClassSessionResponse    = "SessionResponse"
	ClassStructuredMessage  = "StructuredMessage"
	ClassPresignedURL       = "PresignedUrlResponse"
	ClassUploadSuccess      = "UploadSuccessEvent"
	ClassUploadFailure      = "UploadFailureEvent"
	ClassJwtResponse        = "JwtResponse"
	ClassSessionExpired     = "SessionExpiredEvent"
	ClassTooManyRequests    = "TooManyRequestsErrorMessage"
	ClassConnectionClosed   = "ConnectionClosedEvent"
	ClassSessionCleared     = "SessionClearedEvent"
	ClassLogout             = "LogoutEvent"
	ClassGenerateURLError   = "GenerateUrlError"
	ClassAttachmentDeleted  = "AttachmentDeletedResponse"
	healthCheckID           = "SGVhbHRoQ2hlY2tNZXNzYWdlSWQ="
	directionOutbound       = "Outbound"
	directionInbound        = "Inbound"
	presenceJoin            = "Join"
	presenceDisconnect      = "Disconnect"
	eventTypeTyping         = "Typing"
	eventTypePresence       = "Presence"
	contentTypeAttachment   = "Attachment"
	contentTypeQuickReply   = "QuickReply"
	contentTypeCard         = "Card"
	contentTypeButtonAnswer = "ButtonResponse"
)

// SessionResponse answers configureSession.
type SessionResponse struct {
	Connected    bool `json:"connected"`
	NewSession   bool `json:"newSession"`
	ReadOnly     bool `json:"readOnly"`
	AllowedMedia *struct {
		Inbound *struct {
			FileTypes []struct {
				Type string `json:"type"`
			} `json:"fileTypes"`
			MaxFileSizeKB float64 `json:"maxFileSizeKB"`
		} `json:"inbound"`
	} `json:"allowedMedia,omitempty"`
	BlockedExtensions  []string `json:"blockedExtensions,omitempty"`
	MaxCustomDataBytes float64  `json:"maxCustomDataBytes,omitempty"`
	DurationSeconds    float64  `json:"durationSeconds,omitempty"`
	ExpirationDate     float64  `json:"expirationDate,omitempty"`
}

// Message is a StructuredMessage.
type Message struct {
	ID                string            `json:"id"`
	Type              string            `json:"type"`
	Text              string            `json:"text,omitempty"`
	Direction         string            `json:"direction"`
	Channel           *Channel          `json:"channel,omitempty"`
	Content           []Content         `json:"content,omitempty"`
	Events            []Event           `json:"events,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	OriginatingEntity string            `json:"originatingEntity,omitempty"`
}

// Channel is a message's channel: when, and from whom.
type Channel struct {
	Time      string `json:"time,omitempty"`
	MessageID string `json:"messageId,omitempty"`
	From      *struct {
		Nickname  string `json:"nickname,omitempty"`
		FirstName string `json:"firstName,omitempty"`
		LastName  string `json:"lastName,omitempty"`
		Image     string `json:"image,omitempty"`
	} `json:"from,omitempty"`
}

// Content is one content item of a message.
type Content struct {
	ContentType string `json:"contentType"`
	Attachment  *struct {
		ID        string `json:"id"`
		URL       string `json:"url"`
		Filename  string `json:"filename"`
		MediaType string `json:"mediaType"`
		Mime      string `json:"mime,omitempty"`
		Text      string `json:"text,omitempty"`
	} `json:"attachment,omitempty"`
	QuickReply *struct {
		Text    string `json:"text"`
		Payload string `json:"payload"`
		Action  string `json:"action"`
	} `json:"quickReply,omitempty"`
	Card *struct {
		Title       string `json:"title"`
		Description string `json:"description,omitempty"`
		Image       string `json:"image,omitempty"`
		Actions     []struct {
			Type    string `json:"type"`
			Text    string `json:"text"`
			URL     string `json:"url,omitempty"`
			Payload string `json:"payload,omitempty"`
		} `json:"actions,omitempty"`
	} `json:"card,omitempty"`
}

// Event is one event of an Event message.
type Event struct {
	EventType string `json:"eventType"`
	Typing    *struct {
		Type     string `json:"type"`
		Duration int64  `json:"duration,omitempty"`
	} `json:"typing,omitempty"`
	Presence *struct {
		Type string `json:"type"`
	} `json:"presence,omitempty"`
}

// PresignedURL answers onAttachment.
type PresignedURL struct {
	AttachmentID string            `json:"attachmentId"`
	URL          string            `json:"url"`
	Headers      map[string]string `json:"headers"`
}

// UploadResult is UploadSuccessEvent or UploadFailureEvent.
type UploadResult struct {
	AttachmentID string `json:"attachmentId"`
	DownloadURL  string `json:"downloadUrl,omitempty"`
	ErrorCode    int    `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Timestamp    string `json:"timestamp"`
}

// TooManyRequests is the body of a 4029 answer.
type TooManyRequests struct {
	RetryAfter   int    `json:"retryAfter"`
	ErrorCode    int    `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// MessageEntityList is a page of the history REST call.
type MessageEntityList struct {
	Entities   []Message `json:"entities"`
	PageSize   int       `json:"pageSize"`
	PageNumber int       `json:"pageNumber"`
	Total      int       `json:"total"`
	PageCount  int       `json:"pageCount"`
}

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

// DecodeFrame reads one frame of the guest WebSocket.
func DecodeFrame(b []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("genesys: frame: %w", err)
	}
	if e.Class == "" && e.Type == "" {
		return e, errors.New("genesys: frame without type and class")
	}
	return e, nil
}

// errorOf reads an error answer.
func errorOf(op string, env Envelope) *Error {
	e := &Error{Op: op, Code: env.Code}
	switch env.Class {
	case ClassTooManyRequests:
		var t TooManyRequests
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
func toResponse(m Message) servicedesk.MessageResponse {
	var items []servicedesk.GenericItem
	if strings.TrimSpace(m.Text) != "" {
		items = append(items, servicedesk.TextItem(m.Text))
	}
	var choices []string
	for _, c := range m.Content {
		switch {
		case c.Attachment != nil && c.ContentType == contentTypeAttachment:
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

// capabilities turns a SessionResponse's allowedMedia into Carbon's
// capabilities. Blocked extensions cannot be expressed in an accept list:
// the desk refuses them on upload (4001), and FilesSelectedForUpload warns
// about them early.
func capabilities(s SessionResponse) servicedesk.Capabilities {
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
