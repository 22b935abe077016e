// Package wire holds Twilio's documented shapes that the twilio kit reads
// and writes: the Conversations v1 and Flex Interactions resources (JSON,
// snake_case), the Media Content Service's media resource, the form
// parameters of Conversations webhooks and TaskRouter event callbacks, and
// Twilio's request signature. Nothing here does network work.
package wire

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Conversation is a Conversations v1 Conversation resource.
type Conversation struct {
	SID            string `json:"sid"`
	ChatServiceSID string `json:"chat_service_sid"`
	UniqueName     string `json:"unique_name"`
	State          string `json:"state"` // initializing, active, inactive, closed
	Attributes     string `json:"attributes"`
}

// Participant is a Conversation Participant resource.
type Participant struct {
	SID                  string `json:"sid"`
	ConversationSID      string `json:"conversation_sid"`
	Identity             string `json:"identity"`
	Attributes           string `json:"attributes"`
	LastReadMessageIndex *int   `json:"last_read_message_index"`
}

// ParticipantPage is a page of Participants.
type ParticipantPage struct {
	Participants []Participant `json:"participants"`
	Meta         Meta          `json:"meta"`
}

// Media is one media item of a Message.
type Media struct {
	SID         string `json:"sid"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Filename    string `json:"filename"`
	Category    string `json:"category"`
}

// Message is a Conversation Message resource.
type Message struct {
	SID             string  `json:"sid"`
	ConversationSID string  `json:"conversation_sid"`
	Index           int     `json:"index"`
	Author          string  `json:"author"`
	Body            string  `json:"body"`
	Media           []Media `json:"media"`
	ParticipantSID  string  `json:"participant_sid"`
	Attributes      string  `json:"attributes"`
	DateCreated     string  `json:"date_created"`
}

// MessagePage is a page of Messages.
type MessagePage struct {
	Messages []Message `json:"messages"`
	Meta     Meta      `json:"meta"`
}

// Meta is the paging block of a list answer.
type Meta struct {
	Page        int    `json:"page"`
	PageSize    int    `json:"page_size"`
	NextPageURL string `json:"next_page_url"`
	Key         string `json:"key"`
}

// Webhook is a Conversation Scoped Webhook resource.
type Webhook struct {
	SID           string `json:"sid"`
	Target        string `json:"target"`
	Configuration struct {
		URL     string   `json:"url"`
		Method  string   `json:"method"`
		Filters []string `json:"filters"`
	} `json:"configuration"`
}

// WebhookPage is a page of Webhooks.
type WebhookPage struct {
	Webhooks []Webhook `json:"webhooks"`
	Meta     Meta      `json:"meta"`
}

// User is a Conversations User resource (the agent's friendly name).
type User struct {
	SID          string `json:"sid"`
	Identity     string `json:"identity"`
	FriendlyName string `json:"friendly_name"`
}

// Interaction is a Flex Interaction resource.
type Interaction struct {
	SID     string `json:"sid"`
	Channel struct {
		SID  string `json:"sid"`
		Type string `json:"type"`
	} `json:"channel"`
}

// MediaResource is a Media Content Service media resource.
type MediaResource struct {
	SID         string `json:"sid"`
	ServiceSID  string `json:"service_sid"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Filename    string `json:"filename"`
	Links       struct {
		Content                string `json:"content"`
		ContentDirectTemporary string `json:"content_direct_temporary"`
	} `json:"links"`
}

// Conversations webhook event types the kit acts on, and the TaskRouter
// event types that end a chat.
const (
	OnMessageAdded             = "onMessageAdded"
	OnParticipantAdded         = "onParticipantAdded"
	OnParticipantUpdated       = "onParticipantUpdated"
	OnParticipantRemoved       = "onParticipantRemoved"
	OnConversationStateUpdated = "onConversationStateUpdated"
	OnConversationRemoved      = "onConversationRemoved"
	TaskCanceled               = "task.canceled"
	TaskCompleted              = "task.completed"
	TaskDeleted                = "task.deleted"
	TaskSystemDeleted          = "task.system-deleted"
)

// Filters are the scoped webhook's event filters.
var Filters = []string{OnMessageAdded, OnParticipantAdded, OnParticipantUpdated, OnParticipantRemoved, OnConversationStateUpdated, OnConversationRemoved}

// Event is one webhook delivery, decoded from its form parameters.
type Event struct {
	Type            string
	ConversationSID string
	// A message (onMessageAdded).
	MessageSID string
	Index      int
	Author     string
	Body       string
	Media      []Media
	Attributes string
	// A participant (onParticipant*).
	ParticipantSID       string
	Identity             string
	LastReadMessageIndex *int
	// The conversation's state (onConversationStateUpdated).
	StateTo string
	// A TaskRouter event: its id and why the task ended.
	EventSID string
	TaskSID  string
	Reason   string
	// DateUpdated tells two updates of one resource apart (dedupe).
	DateUpdated string
}

// Key names the delivery for dedupe when Twilio sends no idempotency
// token: two deliveries with one key are the same event.
func (e Event) Key() string {
	switch {
	case e.EventSID != "":
		return e.EventSID
	case e.Type == OnMessageAdded:
		return e.Type + "/" + e.MessageSID
	case e.Type == OnParticipantUpdated:
		ri := ""
		if e.LastReadMessageIndex != nil {
			ri = strconv.Itoa(*e.LastReadMessageIndex)
		}
		return e.Type + "/" + e.ParticipantSID + "/" + ri + "/" + e.DateUpdated
	case e.ParticipantSID != "":
		return e.Type + "/" + e.ParticipantSID
	}
	return e.Type + "/" + e.ConversationSID + "/" + e.StateTo
}

// ErrNotEvent is returned for a form that is no event the kit knows.
var ErrNotEvent = errors.New("twilio: not a Conversations or TaskRouter event")

// DecodeEvent reads a webhook's form parameters. Unknown event types are
// returned as they are (Type set), for the caller to ignore.
func DecodeEvent(form url.Values) (Event, error) {
	e := Event{Type: form.Get("EventType"), ConversationSID: form.Get("ConversationSid")}
	if e.Type == "" {
		return e, fmt.Errorf("%w: no EventType", ErrNotEvent)
	}
	if strings.HasPrefix(e.Type, "task.") {
		e.EventSID, e.TaskSID = form.Get("Sid"), form.Get("TaskSid")
		e.Reason = form.Get("TaskCanceledReason") + form.Get("TaskCompletedReason")
		if a := form.Get("TaskAttributes"); a != "" {
			var attrs struct {
				ConversationSID string `json:"conversationSid"`
			}
			if err := json.Unmarshal([]byte(a), &attrs); err != nil {
				return e, fmt.Errorf("twilio: TaskAttributes: %w", err)
			}
			e.ConversationSID = attrs.ConversationSID
		}
		return e, nil
	}
	if e.ConversationSID == "" {
		return e, fmt.Errorf("%w: no ConversationSid", ErrNotEvent)
	}
	e.DateUpdated = form.Get("DateUpdated")
	switch e.Type {
	case OnMessageAdded:
		e.MessageSID, e.Author, e.Body, e.Attributes = form.Get("MessageSid"), form.Get("Author"), form.Get("Body"), form.Get("Attributes")
		i, err := strconv.Atoi(form.Get("Index"))
		if err != nil || i < 0 || e.MessageSID == "" {
			return e, fmt.Errorf("twilio: %s: bad Index or MessageSid", e.Type)
		}
		e.Index = i
		if m := form.Get("Media"); m != "" {
			media, err := DecodeWebhookMedia(m)
			if err != nil {
				return e, err
			}
			e.Media = media
		}
	case OnParticipantAdded, OnParticipantUpdated, OnParticipantRemoved:
		e.ParticipantSID, e.Identity = form.Get("ParticipantSid"), form.Get("Identity")
		if e.ParticipantSID == "" {
			return e, fmt.Errorf("twilio: %s: no ParticipantSid", e.Type)
		}
		if s := form.Get("LastReadMessageIndex"); s != "" {
			i, err := strconv.Atoi(s)
			if err != nil {
				return e, fmt.Errorf("twilio: %s: LastReadMessageIndex: %w", e.Type, err)
			}
			e.LastReadMessageIndex = &i
		}
	case OnConversationStateUpdated:
		e.StateTo = form.Get("StateTo")
		e.Reason = form.Get("Reason")
	}
	return e, nil
}

// DecodeWebhookMedia reads a webhook's Media parameter: a JSON array whose
// items name their fields in PascalCase (Sid, ContentType, Filename, Size).
func DecodeWebhookMedia(s string) ([]Media, error) {
	var raw []struct {
		Sid         string `json:"Sid"`
		MediaSid    string `json:"MediaSid"`
		ContentType string `json:"ContentType"`
		Filename    string `json:"Filename"`
		Size        int64  `json:"Size"`
		Category    string `json:"Category"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("twilio: Media: %w", err)
	}
	out := make([]Media, 0, len(raw))
	for _, m := range raw {
		sid := m.Sid
		if sid == "" {
			sid = m.MediaSid
		}
		out = append(out, Media{SID: sid, ContentType: m.ContentType, Filename: m.Filename, Size: m.Size, Category: m.Category})
	}
	return out, nil
}

// Signature is Twilio's X-Twilio-Signature for a form POST to fullURL: the
// base64 HMAC-SHA1, keyed with the auth token, of the URL followed by every
// parameter's name and value, the names sorted.
func Signature(authToken, fullURL string, form url.Values) string {
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(fullURL))
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range form[k] {
			m.Write([]byte(k))
			m.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ValidSignature reports whether sig is the signature of the form POST
// under one of the tokens, compared in constant time.
func ValidSignature(tokens []string, fullURL string, form url.Values, sig string) bool {
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(got) == 0 {
		return false
	}
	ok := false
	for _, t := range tokens {
		want, _ := base64.StdEncoding.DecodeString(Signature(t, fullURL, form))
		if hmac.Equal(got, want) {
			ok = true
		}
	}
	return ok
}
