// Package wire is Amazon Connect's Participant Service as the kit reads
// it: transcript items (GetTranscript, the WebSocket's aws/chat frames),
// their content types, participant roles and frame topics, from the
// Participant Service API reference. It is internal: a host uses package
// amazonconnect, never these shapes.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Item is a Connect transcript item, as GetTranscript returns it and as
// the WebSocket's aws/chat frames carry it.
type Item struct {
	AbsoluteTime     string           `json:"AbsoluteTime"`
	Content          string           `json:"Content,omitempty"`
	ContentType      string           `json:"ContentType"`
	ID               string           `json:"Id"`
	Type             string           `json:"Type"`
	ParticipantID    string           `json:"ParticipantId,omitempty"`
	DisplayName      string           `json:"DisplayName,omitempty"`
	ParticipantRole  string           `json:"ParticipantRole,omitempty"`
	Attachments      []ItemAttachment `json:"Attachments,omitempty"`
	MessageMetadata  *MessageMetadata `json:"MessageMetadata,omitempty"`
	ContactID        string           `json:"ContactId,omitempty"`
	InitialContactID string           `json:"InitialContactId,omitempty"`
	RelatedContactID string           `json:"RelatedContactId,omitempty"`
}

// ItemAttachment is one attachment of an ATTACHMENT item.
type ItemAttachment struct {
	ContentType    string `json:"ContentType"`
	AttachmentID   string `json:"AttachmentId"`
	AttachmentName string `json:"AttachmentName"`
	// Status: APPROVED, REJECTED or IN_PROGRESS.
	Status string `json:"Status"`
}

// MessageMetadata carries receipts (item Type MESSAGEMETADATA).
type MessageMetadata struct {
	MessageID string    `json:"MessageId"`
	Receipts  []Receipt `json:"Receipts,omitempty"`
}

// Receipt is one participant's delivered/read receipt of a message.
type Receipt struct {
	DeliveredTimestamp     string `json:"DeliveredTimestamp,omitempty"`
	ReadTimestamp          string `json:"ReadTimestamp,omitempty"`
	RecipientParticipantID string `json:"RecipientParticipantId"`
}

// Content types of Connect chat events (application/vnd.amazonaws.connect.event.*)
// and messages.
const (
	eventPrefix              = "application/vnd.amazonaws.connect.event."
	CTParticipantJoined      = eventPrefix + "participant.joined"
	CTParticipantLeft        = eventPrefix + "participant.left"
	CTParticipantIdle        = eventPrefix + "participant.idle"
	CTParticipantReturned    = eventPrefix + "participant.returned"
	CTParticipantActive      = eventPrefix + "participant.active"
	CTParticipantInactive    = eventPrefix + "participant.inactive"
	CTParticipantInvited     = eventPrefix + "participant.invited"
	CTAutoDisconnection      = eventPrefix + "participant.autodisconnection"
	CTTyping                 = eventPrefix + "typing"
	CTTransferSucceeded      = eventPrefix + "transfer.succeeded"
	CTTransferFailed         = eventPrefix + "transfer.failed"
	CTChatEnded              = eventPrefix + "chat.ended"
	CTChatRehydrated         = eventPrefix + "chat.rehydrated"
	CTMessageDelivered       = eventPrefix + "message.delivered"
	CTMessageRead            = eventPrefix + "message.read"
	CTConnectionAcknowledged = eventPrefix + "connection.acknowledged"
	CTTextPlain              = "text/plain"
	CTTextMarkdown           = "text/markdown"
	CTInteractive            = "application/vnd.amazonaws.connect.message.interactive"
	CTInteractiveResponse    = "application/vnd.amazonaws.connect.message.interactive.response"
)

// Participant roles.
const (
	RoleAgent      = "AGENT"
	RoleCustomer   = "CUSTOMER"
	RoleSystem     = "SYSTEM"
	RoleCustomBot  = "CUSTOM_BOT"
	RoleSupervisor = "SUPERVISOR"
)

// Frame topics of the participant WebSocket.
const (
	TopicChat      = "aws/chat"
	TopicHeartbeat = "aws/heartbeat"
	TopicSubscribe = "aws/subscribe"
	TopicPing      = "aws/ping"
)

// The frames the customer sends: the subscription to aws/chat, and the
// application-level heartbeat.
var (
	SubscribeFrame = []byte(`{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}`)
	HeartbeatFrame = []byte(`{"topic":"aws/heartbeat"}`)
)

// ErrNotJSON is returned for frames that are not a JSON object.
var ErrNotJSON = errors.New("amazonconnect: frame is not a JSON object")

// DecodeFrame reads one WebSocket frame: its topic and, for aws/chat, the
// transcript item its content holds (a JSON string holding the item, as
// documented; an object is accepted too). Other topics return a nil item.
func DecodeFrame(b []byte) (topic string, item *Item, err error) {
	var f struct {
		Topic   string          `json:"topic"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	if f.Topic != TopicChat {
		return f.Topic, nil, nil
	}
	raw := f.Content
	var s string
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return f.Topic, nil, fmt.Errorf("amazonconnect: aws/chat content: %w", err)
		}
		raw = json.RawMessage(s)
	}
	var it Item
	if err := json.Unmarshal(raw, &it); err != nil {
		return f.Topic, nil, fmt.Errorf("amazonconnect: aws/chat item: %w", err)
	}
	if it.Type == "" {
		return f.Topic, nil, errors.New("amazonconnect: aws/chat item without Type")
	}
	return f.Topic, &it, nil
}
