// Package wire holds the JSON shapes of Chatwoot's public client API and of
// the events its RoomChannel pushes to a contact (see the kit's README for
// where each comes from).
package wire

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Message types (message_type, as its integer).
const (
	Incoming = 0 // from the contact
	Outgoing = 1 // from an agent or an agent bot
	Activity = 2 // "Assigned to ... by ...": never sent to contacts
	Template = 3
)

// Sender types (sender.type).
const (
	SenderContact  = "contact"
	SenderUser     = "user"
	SenderAgentBot = "agent_bot"
)

// Conversation statuses.
const (
	StatusOpen     = "open"
	StatusPending  = "pending"
	StatusResolved = "resolved"
	StatusSnoozed  = "snoozed"
)

// Event names on the RoomChannel.
const (
	EventMessageCreated    = "message.created"
	EventMessageUpdated    = "message.updated"
	EventStatusChanged     = "conversation.status_changed"
	EventConversationUpd   = "conversation.updated"
	EventTypingOn          = "conversation.typing_on"
	EventTypingOff         = "conversation.typing_off"
	EventAssigneeChanged   = "assignee.changed"
	EventPresenceUpdate    = "presence.update"
	EventConversationOpen  = "conversation.opened"
	EventConversationResol = "conversation.resolved"
)

// Contact is the answer of POST .../contacts.
type Contact struct {
	ID          int64  `json:"id"`
	SourceID    string `json:"source_id"`
	PubsubToken string `json:"pubsub_token"`
	Name        string `json:"name"`
	Email       string `json:"email"`
}

// Conversation is a conversation as the public API and the events render
// it. ID is the display id the public paths use.
type Conversation struct {
	ID     ID     `json:"id"`
	Status string `json:"status"`
	Meta   *Meta  `json:"meta,omitempty"`
}

// Meta is an event's conversation meta: who is assigned.
type Meta struct {
	Assignee *Person `json:"assignee"`
}

// Person is a sender or an assignee (push_event_data of a user, contact or
// agent bot).
type Person struct {
	ID            ID     `json:"id"`
	Name          string `json:"name"`
	AvailableName string `json:"available_name"`
	AvatarURL     string `json:"avatar_url"`
	Thumbnail     string `json:"thumbnail"`
	Type          string `json:"type"`
}

// Message is a message as the messages list and message.created render it.
type Message struct {
	ID             ID           `json:"id"`
	Content        *string      `json:"content"`
	MessageType    int          `json:"message_type"`
	ContentType    string       `json:"content_type"`
	CreatedAt      int64        `json:"created_at"`
	ConversationID ID           `json:"conversation_id"`
	EchoID         string       `json:"echo_id,omitempty"`
	Private        bool         `json:"private,omitempty"`
	Attachments    []Attachment `json:"attachments,omitempty"`
	Sender         *Person      `json:"sender,omitempty"`
	Attributes     ContentAttrs `json:"content_attributes"`
}

// ContentAttrs are a message's content_attributes, as far as the kit reads
// them: the items of cards (and of input_select, which has no actions).
// Shapes it does not know are ignored rather than failing the message.
type ContentAttrs struct {
	Items []Item `json:"items"`
}

// UnmarshalJSON takes what it can and ignores the rest.
func (c *ContentAttrs) UnmarshalJSON(b []byte) error {
	var v struct {
		Items []Item `json:"items"`
	}
	if json.Unmarshal(b, &v) == nil {
		c.Items = v.Items
	}
	return nil
}

// Item is a card (title, description, media, actions) or an option.
type Item struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	MediaURL    string   `json:"media_url"`
	Value       string   `json:"value"`
	Actions     []Action `json:"actions"`
}

// Action is a card's button: a link (uri) or a postback (payload).
type Action struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	URI     string `json:"uri"`
	Payload string `json:"payload"`
}

// Text is the message's content, "" when null.
func (m Message) Text() string {
	if m.Content == nil {
		return ""
	}
	return *m.Content
}

// Attachment is a file of a message.
type Attachment struct {
	ID       ID     `json:"id"`
	FileType string `json:"file_type"`
	DataURL  string `json:"data_url"`
	ThumbURL string `json:"thumb_url"`
	FileSize int64  `json:"file_size"`
	Name     string `json:"name,omitempty"`
}

// Typing is the data of conversation.typing_on/off.
type Typing struct {
	Conversation Conversation `json:"conversation"`
	User         *Person      `json:"user"`
	IsPrivate    bool         `json:"is_private"`
}

// Event is one message of the RoomChannel: {"event": ..., "data": {...}}.
type Event struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// ID is an id Chatwoot renders as a number or, in some versions, a string.
type ID string

// UnmarshalJSON takes a number or a string.
func (i *ID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*i = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*i = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("wire: id %s: %w", b, err)
	}
	*i = ID(n.String())
	return nil
}

// Int is the id as a number (0 when it is none).
func (i ID) Int() int64 {
	n, _ := strconv.ParseInt(string(i), 10, 64)
	return n
}

// DecodeEvent reads one RoomChannel message.
func DecodeEvent(b []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return Event{}, fmt.Errorf("wire: decode event: %w", err)
	}
	return e, nil
}

// Decode reads an event's data (or an answer's body) into T.
func Decode[T any](b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("wire: decode %T: %w", v, err)
	}
	return v, nil
}
