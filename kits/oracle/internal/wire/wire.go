// Package wire holds the shapes of Oracle B2C Service's chat REST API that
// the kit sends and reads: establishSessions ("About Establish Sessions")
// and the consumer Engagement Engine operations (docs.oracle.com/en/cloud/
// saas/b2c-service/cxscc, op-engagement-api-consumer-fqsitename-v1-*).
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// EstablishPath is establishSessions' path on the site.
const EstablishPath = "/services/rest/crossChannelServices/latest/establishSessions"

// The system message names of the consumer getMessages page.
const (
	MsgWaitInfo   = "RNEngagementWaitInformationChangedMessage"
	MsgAdded      = "RNEngagementParticipantAddedMessage"
	MsgPosted     = "RNEngagementMessagePostedMessage"
	MsgActivity   = "RNEngagementActivityChangedMessage"
	MsgLeft       = "RNEngagementParticipantLeftMessage"
	MsgConcluded  = "RNEngagementConcludedMessage"
	MsgConnection = "RNEngagementParticipantConnectionStateChangedMessage"
)

// Activity modes (ActivityChanged, activity).
const (
	ModeResponding = "RESPONDING"
	ModeListening  = "LISTENING"
)

// Left and concluded reasons the kit tells apart.
const (
	LeftTransferredToAgent = "TRANSFERRED_TO_AGENT"
	LeftTransferredToQueue = "TRANSFERRED_TO_QUEUE"
	EndUserConcluded       = "END_USER_CONCLUDED"
)

// CustomField is one of sessionInformation's customFields.
type CustomField struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// SessionInformation is establishSessions' sessionInformation, sent as a
// JSON string.
type SessionInformation struct {
	FirstName    string        `json:"firstName,omitempty"`
	LastName     string        `json:"lastName,omitempty"`
	EmailAddress string        `json:"emailAddress,omitempty"`
	QueueID      int64         `json:"queueId,omitempty"`
	InterfaceID  int64         `json:"interfaceId,omitempty"`
	Question     string        `json:"question,omitempty"`
	CustomFields []CustomField `json:"customFields,omitempty"`
}

// EstablishRequest is establishSessions' body.
type EstablishRequest struct {
	SessionInformation string `json:"sessionInformation"`
}

// NewEstablishRequest puts info in its string form.
func NewEstablishRequest(info SessionInformation) EstablishRequest {
	b, _ := json.Marshal(info) // plain strings and numbers: it always marshals
	return EstablishRequest{SessionInformation: string(b)}
}

// Established is establishSessions' answer, its sessionServerResponse read.
type Established struct {
	JWT          string `json:"jwt"`
	ChannelToken string `json:"channelToken"`
	SiteName     string `json:"siteName"`
	ServerRaw    string `json:"sessionServerResponse"`
	Server       SessionServer
}

// SessionServer is the chat session server sessionServerResponse names.
type SessionServer struct {
	Domain string `json:"domain"`
	Port   int    `json:"port,omitempty"`
	Pool   string `json:"pool"`
}

// Token is the JWT the consumer calls carry: jwt, else channelToken.
func (e Established) Token() string {
	if e.JWT != "" {
		return e.JWT
	}
	return e.ChannelToken
}

// DecodeEstablished reads establishSessions' answer.
func DecodeEstablished(b []byte) (Established, error) {
	var e Established
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("establishSessions answer: %w", err)
	}
	if e.Token() == "" || e.SiteName == "" || e.ServerRaw == "" {
		return e, errors.New("establishSessions answer: no jwt, siteName or sessionServerResponse")
	}
	if err := json.Unmarshal([]byte(e.ServerRaw), &e.Server); err != nil {
		return e, fmt.Errorf("sessionServerResponse: %w", err)
	}
	if e.Server.Domain == "" || e.Server.Pool == "" {
		return e, errors.New("sessionServerResponse: no domain or pool")
	}
	return e, nil
}

// EngagementRequest is requestEngagement's body.
type EngagementRequest struct {
	ClientTransactionID int64 `json:"clientTransactionId,omitempty"`
}

// Engagement is requestEngagement's answer.
type Engagement struct {
	EngagementID int64  `json:"engagementId"`
	SessionID    string `json:"sessionId"`
	ClientID     int64  `json:"clientId"`
	ResultType   string `json:"resultType"`
}

// Post is postMessage's body.
type Post struct {
	Body                string `json:"body"`
	ClientTransactionID int64  `json:"clientTransactionId,omitempty"`
	ClientRequestTime   string `json:"clientRequestTime,omitempty"`
	MessageID           string `json:"messageId,omitempty"`
	RichText            bool   `json:"richText"`
}

// Activity is activity's body.
type Activity struct {
	Mode string `json:"mode"`
}

// QueueStatsQuery is getQueueStats' request parameter, URL encoded JSON.
func QueueStatsQuery(queueID int64, pool string) string {
	req, _ := json.Marshal(map[string]any{"queueId": queueID, "chatProactiveAvailableType": "AGENTS"})
	return "?" + url.Values{"pool": {pool}, "request": {string(req)}}.Encode()
}

// QueueStats is getQueueStats' answer, the members the kit reads.
type QueueStats struct {
	AvailableAgentSessions int `json:"availableAgentSessions"`
	TotalAvailableAgents   int `json:"totalAvailableAgents"`
}

// Online reports whether an agent can take a chat.
func (q QueueStats) Online() bool { return q.AvailableAgentSessions > 0 || q.TotalAvailableAgents > 0 }

// Message is one of getMessages' systemMessages: the members of every
// message name the kit maps (the others stay zero).
type Message struct {
	Name           string `json:"messageName"`
	SequenceNumber int64  `json:"sequenceNumber"`
	SequenceString string `json:"sequenceNumberString"`
	EngagementID   int64  `json:"engagementId"`
	ClientID       int64  `json:"clientId"`
	ClientIDString string `json:"clientIdString"`
	// WaitInformationChanged.
	Position                *float64 `json:"position"`
	ExpectedWaitTimeSeconds *float64 `json:"expectedWaitTimeSeconds"`
	// ParticipantAdded, ParticipantLeft.
	DisplayName      string `json:"name"`
	Role             string `json:"role"`
	Greeting         string `json:"greeting"`
	DisconnectReason string `json:"disconnectReason"`
	// MessagePosted.
	Body     string `json:"body"`
	RichText bool   `json:"richText"`
	// ActivityChanged.
	Mode string `json:"mode"`
	// Concluded.
	Reason string `json:"reason"`
	// ParticipantConnectionStateChanged.
	ConnectionState string `json:"connectionState"`
}

// Seq is the message's sequenceNumber (its string when only that came).
func (m Message) Seq() uint64 {
	if m.SequenceNumber > 0 {
		return uint64(m.SequenceNumber)
	}
	n, _ := strconv.ParseUint(m.SequenceString, 10, 64)
	return n
}

// Client is the message's participant as a string.
func (m Message) Client() string {
	if m.ClientIDString != "" {
		return m.ClientIDString
	}
	if m.ClientID == 0 {
		return ""
	}
	return strconv.FormatInt(m.ClientID, 10)
}

// Messages is getMessages' answer.
type Messages struct {
	SystemMessages []Message `json:"systemMessages"`
}

// DecodeMessages reads getMessages' answer; an empty body is no messages.
func DecodeMessages(b []byte) ([]Message, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var m Messages
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("getMessages answer: %w", err)
	}
	return m.SystemMessages, nil
}

// ErrorBody reads an error answer's {errorCode, message}.
func ErrorBody(b []byte) (code, message string) {
	var e struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	_ = json.Unmarshal(b, &e)
	return e.ErrorCode, e.Message
}
