// Package wire is the Genesys Cloud Web Messaging guest protocol as the kit
// reads and writes it: the WebSocket envelope, its body classes and the
// history REST call's page, from Genesys's guest API reference. It is
// internal: a host uses package genesys, never these shapes.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
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

// Body classes, and the other names of the protocol.
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
	HealthCheckID           = "SGVhbHRoQ2hlY2tNZXNzYWdlSWQ="
	DirectionOutbound       = "Outbound"
	DirectionInbound        = "Inbound"
	PresenceJoin            = "Join"
	PresenceDisconnect      = "Disconnect"
	EventTypeTyping         = "Typing"
	EventTypePresence       = "Presence"
	ContentTypeAttachment   = "Attachment"
	ContentTypeQuickReply   = "QuickReply"
	ContentTypeCard         = "Card"
	ContentTypeButtonAnswer = "ButtonResponse"
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
