// Package wire holds the LiveChat Customer Chat API v3.6 shapes the kit
// reads and writes: RTM frames, events, users, pushes, and the customer
// token grant (livechat/livechat-public-docs, src/pages/messaging/
// customer-chat-api/{rtm-reference,rtm-pushes,data-structures}/index.mdx,
// payloads/messaging/v3.6/customer-chat-api/*.json, and
// src/pages/authorization/customer-authorization/index.mdx).
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Frame is any RTM frame from LiveChat: a response to a request (Type
// "response", RequestID echoed, Success) or a push (Type "push").
type Frame struct {
	RequestID string          `json:"request_id,omitempty"`
	Action    string          `json:"action"`
	Type      string          `json:"type"`
	Success   bool            `json:"success"`
	Payload   json.RawMessage `json:"payload,omitempty"`
}

// Request is an RTM request.
type Request struct {
	RequestID string `json:"request_id,omitempty"`
	Action    string `json:"action"`
	Payload   any    `json:"payload"`
}

// Frame types.
const (
	TypeResponse = "response"
	TypePush     = "push"
)

// ErrorBody is a failed response's payload (and the Web API's error body).
type ErrorBody struct {
	Error struct {
		Type    string         `json:"type"`
		Message string         `json:"message"`
		Data    map[string]any `json:"data,omitempty"`
	} `json:"error"`
}

// DecodeFrame parses one RTM frame and checks what every frame has.
func DecodeFrame(b []byte) (Frame, error) {
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, fmt.Errorf("livechat: frame: %w", err)
	}
	if f.Action == "" {
		return Frame{}, errors.New("livechat: frame without an action")
	}
	if f.Type != TypeResponse && f.Type != TypePush {
		return Frame{}, fmt.Errorf("livechat: frame of type %q", f.Type)
	}
	return f, nil
}

// Event types (data-structures, "Events").
const (
	EventMessage       = "message"
	EventFile          = "file"
	EventRichMessage   = "rich_message"
	EventSystemMessage = "system_message"
)

// Event is a chat event; members not of its Type are empty.
type Event struct {
	ID         string `json:"id,omitempty"`
	CustomID   string `json:"custom_id,omitempty"`
	CreatedAt  string `json:"created_at,omitempty"`
	Type       string `json:"type"`
	AuthorID   string `json:"author_id,omitempty"`
	Recipients string `json:"recipients,omitempty"`
	Text       string `json:"text,omitempty"`
	// File events.
	Name            string `json:"name,omitempty"`
	URL             string `json:"url,omitempty"`
	ContentType     string `json:"content_type,omitempty"`
	Size            int64  `json:"size,omitempty"`
	AlternativeText string `json:"alternative_text,omitempty"`
	// Rich messages.
	TemplateID string    `json:"template_id,omitempty"`
	Elements   []Element `json:"elements,omitempty"`
	// System messages.
	SystemMessageType string `json:"system_message_type,omitempty"`
}

// Element is one card of a rich message.
type Element struct {
	Title    string   `json:"title,omitempty"`
	Subtitle string   `json:"subtitle,omitempty"`
	Image    *Image   `json:"image,omitempty"`
	Buttons  []Button `json:"buttons,omitempty"`
}

// Image is a rich message element's image.
type Image struct {
	URL             string `json:"url"`
	Name            string `json:"name,omitempty"`
	ContentType     string `json:"content_type,omitempty"`
	AlternativeText string `json:"alternative_text,omitempty"`
}

// Button is a rich message button; Type "url" opens Value.
type Button struct {
	Text       string `json:"text"`
	Type       string `json:"type,omitempty"`
	Value      string `json:"value,omitempty"`
	PostbackID string `json:"postback_id,omitempty"`
}

// Time parses an event's created_at (RFC 3339, microseconds).
func (e Event) Time() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.CreatedAt)
	return t
}

// User is a chat user: a customer or an agent.
type User struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Name     string `json:"name,omitempty"`
	Avatar   string `json:"avatar,omitempty"`
	JobTitle string `json:"job_title,omitempty"`
	Present  bool   `json:"present,omitempty"`
}

// User types.
const (
	UserAgent    = "agent"
	UserCustomer = "customer"
)

// Thread is one thread of a chat, with its events.
type Thread struct {
	ID     string  `json:"id"`
	Active bool    `json:"active"`
	Events []Event `json:"events"`
	Queue  *Queue  `json:"queue,omitempty"`
}

// Queue is a thread's place in the queue; WaitTime is in seconds.
type Queue struct {
	Position *int `json:"position,omitempty"`
	WaitTime *int `json:"wait_time,omitempty"`
}

// Login is the login response's payload (what the kit reads of it).
type Login struct {
	Customer struct {
		ID string `json:"id"`
	} `json:"customer"`
}

// StartChat is start_chat's response payload.
type StartChat struct {
	ChatID   string   `json:"chat_id"`
	ThreadID string   `json:"thread_id"`
	EventIDs []string `json:"event_ids,omitempty"`
}

// SendEvent is send_event's response payload.
type SendEvent struct {
	EventID string `json:"event_id"`
}

// ListThreads is list_threads' response payload.
type ListThreads struct {
	Threads    []Thread `json:"threads"`
	NextPageID string   `json:"next_page_id,omitempty"`
}

// GetChat is get_chat's response payload.
type GetChat struct {
	ID     string  `json:"id"`
	Thread *Thread `json:"thread,omitempty"`
	Users  []User  `json:"users"`
}

// GroupStatuses is list_group_statuses' response payload: status by group
// id ("online", "online_for_queue", "offline").
type GroupStatuses struct {
	GroupsStatus map[string]string `json:"groups_status"`
}

// Group statuses.
const (
	GroupOnline         = "online"
	GroupOnlineForQueue = "online_for_queue"
)

// UploadFile is upload_file's (Web API) response.
type UploadFile struct {
	URL string `json:"url"`
}

// Push actions the kit follows (rtm-pushes).
const (
	PushIncomingEvent    = "incoming_event"
	PushTypingIndicator  = "incoming_typing_indicator"
	PushUserAdded        = "user_added_to_chat"
	PushUserRemoved      = "user_removed_from_chat"
	PushChatTransferred  = "chat_transferred"
	PushEventsSeen       = "events_marked_as_seen"
	PushQueuePosition    = "queue_position_updated"
	PushChatDeactivated  = "chat_deactivated"
	PushDisconnected     = "customer_disconnected"
	PushIncomingChat     = "incoming_chat"
	PushGroupsStatus     = "groups_status_updated"
	PushCustomerUpdated  = "customer_updated"
	PushThreadProperties = "thread_properties_updated"
)

// IncomingEvent is incoming_event's payload.
type IncomingEvent struct {
	ChatID   string `json:"chat_id"`
	ThreadID string `json:"thread_id"`
	Event    Event  `json:"event"`
}

// TypingIndicator is incoming_typing_indicator's payload.
type TypingIndicator struct {
	ChatID          string `json:"chat_id"`
	ThreadID        string `json:"thread_id"`
	TypingIndicator struct {
		AuthorID string `json:"author_id"`
		IsTyping bool   `json:"is_typing"`
	} `json:"typing_indicator"`
}

// UserAdded is user_added_to_chat's payload.
type UserAdded struct {
	ChatID   string `json:"chat_id"`
	ThreadID string `json:"thread_id,omitempty"`
	User     User   `json:"user"`
	Reason   string `json:"reason,omitempty"`
}

// UserRemoved is user_removed_from_chat's payload.
type UserRemoved struct {
	ChatID   string `json:"chat_id"`
	ThreadID string `json:"thread_id,omitempty"`
	UserID   string `json:"user_id"`
	Reason   string `json:"reason,omitempty"`
}

// ChatTransferred is chat_transferred's payload.
type ChatTransferred struct {
	ChatID        string `json:"chat_id"`
	ThreadID      string `json:"thread_id,omitempty"`
	TransferredTo struct {
		GroupIDs []int    `json:"group_ids,omitempty"`
		AgentIDs []string `json:"agent_ids,omitempty"`
	} `json:"transferred_to"`
	Queue *Queue `json:"queue,omitempty"`
}

// EventsSeen is events_marked_as_seen's payload.
type EventsSeen struct {
	UserID   string `json:"user_id"`
	ChatID   string `json:"chat_id"`
	SeenUpTo string `json:"seen_up_to"`
}

// QueuePosition is queue_position_updated's payload.
type QueuePosition struct {
	ChatID   string `json:"chat_id"`
	ThreadID string `json:"thread_id"`
	Queue    Queue  `json:"queue"`
}

// ChatDeactivated is chat_deactivated's payload; UserID is missing when
// the router closed the thread.
type ChatDeactivated struct {
	ChatID   string `json:"chat_id"`
	ThreadID string `json:"thread_id"`
	UserID   string `json:"user_id,omitempty"`
}

// Disconnected is customer_disconnected's payload.
type Disconnected struct {
	Reason string         `json:"reason"`
	Data   map[string]any `json:"data,omitempty"`
}

// Reconnect reports whether LiveChat's suggested behaviour for a
// customer_disconnected reason is to connect again (rtm-pushes, "Possible
// reasons"), and whether a new access token is needed first.
func Reconnect(reason string) (again, newToken bool) {
	switch reason {
	case "access_token_revoked", "access_token_expired":
		return true, true
	case "connection_evicted", "connection_timeout", "internal_error", "service_temporarily_unavailable", "too_many_unauthorized_connections":
		return true, false
	case "customer_temporarily_blocked":
		return true, false
	}
	// license_not_found, license_expired, misdirected_connection,
	// unsupported_version, too_many_connections, logged_out_remotely, and
	// reasons the documentation does not list.
	return false, false
}

// TokenRequest is the agent token grant's body (POST
// https://accounts.livechat.com/v2/customer/token with an agent access
// token): a new customer identity, or a new token for EntityID.
type TokenRequest struct {
	GrantType      string `json:"grant_type"`
	ClientID       string `json:"client_id"`
	ResponseType   string `json:"response_type"`
	EntityID       string `json:"entity_id,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
}

// Token is the token grant's answer.
type Token struct {
	AccessToken    string `json:"access_token"`
	EntityID       string `json:"entity_id"`
	ExpiresIn      int    `json:"expires_in"`
	TokenType      string `json:"token_type"`
	OrganizationID string `json:"organization_id,omitempty"`
}

// AccountsError is the accounts service's error body.
type AccountsError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}
