// Package wire holds the Kustomer shapes the kit sends and reads: JSON:API
// resources of the v1 core API and the v2.1 chat API, and the outbound
// webhook's event envelope, named as on developer.kustomer.com.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Message directions: in is the customer's, out the org's (an agent, a
// bot, an imported turn).
const (
	DirectionIn  = "in"
	DirectionOut = "out"
)

// Conversation statuses.
const StatusDone = "done"

// Event names the kit reads (docs/events/event-catalog).
const (
	EventMessageCreate      = "kustomer.message.create"
	EventConversationCreate = "kustomer.conversation.create"
	EventConversationUpdate = "kustomer.conversation.update"
)

// Ref is a JSON:API relationship: {"data": {"type", "id"}}.
type Ref struct {
	Data *struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"data"`
}

// ID is the related resource's id, "" when there is none.
func (r *Ref) ID() string {
	if r == nil || r.Data == nil {
		return ""
	}
	return r.Data.ID
}

// Customer is a customer resource (core API "Create customer").
type Customer struct {
	ID         string `json:"id"`
	Attributes struct {
		ExternalID string `json:"externalId"`
	} `json:"attributes"`
}

// ChatSession is a chat_session resource (v2.1 "Create a chat session
// via handoff"); its id is its conversation's.
type ChatSession struct {
	ID         string `json:"id"`
	Attributes struct {
		Active         bool   `json:"active"`
		ConversationID string `json:"conversationId"`
	} `json:"attributes"`
}

// File is an attachment of a chat message, and what a message references
// of an uploaded attachment.
type File struct {
	ID            string `json:"_id"`
	Name          string `json:"name"`
	ContentType   string `json:"contentType"`
	ContentLength int64  `json:"contentLength"`
	URL           string `json:"url,omitempty"`
}

// Message is a chat_message resource (v2.1 "List messages for a chat
// session").
type Message struct {
	ID         string `json:"id"`
	Attributes struct {
		Body        string `json:"body"`
		Direction   string `json:"direction"`
		ExternalID  string `json:"externalId"`
		CreatedAt   string `json:"createdAt"`
		Attachments []File `json:"attachments"`
	} `json:"attributes"`
	Relationships struct {
		CreatedBy    *Ref `json:"createdBy"`
		Conversation *Ref `json:"conversation"`
		Session      *Ref `json:"session"`
	} `json:"relationships"`
}

// Conversation is a conversation resource (core API "Get conversation").
type Conversation struct {
	ID         string `json:"id"`
	Attributes struct {
		Status        string   `json:"status"`
		AssignedUsers []string `json:"assignedUsers"`
		UpdatedAt     string   `json:"updatedAt"`
	} `json:"attributes"`
}

// User is a user resource (core API "Get user"): an agent.
type User struct {
	ID         string `json:"id"`
	Attributes struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
		AvatarURL   string `json:"avatarUrl"`
	} `json:"attributes"`
}

// Attachment is the answer to POST /v1/attachments (docs/guides/
// attachments): the record and the presigned form its bytes go to.
type Attachment struct {
	Data struct {
		ID string `json:"id"`
	} `json:"data"`
	Meta struct {
		Upload struct {
			URL    string            `json:"url"`
			Fields map[string]string `json:"fields"`
		} `json:"upload"`
	} `json:"meta"`
}

// Doc is a JSON:API document of one resource.
type Doc[T any] struct {
	Data T `json:"data"`
}

// MessagePage is a page of a session's messages, with the link to the
// next page (nil on the last).
type MessagePage struct {
	Data  []Message `json:"data"`
	Links struct {
		Next *string `json:"next"`
	} `json:"links"`
}

// Errors is Kustomer's error answer.
type Errors struct {
	Errors []struct {
		Status json.RawMessage `json:"status"`
		Code   string          `json:"code"`
		Title  string          `json:"title"`
		Detail string          `json:"detail"`
	} `json:"errors"`
}

// Event is the outbound webhook's event envelope
// (docs/events/outbound-webhooks): data is the full resource, a
// chat_message or a conversation for the events the kit reads.
type Event struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Org       string `json:"org"`
	CreatedAt string `json:"createdAt"`
	Data      struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes struct {
			Direction string `json:"direction"`
		} `json:"attributes"`
		Relationships struct {
			Conversation *Ref `json:"conversation"`
		} `json:"relationships"`
	} `json:"data"`
}

// Conversation is the id of the conversation the event is about: the
// conversation itself, or a message's.
func (e Event) Conversation() string {
	if e.Data.Type == "conversation" {
		return e.Data.ID
	}
	return e.Data.Relationships.Conversation.ID()
}

// DecodeEvent decodes a webhook body: an envelope with an id, a name and
// a resource.
func DecodeEvent(body []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return ev, fmt.Errorf("not an event envelope: %w", err)
	}
	if ev.ID == "" || ev.Name == "" || ev.Data.Type == "" {
		return ev, errors.New("an event envelope needs an id, a name and data")
	}
	return ev, nil
}
