// Package wire holds the NICE CXone Digital chat shapes the kit speaks,
// as the CXone chat web SDK (nice-devone/nice-cxone-chat-web-sdk 3.3.0,
// dist/index.d.ts and dist/index.js) sends and reads them.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// Actions of a request frame (index.js: CHAT_WINDOW_EVENT, REGISTER).
const (
	ActionEvent    = "chatWindowEvent"
	ActionRegister = "register"
)

// Event types the kit sends (index.d.ts AwsInputEventType) and reads
// (AwsResponseEventType, PushUpdateEventType; the SDK's own ChatEvent
// names of the same events are read too).
const (
	SendMessage           = "SendMessage"
	TypingStarted         = "SenderTypingStarted"
	TypingEnded           = "SenderTypingEnded"
	MessageSeenByConsumer = "MessageSeenByConsumer"
	EndContact            = "EndContact"
	RecoverLivechat       = "RecoverLivechat"
	AuthorizeCustomer     = "AuthorizeCustomer"
	ReconnectConsumer     = "ReconnectConsumer"
	RefreshToken          = "RefreshToken"

	ConsumerAuthorized   = "ConsumerAuthorized"
	SetPositionInQueue   = "SetPositionInQueue"
	AssigneeChanged      = "CaseInboxAssigneeChanged"
	AssignedAgentChanged = "AssignedAgentChanged"
	CaseStatusChanged    = "CaseStatusChanged"
	ContactStatusChanged = "ContactStatusChanged"
	MessageCreated       = "MessageCreated"
	MessageSeenChanged   = "MessageSeenChanged"
	MessageReadChanged   = "MessageReadChanged"
	AgentTypingStarted   = "AgentTypingStarted"
	AgentTypingEnded     = "AgentTypingEnded"
	DirectionInbound     = "inbound"
	DirectionOutbound    = "outbound"
	ContentStreamed      = "STREAMED"
	StatusClosed         = "closed"
	StatusTrashed        = "trashed"
	AvailabilityOnline   = "online"
	AvailabilityOffline  = "offline"
	FinishStop           = "stop"
)

// Request is a frame to the gateway: {"action","eventId","payload"}.
type Request struct {
	Action  string  `json:"action"`
	EventID string  `json:"eventId"`
	Payload Payload `json:"payload"`
}

// Payload is a chat window event (index.js Tt): the brand, the channel,
// the customer and the event's data.
type Payload struct {
	EventType        string   `json:"eventType"`
	Brand            Brand    `json:"brand"`
	Channel          Channel  `json:"channel"`
	ConsumerIdentity Identity `json:"consumerIdentity"`
	Data             any      `json:"data"`
}

// Brand and Channel name where the chat goes.
type Brand struct {
	ID int `json:"id"`
}

type Channel struct {
	ID string `json:"id"`
}

// Identity is the customer (consumerIdentity).
type Identity struct {
	ID        string `json:"idOnExternalPlatform"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
}

// Ref names a thread or a contact in an event's data.
type Ref struct {
	ID                   string `json:"id,omitempty"`
	IDOnExternalPlatform string `json:"idOnExternalPlatform,omitempty"`
}

// Token is an access token with its lifetime in seconds (AccessToken).
type Token struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expiresIn,omitempty"`
}

// CustomField is one consumerContact custom field.
type CustomField struct {
	Ident string `json:"ident"`
	Value string `json:"value"`
}

// Attachment is a message's file: a temporary upload's url on the way
// in, the stored file on the way out.
type Attachment struct {
	ID           string `json:"id,omitempty"`
	URL          string `json:"url"`
	FriendlyName string `json:"friendlyName"`
	MimeType     string `json:"mimeType,omitempty"`
}

// Frame is what the gateway sends: the answer to a request (its eventId;
// eventType and data, or the same inside "postback", or an error), a
// push ({"eventId","eventObject","eventType","createdAt","data"}), or
// "pong".
type Frame struct {
	EventID   string          `json:"eventId"`
	EventType string          `json:"eventType"`
	CreatedAt string          `json:"createdAt,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	Error     *Error          `json:"error,omitempty"`
	Postback  *struct {
		EventType string          `json:"eventType"`
		Data      json.RawMessage `json:"data"`
	} `json:"postback,omitempty"`
	Pong bool `json:"-"`
}

// Error is an answer's error.
type Error struct {
	Code          string `json:"errorCode"`
	Message       string `json:"errorMessage"`
	TransactionID string `json:"transactionId,omitempty"`
}

// DecodeFrame reads one frame; a postback answer is read into EventType
// and Data as the SDK does.
func DecodeFrame(b []byte) (Frame, error) {
	if string(bytes.TrimSpace(b)) == `"pong"` {
		return Frame{Pong: true}, nil
	}
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, err
	}
	if f.Postback != nil {
		if f.EventType == "" {
			f.EventType = f.Postback.EventType
		}
		if len(f.Data) == 0 {
			f.Data = f.Postback.Data
		}
		f.Postback = nil
	}
	if f.EventType == "" && f.Error == nil {
		return Frame{}, errors.New("a frame without eventType or error")
	}
	return f, nil
}

// ID is a CXone id, a number or a string on the wire.
type ID string

// UnmarshalJSON takes a number or a string.
func (id *ID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*id = ""
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		*id = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*id = ID(n.String())
	return nil
}

// User is an agent as CXone shows it to customers (User).
type User struct {
	ID             ID     `json:"id"`
	FirstName      string `json:"firstName"`
	Surname        string `json:"surname"`
	Nickname       string `json:"nickname"`
	PublicImageURL string `json:"publicImageUrl"`
	IsBotUser      bool   `json:"isBotUser"`
}

// Name is the name a customer sees: the nickname, else the full name.
func (u User) Name() string {
	if u.Nickname != "" {
		return u.Nickname
	}
	if u.Surname == "" {
		return u.FirstName
	}
	return u.FirstName + " " + u.Surname
}

// Case is a contact (Case, Contact).
type Case struct {
	ID     ID     `json:"id"`
	Status string `json:"status"`
}

// Closed reports whether the contact is over.
func (c Case) Closed() bool { return c.Status == StatusClosed || c.Status == StatusTrashed }

// Element is a rich message's element; a BUTTON with a url is a link.
type Element struct {
	Type string `json:"type"`
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
}

// Content is a message's messageContent: TEXT (payload.text, elements)
// or STREAMED (payload.protocol, payload.sourceUrl).
type Content struct {
	Type    string `json:"type"`
	Payload struct {
		Text      string    `json:"text,omitempty"`
		Elements  []Element `json:"elements,omitempty"`
		Protocol  string    `json:"protocol,omitempty"`
		SourceURL string    `json:"sourceUrl,omitempty"`
	} `json:"payload"`
}

// Message is a thread's message (Message).
type Message struct {
	ID                   ID           `json:"id"`
	IDOnExternalPlatform string       `json:"idOnExternalPlatform"`
	Direction            string       `json:"direction"`
	CreatedAt            string       `json:"createdAt"`
	ThreadID             string       `json:"threadIdOnExternalPlatform"`
	AuthorUser           *User        `json:"authorUser"`
	Content              Content      `json:"messageContent"`
	Attachments          []Attachment `json:"attachments"`
}

// MessageEvent is MessageCreated's data, and SendMessage's answer.
type MessageEvent struct {
	Case    Case    `json:"case"`
	Message Message `json:"message"`
}

// Push is the data of the pushes the kit follows, in one shape: each
// has some of these fields (CaseInboxAssigneeChangedData, CaseStatusChangedData,
// SenderTypingStartedData, MessageSeenChanged, MessageReadChangedData,
// SetPositionInQueuePayloadData).
type Push struct {
	Case                  Case    `json:"case"`
	InboxAssignee         *User   `json:"inboxAssignee"`
	PreviousInboxAssignee *User   `json:"previousInboxAssignee"`
	Direction             string  `json:"direction"`
	Message               Message `json:"message"`
	PositionInQueue       *int    `json:"positionInQueue"`
}

// Recovered is LivechatRecovered's data (ThreadRecoveredPostbackData):
// the messages are newest first.
type Recovered struct {
	Thread        Ref       `json:"thread"`
	Contact       Case      `json:"contact"`
	InboxAssignee *User     `json:"inboxAssignee"`
	Messages      []Message `json:"messages"`
}

// Authorized is ConsumerAuthorized's data.
type Authorized struct {
	ConsumerIdentity Identity `json:"consumerIdentity"`
	AccessToken      Token    `json:"accessToken"`
}

// Refreshed is TokenRefreshed's data.
type Refreshed struct {
	AccessToken Token `json:"accessToken"`
}

// Availability is GET .../availability's answer.
type Availability struct {
	Status string `json:"status"`
}

// Upload is the temporary attachment upload's body.
type Upload struct {
	Content  string `json:"content"`
	FileName string `json:"fileName"`
	MimeType string `json:"mimeType"`
}

// Uploaded is its answer: the file's url, or the channel's file
// restrictions when the file is refused.
type Uploaded struct {
	FileURL              string     `json:"fileUrl"`
	AllowedFileSize      FlexNumber `json:"allowedFileSize"`
	AllowedFileTypes     []FileType `json:"allowedFileTypes"`
	IsAttachmentsEnabled *bool      `json:"isAttachmentsEnabled"`
	Message              string     `json:"message"`
}

// FileType is one allowed file type.
type FileType struct {
	MimeType    string `json:"mimeType"`
	Description string `json:"description"`
}

// FlexNumber is a number that may come as a string ("10").
type FlexNumber string

// UnmarshalJSON takes a number or a string.
func (n *FlexNumber) UnmarshalJSON(b []byte) error {
	var id ID
	if err := id.UnmarshalJSON(b); err != nil {
		return err
	}
	*n = FlexNumber(id)
	return nil
}

// Int is the number, 0 when it is none.
func (n FlexNumber) Int() int {
	v, _ := strconv.Atoi(string(n))
	return v
}

// Delta is one event of a streamed message's SSE source: a piece of the
// text, the last with finish_reason "stop".
type Delta struct {
	Delta struct {
		Content      string `json:"content"`
		FinishReason string `json:"finish_reason"`
	} `json:"delta"`
}
