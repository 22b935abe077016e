// Package wire holds the shapes of eGain chat's customer side as IBM's
// service desk starter kit drives it (src/egain/webChat/client/src/
// egainServiceDesk.ts): the relay's initialize call and WebSocket frames,
// and the Conversation Hub messages they carry (eGain Conversation Manager
// API v3, "Send message": the message types). Members the kit does not
// show are inferred; the kit's README says which.
package wire

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// The relay's strings (the starter kit's).
const (
	// EndMessage is the customer message that ends the conversation.
	EndMessage = "End conversation"
	// AgentEndText is the text an agent's end of the chat arrives as.
	AgentEndText = "agent.end.conversation"
	// StatusEnded is the status frame of a conversation that is over.
	StatusEnded = "Conversation ended"
	// StatusBadSession answers an opening frame the relay does not know.
	StatusBadSession = "Invalid session"
	// StatusAccepted answers a customer action that was taken.
	StatusAccepted = "accepted"
	// StatusConnected follows a new connection's replay (inferred).
	StatusConnected = "connected"
)

// Conversation Hub message types a customer receives or sends.
const (
	TypeText              = "text"
	TypeTypingStart       = "typing.start"
	TypeTypingEnd         = "typing.end"
	TypeAgentJoin         = "agent.join"
	TypeAgentTransfer     = "agent.transfer"
	TypeQueueTransfer     = "queue.transfer"
	TypeAgentUnavailable  = "agent.unavailable"
	TypeConversationEnd   = "conversation.end"
	TypeConversationState = "conversation.state"
)

// Attribute is one Conversation Hub metadata attribute.
type Attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Customer names the customer at initialize (inferred).
type Customer struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// InitRequest is initialize's body: the starter kit's sessionId and
// userId; the entry point, the customer and the attributes inferred.
type InitRequest struct {
	SessionID    string      `json:"sessionId"`
	UserID       string      `json:"userId"`
	EntryPointID string      `json:"entryPointId,omitempty"`
	Customer     *Customer   `json:"customer,omitempty"`
	Attributes   []Attribute `json:"attributes,omitempty"`
}

// InitResponse is initialize's answer.
type InitResponse struct {
	SessionToken string `json:"sessionToken"`
}

// ClientFrame is a frame the customer sends: the opening frame (UserID and
// LastMessageID) or an action (Message, or Type with MessageID, inferred).
type ClientFrame struct {
	UserID        string `json:"userId,omitempty"`
	SessionID     string `json:"sessionId"`
	CustomerID    string `json:"CustomerId"`
	SessionToken  string `json:"sessionToken"`
	LastMessageID string `json:"lastMessageId,omitempty"`
	Message       string `json:"message,omitempty"`
	Type          string `json:"type,omitempty"`
	MessageID     string `json:"messageId,omitempty"`
}

// ErrorBody is an action's refusal (inferred).
type ErrorBody struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	RetryAfter int    `json:"retryAfter,omitempty"`
}

// Push is a frame the relay pushes: a Conversation Hub message
// (EGainMessage, a JSON string), a status, or an action's answer
// (MessageID with Status or Error).
type Push struct {
	Authorization string     `json:"authorization"`
	EGainMessage  string     `json:"eGainMessage,omitempty"`
	Status        string     `json:"status,omitempty"`
	MessageID     string     `json:"messageId,omitempty"`
	Error         *ErrorBody `json:"error,omitempty"`
}

// Message is a Conversation Hub message: its type and value (ID
// inferred).
type Message struct {
	ID    string `json:"id,omitempty"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Agent is an agent.join's (or agent.transfer's) value.
type Agent struct {
	AgentName string `json:"agentName"`
}

// DecodePush reads one pushed frame; the message, when it has one, is
// decoded too (nil otherwise).
func DecodePush(b []byte) (Push, *Message, error) {
	var p Push
	if err := json.Unmarshal(b, &p); err != nil {
		return Push{}, nil, fmt.Errorf("egain: decode frame: %w", err)
	}
	if p.EGainMessage == "" {
		if p.Status == "" && p.MessageID == "" {
			return Push{}, nil, errors.New("egain: decode frame: no eGainMessage, status or messageId")
		}
		return p, nil, nil
	}
	var m Message
	if err := json.Unmarshal([]byte(p.EGainMessage), &m); err != nil {
		return Push{}, nil, fmt.Errorf("egain: decode eGainMessage: %w", err)
	}
	if m.Type == "" {
		return Push{}, nil, errors.New("egain: decode eGainMessage: no type")
	}
	return p, &m, nil
}

// DecodeAgent reads an agent.join's value: a JSON string {"agentName"}.
func DecodeAgent(value string) (Agent, error) {
	var a Agent
	if err := json.Unmarshal([]byte(value), &a); err != nil {
		return Agent{}, fmt.Errorf("egain: decode agent: %w", err)
	}
	return a, nil
}

// Availability is the entry point's agentAvailability answer.
type Availability struct {
	XMLName   xml.Name `xml:"agentAvailability"`
	Available bool     `xml:"available,attr"`
}

// DecodeAvailability reads the entry point's XML answer.
func DecodeAvailability(b []byte) (bool, error) {
	var a Availability
	if err := xml.Unmarshal(b, &a); err != nil {
		return false, fmt.Errorf("egain: decode agentAvailability: %w", err)
	}
	return a.Available, nil
}

var (
	// findLinks is the starter kit's FIND_LINKS; images likewise.
	findLinks  = regexp.MustCompile(`<a .*?href="(.*?)".*?>(.*?)</a>`)
	findImages = regexp.MustCompile(`<img .*?src="(.*?)"(?: .*?alt="(.*?)")?.*?>`)
	htmlText   = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#34;", `"`, "&#39;", "'", "&nbsp;", " ")
)

// Markdown turns an agent's HTML into markdown as the starter kit does
// (links [label](url)), images as ![alt](src) too; other tags stay.
func Markdown(value string) string {
	out := findLinks.ReplaceAllStringFunc(value, func(s string) string {
		m := findLinks.FindStringSubmatch(s)
		return "[" + htmlText.Replace(m[2]) + "](" + htmlText.Replace(m[1]) + ")"
	})
	return findImages.ReplaceAllStringFunc(out, func(s string) string {
		m := findImages.FindStringSubmatch(s)
		return "![" + htmlText.Replace(m[2]) + "](" + htmlText.Replace(m[1]) + ")"
	})
}
