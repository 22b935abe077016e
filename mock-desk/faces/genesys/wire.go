package genesysface

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// envelope is every frame the face sends.
type envelope struct {
	Type      string `json:"type"`
	Class     string `json:"class"`
	Code      int    `json:"code"`
	Body      any    `json:"body"`
	TracingID string `json:"tracingId,omitempty"`
}

// message is a StructuredMessage.
type message struct {
	ID                string            `json:"id"`
	Type              string            `json:"type"`
	Text              string            `json:"text,omitempty"`
	Direction         string            `json:"direction"`
	Channel           *channel          `json:"channel,omitempty"`
	Content           []map[string]any  `json:"content,omitempty"`
	Events            []map[string]any  `json:"events,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	OriginatingEntity string            `json:"originatingEntity,omitempty"`
}

// channel is a StructuredMessage's channel.
type channel struct {
	Time      string       `json:"time,omitempty"`
	MessageID string       `json:"messageId,omitempty"`
	From      *participant `json:"from,omitempty"`
}

// participant is channel.from.
type participant struct {
	Nickname string `json:"nickname,omitempty"`
	Image    string `json:"image,omitempty"`
}

// request is a guest request (the members the face reads).
type request struct {
	Action       string `json:"action"`
	Token        string `json:"token"`
	TracingID    string `json:"tracingId"`
	DeploymentID string `json:"deploymentId"`
	StartNew     bool   `json:"startNew"`
	Data         *struct {
		Code string `json:"code"` // configureAuthenticatedSession's JWT
	} `json:"data"`
	Message *struct {
		Type     string            `json:"type"`
		Text     string            `json:"text"`
		Metadata map[string]string `json:"metadata"`
		Content  []struct {
			ContentType string `json:"contentType"`
			Attachment  *struct {
				ID string `json:"id"`
			} `json:"attachment"`
		} `json:"content"`
		Events []struct {
			EventType string `json:"eventType"`
			Typing    *struct {
				Type string `json:"type"`
			} `json:"typing"`
			Presence *struct {
				Type string `json:"type"`
			} `json:"presence"`
		} `json:"events"`
		Channel *struct {
			Metadata *struct {
				CustomAttributes map[string]string `json:"customAttributes"`
			} `json:"metadata"`
		} `json:"channel"`
	} `json:"message"`
	AttachmentID string `json:"attachmentId"`
	FileName     string `json:"fileName"`
	FileType     string `json:"fileType"`
	FileSize     int64  `json:"fileSize"`
}

func wireTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// errorEnvelope is an error answer: a string body with a 4xxx (or 429, 500)
// code.
func errorEnvelope(tracingID string, code int, msg string) envelope {
	return envelope{Type: "response", Class: "string", Code: code, Body: msg, TracingID: tracingID}
}

// codeOf maps a desk error onto Genesys's error codes.
func codeOf(err error) int {
	switch {
	case errors.Is(err, mockdesk.ErrFileTooLarge):
		return 4002
	case errors.Is(err, mockdesk.ErrFileTypeNotAllowed), errors.Is(err, mockdesk.ErrUploadsDisabled):
		return 4001
	case errors.Is(err, mockdesk.ErrFileRejected):
		return 4003
	case errors.Is(err, mockdesk.ErrChatEnded), errors.Is(err, mockdesk.ErrChatNotFound), errors.Is(err, mockdesk.ErrUnauthorized):
		return 4007
	case errors.Is(err, mockdesk.ErrRateLimited):
		return 4029
	case errors.Is(err, mockdesk.ErrUnavailable):
		return 503
	case errors.Is(err, mockdesk.ErrMessageRejected), errors.Is(err, mockdesk.ErrBadRequest):
		return 4000
	}
	return 500
}

// fileTypes writes an accept list as Genesys's fileTypes: MIME
// types (wildcards kept), extensions turned into their usual MIME type.
func fileTypes(accept string) []map[string]string {
	ext := map[string]string{".pdf": "application/pdf", ".txt": "text/plain", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
	var out []map[string]string
	for _, a := range strings.Split(accept, ",") {
		a = strings.TrimSpace(a)
		if m, ok := ext[a]; ok {
			a = m
		}
		if a != "" && !strings.HasPrefix(a, ".") {
			out = append(out, map[string]string{"type": a})
		}
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("genesysface: encode %T: %v", v, err))
	}
	return b
}
