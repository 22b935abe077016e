package deskproto

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// EventType names a desk event (docs/desk-protocol.md, "Events").
type EventType string

// The event types of the protocol. Unknown types are ignored.
const (
	EventCapabilities         EventType = "capabilities"
	EventQueueUpdate          EventType = "queue_update"
	EventAgentJoined          EventType = "agent_joined"
	EventAgentMessage         EventType = "agent_message"
	EventAgentTyping          EventType = "agent_typing"
	EventAgentRead            EventType = "agent_read"
	EventTransferStarted      EventType = "transfer_started"
	EventAgentLeft            EventType = "agent_left"
	EventAgentEnded           EventType = "agent_ended"
	EventChatEnded            EventType = "chat_ended"
	EventFileStatus           EventType = "file_status"
	EventScreenShareRequested EventType = "screen_share_requested"
	EventScreenShareEnded     EventType = "screen_share_ended"
	EventError                EventType = "error"
)

// Event is one desk event. Members that do not belong to Type are empty.
type Event struct {
	ID     string    `json:"id"`
	ChatID string    `json:"chat_id"`
	Seq    uint64    `json:"seq"`
	Type   EventType `json:"type"`
	Time   time.Time `json:"time,omitzero"`

	Capabilities     *servicedesk.Capabilities    `json:"capabilities,omitempty"`
	Position         *int                         `json:"position,omitempty"`
	WaitMinutes      *int                         `json:"wait_minutes,omitempty"`
	Agent            *servicedesk.AgentProfile    `json:"agent,omitempty"`
	MessageID        string                       `json:"message_id,omitempty"`
	Message          *servicedesk.MessageResponse `json:"message,omitempty"`
	Typing           *bool                        `json:"typing,omitempty"`
	ReadMessageID    string                       `json:"read_message_id,omitempty"`
	EndedBy          string                       `json:"ended_by,omitempty"`
	Reason           string                       `json:"reason,omitempty"`
	FileID           string                       `json:"file_id,omitempty"`
	FileStatus       string                       `json:"file_status,omitempty"`
	ScreenShareID    string                       `json:"screen_share_id,omitempty"`
	ScreenShareState servicedesk.ScreenShareState `json:"screen_share_state,omitempty"`
	Code             string                       `json:"code,omitempty"`
}

// DecodeEvent parses one event and checks the members every event has.
func DecodeEvent(data []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return Event{}, fmt.Errorf("deskproto: decode event: %w", err)
	}
	if err := ev.Check(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// Check reports whether ev has the members every event has.
func (ev Event) Check() error {
	if ev.ID == "" || ev.ChatID == "" || ev.Seq == 0 || ev.Type == "" {
		return fmt.Errorf("deskproto: decode event %q: id, chat_id, seq and type are required", ev.ID)
	}
	return nil
}

// Customer identifies the end user to the desk.
type Customer struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// StartRequest opens a chat (POST /v1/chats, or the WebSocket "start").
type StartRequest struct {
	Customer    *Customer                `json:"customer,omitempty"`
	ConnectItem *servicedesk.GenericItem `json:"connect_item,omitempty"`
	WebhookURL  string                   `json:"webhook_url,omitempty"`
	PreChat     json.RawMessage          `json:"pre_chat,omitempty"`
	// Handoff is what the desk shows the agent and routes on: the
	// verified customer, the user's unverified claims, routing
	// attributes, the bot's summary and the bot transcript.
	Handoff *servicedesk.Handoff `json:"handoff,omitempty"`
}

// ChatInfo is a chat's state as the desk reports it.
type ChatInfo struct {
	ChatID    string `json:"chat_id"`
	ChatToken string `json:"chat_token,omitempty"`
	// WebhookSecret (a start answer's) signs this chat's webhook
	// deliveries and no other chat's.
	WebhookSecret string                    `json:"webhook_secret,omitempty"`
	State         string                    `json:"state"`
	Capabilities  *servicedesk.Capabilities `json:"capabilities,omitempty"`
	LastSeq       uint64                    `json:"last_seq"`
	Agent         *servicedesk.AgentProfile `json:"agent,omitempty"`
	Position      *int                      `json:"position,omitempty"`
	WaitMinutes   *int                      `json:"wait_minutes,omitempty"`
	EndedBy       string                    `json:"ended_by,omitempty"`
}

// Chat states the desk reports.
const (
	StateQueued = "queued"
	StateActive = "active"
	StateEnded  = "ended"
)

// Availability answers GET /v1/availability.
type Availability struct {
	Online       bool                      `json:"online"`
	AgentsOnline int                       `json:"agents_online"`
	Waiting      int                       `json:"waiting"`
	WaitMinutes  int                       `json:"wait_minutes"`
	Capabilities *servicedesk.Capabilities `json:"capabilities,omitempty"`
}

// Message is a customer message with its idempotency key and files.
type Message struct {
	IdempotencyKey string                     `json:"-"`
	Message        servicedesk.MessageRequest `json:"message"`
	FileIDs        []string                   `json:"file_ids,omitempty"`
}

// SendResult answers a sent message.
type SendResult struct {
	MessageID      string    `json:"message_id"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	Replayed       bool      `json:"replayed"`
}

// FileResult is one file's outcome of an upload.
type FileResult struct {
	FileID string `json:"file_id"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	Name   string `json:"name,omitempty"`
	Size   int64  `json:"size"`
	Type   string `json:"type,omitempty"`
}

// UploadResult answers an upload (POST /v1/chats/{id}/files): one
// FileResult per file, in order.
type UploadResult struct {
	Files []FileResult `json:"files"`
}

// TypingRequest is the body of POST /v1/chats/{id}/typing; Typing is
// required.
type TypingRequest struct {
	Typing *bool `json:"typing"`
}

// ReadRequest is the body of POST /v1/chats/{id}/read: the agent messages
// read up to MessageID (all when empty).
type ReadRequest struct {
	MessageID string `json:"message_id,omitempty"`
}

// ScreenShareRequest is the body of POST /v1/chats/{id}/screen_share: the
// answer to a screen share request.
type ScreenShareRequest struct {
	ScreenShareID string                       `json:"screen_share_id"`
	State         servicedesk.ScreenShareState `json:"state"`
}

// WebhookRequest is the body of PUT /v1/chats/{id}/webhook.
type WebhookRequest struct {
	URL string `json:"url"`
}

// Page answers a long poll.
type Page struct {
	Events []Event `json:"events"`
	Cursor uint64  `json:"cursor"`
	Ended  bool    `json:"ended"`
}

// ClientFrame is a frame from the customer side of the WebSocket
// transport (docs/desk-protocol.md, "WebSocket").
type ClientFrame struct {
	// Type: hello, start, message, typing, read, end, screen_share,
	// screen_share_stop, availability, ping.
	Type string `json:"type"`
	// RequestID is echoed in the answer (ack, error, welcome, pong).
	RequestID string `json:"request_id,omitempty"`
	// hello
	ChatID    string `json:"chat_id,omitempty"`
	ChatToken string `json:"chat_token,omitempty"`
	LastSeq   uint64 `json:"last_seq,omitempty"`
	// start
	Start json.RawMessage `json:"start,omitempty"`
	// message
	Message        *servicedesk.MessageRequest `json:"message,omitempty"`
	IdempotencyKey string                      `json:"idempotency_key,omitempty"`
	FileIDs        []string                    `json:"file_ids,omitempty"`
	// typing
	Typing *bool `json:"typing,omitempty"`
	// read
	MessageID string `json:"message_id,omitempty"`
	// screen_share
	ScreenShareID string                       `json:"screen_share_id,omitempty"`
	State         servicedesk.ScreenShareState `json:"state,omitempty"`
}

// ServerFrame is a frame from the desk on the WebSocket transport
// (docs/desk-protocol.md, "WebSocket").
type ServerFrame struct {
	// Type: welcome, event, ack, error, pong, availability.
	Type string `json:"type"`
	// RequestID echoes the client frame's.
	RequestID string `json:"request_id,omitempty"`
	// welcome (ChatToken only after start)
	Chat      *ChatInfo `json:"chat,omitempty"`
	ChatToken string    `json:"chat_token,omitempty"`
	// event
	Event *Event `json:"event,omitempty"`
	// ack of a message
	Result *SendResult `json:"result,omitempty"`
	// availability
	Availability *Availability `json:"availability,omitempty"`
	// error
	Error *ErrorDetail `json:"error,omitempty"`
}

// ErrorBody is the error answer of every transport: {"error": {…}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody, and a WebSocket error frame's
// error.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// FileID names the rejected file of an upload.
	FileID string `json:"file_id,omitempty"`
	// RetryAfter, in seconds, is how long to wait before resending, on
	// WebSocket error frames with code rate_limited or unavailable (HTTP
	// answers carry the Retry-After header instead).
	RetryAfter int `json:"retry_after,omitempty"`
}

// AsError returns the detail as the protocol's error, with the HTTP
// status it came with (0 on a WebSocket).
func (d ErrorDetail) AsError(status int) *Error {
	return &Error{Status: status, Code: d.Code, Message: d.Message, FileID: d.FileID, RetryAfter: time.Duration(d.RetryAfter) * time.Second}
}
