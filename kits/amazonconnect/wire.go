package amazonconnect

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
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

var (
	subscribeFrame = []byte(`{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}`)
	heartbeatFrame = []byte(`{"topic":"aws/heartbeat"}`)
)

// errNotJSON is returned for frames that are not a JSON object.
var errNotJSON = errors.New("amazonconnect: frame is not a JSON object")

// DecodeFrame reads one WebSocket frame: its topic and, for aws/chat, the
// transcript item its content holds (a JSON string holding the item, as
// documented; an object is accepted too). Other topics return a nil item.
func DecodeFrame(b []byte) (topic string, item *Item, err error) {
	var f struct {
		Topic   string          `json:"topic"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return "", nil, fmt.Errorf("%w: %w", errNotJSON, err)
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

var (
	imageParagraph = regexp.MustCompile(`^!\[([^\]]*)\]\((\S+)\)$`)
	linkParagraph  = regexp.MustCompile(`^\[([^\]]+)\]\((\S+)\)$`)
)

// decodeContent turns a MESSAGE item's content into a Carbon message.
// text/markdown is split into paragraphs: a paragraph that is only an image
// becomes an image item, only a link a link button, the rest text items
// (Carbon renders their markdown). Interactive messages become their title
// and choices as text. Other content types are shown as text.
func decodeContent(contentType, content string) servicedesk.MessageResponse {
	switch contentType {
	case CTTextMarkdown:
		var items []servicedesk.GenericItem
		for _, p := range strings.Split(content, "\n\n") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if m := imageParagraph.FindStringSubmatch(p); m != nil {
				items = append(items, servicedesk.ImageItem(m[2], m[1]))
			} else if m := linkParagraph.FindStringSubmatch(p); m != nil {
				items = append(items, servicedesk.LinkButtonItem(m[1], m[2]))
			} else {
				items = append(items, servicedesk.TextItem(p))
			}
		}
		if len(items) == 0 {
			items = append(items, servicedesk.TextItem(content))
		}
		return servicedesk.NewResponse(items...)
	case CTInteractive:
		return servicedesk.TextResponse(interactiveText(content))
	}
	return servicedesk.TextResponse(content)
}

// interactiveText renders an interactive message (ListPicker, QuickReply,
// TimePicker, Panel, Carousel templates) as its title and a list of its
// choices.
func interactiveText(content string) string {
	var m struct {
		TemplateType string `json:"templateType"`
		Data         struct {
			Content struct {
				Title    string `json:"title"`
				Subtitle string `json:"subtitle"`
				Elements []struct {
					Title string `json:"title"`
				} `json:"elements"`
			} `json:"content"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(content), &m) != nil || m.Data.Content.Title == "" {
		return content
	}
	var b strings.Builder
	b.WriteString(m.Data.Content.Title)
	if m.Data.Content.Subtitle != "" {
		b.WriteString("\n\n" + m.Data.Content.Subtitle)
	}
	for i, e := range m.Data.Content.Elements {
		if i == 0 {
			b.WriteString("\n")
		}
		b.WriteString("\n- " + e.Title)
	}
	return b.String()
}
