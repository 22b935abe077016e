// Package wire holds the JSON shapes of Salesforce's Messaging for In-App
// and Web API (SCRT2 iamessage v2 and the event router's SSE), as the
// developer guide's reference and Salesforce's messaging-web-api sample
// app use them. They are the kit's own, not exported.
package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// SSE event types ("event:" of the event router's stream).
const (
	EventMessage       = "CONVERSATION_MESSAGE"
	EventParticipant   = "CONVERSATION_PARTICIPANT_CHANGED"
	EventRouting       = "CONVERSATION_ROUTING_RESULT"
	EventTypingStarted = "CONVERSATION_TYPING_STARTED_INDICATOR"
	EventTypingStopped = "CONVERSATION_TYPING_STOPPED_INDICATOR"
	EventDelivered     = "CONVERSATION_DELIVERY_ACKNOWLEDGEMENT"
	EventRead          = "CONVERSATION_READ_ACKNOWLEDGEMENT"
	EventClose         = "CONVERSATION_CLOSE_CONVERSATION"
	EventPing          = "ping"
)

// Entry types (conversationEntry.entryType, entryPayload.entryType).
const (
	EntryMessage       = "Message"
	EntryParticipant   = "ParticipantChanged"
	EntryRouting       = "RoutingResult"
	EntryDelivered     = "DeliveryAcknowledgement"
	EntryRead          = "ReadAcknowledgement"
	EntryTypingStarted = "TypingStartedIndicator"
	EntryTypingStopped = "TypingStoppedIndicator"
	EntryClose         = "CloseConversation"
)

// Acknowledgement kinds of POST …/acknowledge-entries.
const (
	AckDelivery = "Delivery"
	AckRead     = "Read"
)

// Participant roles.
const (
	RoleEndUser = "EndUser"
	RoleAgent   = "Agent"
	RoleChatbot = "Chatbot"
	RoleSystem  = "System"
	RoleRouter  = "Router"
)

// Routing types and failure types of a RoutingResult.
const (
	RoutingInitial  = "Initial"
	RoutingTransfer = "Transfer"
	FailureNone     = "None"
)

// TokenRequest is the body of both access-token calls; the authenticated
// one adds AuthorizationType "JWT" and CustomerIdentityToken.
type TokenRequest struct {
	OrgID                 string            `json:"orgId"`
	ESDeveloperName       string            `json:"esDeveloperName"`
	CapabilitiesVersion   string            `json:"capabilitiesVersion"`
	Platform              string            `json:"platform"`
	Context               map[string]string `json:"context,omitempty"`
	AuthorizationType     string            `json:"authorizationType,omitempty"`
	CustomerIdentityToken string            `json:"customerIdentityToken,omitempty"`
}

// TokenResponse is the answer of the access-token and
// continuation-access-token calls.
type TokenResponse struct {
	AccessToken string `json:"accessToken"`
	LastEventID string `json:"lastEventId"`
}

// Participant is a conversation participant.
type Participant struct {
	Role             string `json:"role"`
	AppType          string `json:"appType,omitempty"`
	Subject          string `json:"subject,omitempty"`
	ClientIdentifier string `json:"clientIdentifier,omitempty"`
}

// Entry is a conversation entry: conversationEntry of an SSE event, or an
// item of the entries list. Payload is entryPayload decoded: a JSON string
// on the stream, an object in the list.
type Entry struct {
	SenderDisplayName     string          `json:"senderDisplayName"`
	Identifier            string          `json:"identifier"`
	EntryType             string          `json:"entryType"`
	RawPayload            json.RawMessage `json:"entryPayload"`
	Sender                Participant     `json:"sender"`
	TranscriptedTimestamp int64           `json:"transcriptedTimestamp"`
	RelatedRecords        []string        `json:"relatedRecords"`
	ClientTimestamp       int64           `json:"clientTimestamp,omitempty"`

	Payload Payload `json:"-"`
}

// Payload is the union of the entry payloads the kit reads.
type Payload struct {
	EntryType string `json:"entryType"`
	ID        string `json:"id"`
	// Message
	AbstractMessage *AbstractMessage `json:"abstractMessage,omitempty"`
	MessageReason   string           `json:"messageReason,omitempty"`
	// ParticipantChanged
	Entries []ParticipantChange `json:"entries,omitempty"`
	// RoutingResult
	RoutingType       string             `json:"routingType,omitempty"`
	FailureType       string             `json:"failureType,omitempty"`
	FailureReason     string             `json:"failureReason,omitempty"`
	EstimatedWaitTime *EstimatedWaitTime `json:"estimatedWaitTime,omitempty"`
	// Acknowledgements
	AcknowledgementTimestamp int64 `json:"acknowledgementTimestamp,omitempty"`
}

// AbstractMessage is a Message entry's message.
type AbstractMessage struct {
	MessageType        string         `json:"messageType"`
	ID                 string         `json:"id"`
	InReplyToMessageID string         `json:"inReplyToMessageId,omitempty"`
	StaticContent      *StaticContent `json:"staticContent,omitempty"`
	Choices            *Choices       `json:"choices,omitempty"`
}

// StaticContent is a StaticContentMessage's content: Text or Attachments.
type StaticContent struct {
	FormatType  string       `json:"formatType"`
	Text        string       `json:"text,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file of an Attachments message.
type Attachment struct {
	Name     string `json:"name"`
	ID       string `json:"id"`
	MimeType string `json:"mimeType"`
	URL      string `json:"url"`
}

// Choices is a ChoicesMessage's content (Buttons, QuickReplies).
type Choices struct {
	FormatType  string   `json:"formatType"`
	Text        string   `json:"text,omitempty"`
	OptionItems []Option `json:"optionItems,omitempty"`
}

// Option is one choice.
type Option struct {
	OptionIdentifier string `json:"optionIdentifier"`
	TitleItem        struct {
		Title string `json:"title"`
	} `json:"titleItem"`
}

// ParticipantChange is one participant of a ParticipantChanged entry.
type ParticipantChange struct {
	Operation   string      `json:"operation"`
	Participant Participant `json:"participant"`
	DisplayName string      `json:"displayName"`
}

// EstimatedWaitTime is a RoutingResult's wait estimate.
type EstimatedWaitTime struct {
	IsEWTRequested             bool `json:"isEWTRequested"`
	EstimatedWaitTimeInSeconds *int `json:"estimatedWaitTimeInSeconds"`
}

// Event is the data of an SSE event.
type Event struct {
	ChannelPlatformKey       string `json:"channelPlatformKey,omitempty"`
	ChannelType              string `json:"channelType,omitempty"`
	ChannelAddressIdentifier string `json:"channelAddressIdentifier,omitempty"`
	ConversationID           string `json:"conversationId"`
	ConversationEntry        Entry  `json:"conversationEntry"`
}

// DecodeEvent decodes an SSE event's data and its entry's payload.
func DecodeEvent(data []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return Event{}, fmt.Errorf("event: %w", err)
	}
	if err := ev.ConversationEntry.decodePayload(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// EntryList is the answer of GET …/conversation/{id}/entries.
type EntryList struct {
	ConversationEntries []Entry `json:"conversationEntries"`
}

// DecodeEntries decodes an entries list and each entry's payload.
func DecodeEntries(b []byte) ([]Entry, error) {
	var l EntryList
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("entries: %w", err)
	}
	for i := range l.ConversationEntries {
		if err := l.ConversationEntries[i].decodePayload(); err != nil {
			return nil, err
		}
	}
	return l.ConversationEntries, nil
}

// decodePayload reads entryPayload, a JSON string holding the object (the
// stream) or the object itself (the list); an absent one is empty.
func (e *Entry) decodePayload() error {
	raw := bytes.TrimSpace(e.RawPayload)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("entry %s: entryPayload: %w", e.Identifier, err)
		}
		raw = []byte(s)
	}
	if err := json.Unmarshal(raw, &e.Payload); err != nil {
		return fmt.Errorf("entry %s: entryPayload: %w", e.Identifier, err)
	}
	return nil
}

// ConversationList is the answer of GET …/conversation/list.
type ConversationList struct {
	OpenConversationsFound   int `json:"openConversationsFound"`
	ClosedConversationsFound int `json:"closedConversationsFound"`
	Conversations            []struct {
		ConversationID string `json:"conversationId"`
		StartTimestamp int64  `json:"startTimestamp"`
		EndTimestamp   int64  `json:"endTimestamp"`
	} `json:"conversations"`
}

// ErrorBody is an error answer's body, as far as the kit reads it.
type ErrorBody struct {
	Message   string `json:"message"`
	Error     string `json:"error"`
	ErrorCode string `json:"errorCode"`
}
