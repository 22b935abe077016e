// Package wire holds the Sunshine Conversations v2 shapes the kit sends and
// reads, named as in zendesk/sunshine-conversations-api-spec openapi.yaml.
package wire

import "encoding/json"

// Author types.
const (
	AuthorUser     = "user"
	AuthorBusiness = "business"
)

// Webhook trigger (event) types the kit acts on.
const (
	EventMessage         = "conversation:message"
	EventTyping          = "conversation:typing"
	EventRemove          = "conversation:remove"
	EventPassControl     = "switchboard:passControl"
	EventPassControlFail = "switchboard:passControl:failure"
	EventReleaseControl  = "switchboard:releaseControl"
)

// Activity types (POST …/activity, and the activity of typing and read
// events).
const (
	ActivityRead        = "conversation:read"
	ActivityTypingStart = "typing:start"
)

// Content types.
const (
	ContentText  = "text"
	ContentImage = "image"
	ContentFile  = "file"
)

// Author is a message's or an activity's author.
type Author struct {
	Type        string `json:"type"`
	UserID      string `json:"userId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	AvatarURL   string `json:"avatarUrl,omitempty"`
}

// Action is a message action; the kit shows link actions.
type Action struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
	URI  string `json:"uri,omitempty"`
}

// Content is a message's content (text, image, file; other types are read
// for their text).
type Content struct {
	Type         string   `json:"type"`
	Text         string   `json:"text,omitempty"`
	MarkdownText string   `json:"markdownText,omitempty"`
	MediaURL     string   `json:"mediaUrl,omitempty"`
	AltText      string   `json:"altText,omitempty"`
	Actions      []Action `json:"actions,omitempty"`
}

// Message is a message of a conversation (API responses and webhooks).
type Message struct {
	ID       string         `json:"id"`
	Author   Author         `json:"author"`
	Content  Content        `json:"content"`
	Metadata map[string]any `json:"metadata,omitempty"`
	Deleted  bool           `json:"deleted,omitempty"`
}

// SwitchboardIntegration is a conversation's active or pending integration.
type SwitchboardIntegration struct {
	ID              string `json:"id,omitempty"`
	Name            string `json:"name,omitempty"`
	IntegrationID   string `json:"integrationId,omitempty"`
	IntegrationType string `json:"integrationType,omitempty"`
}

// Conversation is conversationTruncated and conversation.
type Conversation struct {
	ID                           string                  `json:"id"`
	ActiveSwitchboardIntegration *SwitchboardIntegration `json:"activeSwitchboardIntegration,omitempty"`
}

// User is a Sunshine Conversations user.
type User struct {
	ID         string `json:"id"`
	ExternalID string `json:"externalId,omitempty"`
}

// Profile is a user's profile.
type Profile struct {
	GivenName string `json:"givenName,omitempty"`
	Email     string `json:"email,omitempty"`
	Locale    string `json:"locale,omitempty"`
}

// Activity is the activity of a typing or read event.
type Activity struct {
	Type   string `json:"type"`
	Author Author `json:"author"`
}

// Payload is an event's payload: the members of the event types the kit
// reads.
type Payload struct {
	Conversation *Conversation `json:"conversation,omitempty"`
	Message      *Message      `json:"message,omitempty"`
	Activity     *Activity     `json:"activity,omitempty"`
	Reason       string        `json:"reason,omitempty"`
	Error        *EventError   `json:"error,omitempty"`
}

// EventError is the error of a switchboard failure event.
type EventError struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// Event is one event of a webhook delivery.
type Event struct {
	ID        string  `json:"id"`
	Type      string  `json:"type"`
	CreatedAt string  `json:"createdAt,omitempty"`
	Payload   Payload `json:"payload"`
}

// Webhook is a webhook delivery's body: {app, webhook, events}.
type Webhook struct {
	App struct {
		ID string `json:"id"`
	} `json:"app"`
	Events []json.RawMessage `json:"events"`
}

// Meta is a list response's cursor information.
type Meta struct {
	HasMore      bool   `json:"hasMore"`
	BeforeCursor string `json:"beforeCursor,omitempty"`
}

// MessageList is a List Messages answer.
type MessageList struct {
	Messages []Message `json:"messages"`
	Meta     Meta      `json:"meta"`
}

// Errors is an error answer: {"errors": [{"code", "title"}]}.
type Errors struct {
	Errors []struct {
		Code  string `json:"code"`
		Title string `json:"title"`
	} `json:"errors"`
}

// Attachment is an Upload Attachment answer's attachment.
type Attachment struct {
	MediaURL  string `json:"mediaUrl"`
	MediaType string `json:"mediaType"`
}
