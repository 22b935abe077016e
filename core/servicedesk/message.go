package servicedesk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// InputType is Carbon's MessageInputType.
type InputType string

// Input types.
const (
	InputText  InputType = "text"
	InputEvent InputType = "event"
)

// ResponseType is Carbon's MessageResponseTypes: the kind of a GenericItem.
type ResponseType string

// Response types. Agents may send the first seven; the rest pass through
// untouched (their members stay in GenericItem.Extra).
const (
	ResponseText           ResponseType = "text"
	ResponseImage          ResponseType = "image"
	ResponseVideo          ResponseType = "video"
	ResponseInlineError    ResponseType = "inline_error"
	ResponseButton         ResponseType = "button"
	ResponseUserDefined    ResponseType = "user_defined"
	ResponseConnectToAgent ResponseType = "connect_to_agent"
	ResponseOption         ResponseType = "option"
	ResponseAudio          ResponseType = "audio"
	ResponseIFrame         ResponseType = "iframe"
	ResponsePause          ResponseType = "pause"
	ResponseDate           ResponseType = "date"
	ResponseCard           ResponseType = "card"
	ResponseCarousel       ResponseType = "carousel"
	ResponseGrid           ResponseType = "grid"
	ResponseSearch         ResponseType = "conversational_search"
	ResponsePreviewCard    ResponseType = "preview_card"
	ResponseSystem         ResponseType = "system"
)

// AgentMessageType is Carbon's HumanAgentMessageType: what a message or
// status line between the user and an agent is.
type AgentMessageType string

// Agent message types.
const (
	AgentMsgInlineError      AgentMessageType = "inline_error"
	AgentMsgFromAgent        AgentMessageType = "from_agent"
	AgentMsgFromUser         AgentMessageType = "from_user"
	AgentMsgAgentLeftChat    AgentMessageType = "agent_left_chat"
	AgentMsgAgentEndedChat   AgentMessageType = "agent_ended_chat"
	AgentMsgAgentJoined      AgentMessageType = "agent_joined"
	AgentMsgReloadWarning    AgentMessageType = "user_connected_warning"
	AgentMsgTransferToAgent  AgentMessageType = "transfer_to_agent"
	AgentMsgUserEndedChat    AgentMessageType = "user_ended_chat"
	AgentMsgChatWasEnded     AgentMessageType = "chat_was_ended"
	AgentMsgDisconnected     AgentMessageType = "disconnected"
	AgentMsgReconnected      AgentMessageType = "reconnected"
	AgentMsgSharingRequested AgentMessageType = "sharing_requested"
	AgentMsgSharingAccepted  AgentMessageType = "sharing_accepted"
	AgentMsgSharingDeclined  AgentMessageType = "sharing_declined"
	AgentMsgSharingCancelled AgentMessageType = "sharing_cancelled"
	AgentMsgSharingEnded     AgentMessageType = "sharing_ended"
	AgentMsgSystem           AgentMessageType = "system"
)

// MessageErrorState is Carbon's MessageErrorState (a number on the wire).
type MessageErrorState int

// Message error states.
const (
	MessageErrorNone                 MessageErrorState = 1
	MessageErrorFailed               MessageErrorState = 2
	MessageErrorFailedWhileStreaming MessageErrorState = 3
	MessageErrorRetrying             MessageErrorState = 4
	MessageErrorWaiting              MessageErrorState = 5
)

// UserType is Carbon's UserType.
type UserType string

// User types.
const (
	UserHuman   UserType = "human"
	UserBot     UserType = "bot"
	UserWatsonx UserType = "watsonx"
)

// ButtonType is Carbon's ButtonItemType.
type ButtonType string

// Button types. Agents may only send URL buttons (Carbon's "button (link)").
const (
	ButtonPostBack    ButtonType = "post_back"
	ButtonCustomEvent ButtonType = "custom_event"
	ButtonShowPanel   ButtonType = "show_panel"
	ButtonURL         ButtonType = "url"
)

// ButtonKindLink is Carbon's ButtonItemKind.LINK: a button shown as a link.
const ButtonKindLink = "link"

// MessageRequest is Carbon's MessageRequest: a message from the user.
type MessageRequest struct {
	ID             string          `json:"id,omitempty"`
	History        *RequestHistory `json:"history,omitempty"`
	Input          MessageInput    `json:"input"`
	Context        json.RawMessage `json:"context,omitempty"`
	ThreadID       string          `json:"thread_id,omitempty"`
	ParentThreadID string          `json:"parent_thread_id,omitempty"`
}

// MessageInput is Carbon's MessageInput (and EventInput through Event).
type MessageInput struct {
	MessageType      InputType        `json:"message_type,omitempty"`
	Text             string           `json:"text,omitempty"`
	AgentMessageType AgentMessageType `json:"agent_message_type,omitempty"`
	// Event is EventInput.event ({"name": ..., ...}) for message_type "event".
	Event json.RawMessage `json:"event,omitempty"`
}

// RequestHistory is Carbon's MessageRequestHistory.
type RequestHistory struct {
	// Timestamp is milliseconds since the Unix epoch.
	Timestamp        int64             `json:"timestamp,omitempty"`
	Label            string            `json:"label,omitempty"`
	IsWelcomeRequest bool              `json:"is_welcome_request,omitempty"`
	RelatedMessageID string            `json:"related_message_id,omitempty"`
	Silent           bool              `json:"silent,omitempty"`
	ErrorState       MessageErrorState `json:"error_state,omitempty"`
}

// MessageResponse is Carbon's MessageResponse: a bot or agent message.
type MessageResponse struct {
	ID             string           `json:"id,omitempty"`
	RequestID      string           `json:"request_id,omitempty"`
	Output         MessageOutput    `json:"output"`
	Context        json.RawMessage  `json:"context,omitempty"`
	ThreadID       string           `json:"thread_id,omitempty"`
	History        *ResponseHistory `json:"history,omitempty"`
	MessageOptions *ResponseOptions `json:"message_options,omitempty"`
}

// MessageOutput is Carbon's MessageOutput.
type MessageOutput struct {
	Generic []GenericItem `json:"generic,omitempty"`
}

// ResponseHistory is Carbon's MessageResponseHistory.
type ResponseHistory struct {
	Timestamp  int64             `json:"timestamp,omitempty"`
	Silent     bool              `json:"silent,omitempty"`
	ErrorState MessageErrorState `json:"error_state,omitempty"`
	Feedback   json.RawMessage   `json:"feedback,omitempty"`
}

// ResponseOptions is Carbon's MessageResponseOptions.
type ResponseOptions struct {
	ResponseUserProfile *AgentProfile   `json:"response_user_profile,omitempty"`
	Reasoning           json.RawMessage `json:"reasoning,omitempty"`
	ChainOfThought      json.RawMessage `json:"chain_of_thought,omitempty"`
}

// GenericItem is one item of MessageOutput.generic. It models the members of
// the item kinds a desk deals with (text, image, video, inline_error, button,
// user_defined, connect_to_agent); every other member, of these or of other
// kinds, is kept in Extra so that decoding and encoding loses nothing.
type GenericItem struct {
	ResponseType     ResponseType     `json:"response_type"`
	AgentMessageType AgentMessageType `json:"agent_message_type,omitempty"`
	UserDefined      json.RawMessage  `json:"user_defined,omitempty"`

	// text, inline_error (text may hold markdown)
	Text  string            `json:"text,omitempty"`
	Debug *InlineErrorDebug `json:"debug,omitempty"`

	// image, video (MediaItem)
	Source      string           `json:"source,omitempty"`
	Title       string           `json:"title,omitempty"`
	Description string           `json:"description,omitempty"`
	AltText     string           `json:"alt_text,omitempty"`
	Dimensions  *MediaDimensions `json:"dimensions,omitempty"`

	// button
	Kind       string     `json:"kind,omitempty"`
	ButtonType ButtonType `json:"button_type,omitempty"`
	URL        string     `json:"url,omitempty"`
	Target     string     `json:"target,omitempty"`
	Label      string     `json:"label,omitempty"`

	// user_defined
	FullWidth bool `json:"full_width,omitempty"`

	// connect_to_agent
	MessageToHumanAgent string        `json:"message_to_human_agent,omitempty"`
	AgentAvailable      *AgentNotice  `json:"agent_available,omitempty"`
	AgentUnavailable    *AgentNotice  `json:"agent_unavailable,omitempty"`
	TransferInfo        *TransferInfo `json:"transfer_info,omitempty"`

	// Extra holds members not modelled above, raw.
	Extra map[string]json.RawMessage `json:"-"`
}

// InlineErrorDebug is InlineErrorItem.debug.
type InlineErrorDebug struct {
	StatusCode int    `json:"statusCode,omitempty"`
	Text       string `json:"text,omitempty"`
	// Info is any other key-value pairs for debugging, raw.
	Info json.RawMessage `json:"info,omitempty"`
}

// MediaDimensions is Carbon's MediaItemDimensions.
type MediaDimensions struct {
	// BaseHeight is Carbon's number: 180.5 is valid.
	BaseHeight float64 `json:"base_height,omitempty"`
}

// AgentNotice is the {message} object of agent_available/agent_unavailable.
type AgentNotice struct {
	Message string `json:"message"`
}

// TransferInfo is Carbon's ConnectToHumanAgentItemTransferInfo.
type TransferInfo struct {
	AdditionalData        map[string]string `json:"additional_data,omitempty"`
	SummaryMessageToAgent []GenericItem     `json:"summary_message_to_agent,omitempty"`
}

// UnmarshalJSON reads additional_data, which Carbon types as a string map
// but pages fill with any JSON: a value that is not a string is kept as its
// JSON text, rather than refusing the whole connect message.
func (t *TransferInfo) UnmarshalJSON(b []byte) error {
	var w struct {
		AdditionalData        map[string]json.RawMessage `json:"additional_data"`
		SummaryMessageToAgent []GenericItem              `json:"summary_message_to_agent"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	out := TransferInfo{SummaryMessageToAgent: w.SummaryMessageToAgent}
	if w.AdditionalData != nil {
		out.AdditionalData = make(map[string]string, len(w.AdditionalData))
		for k, v := range w.AdditionalData {
			var s string
			if json.Unmarshal(v, &s) != nil {
				var buf bytes.Buffer
				if json.Compact(&buf, v) == nil {
					v = buf.Bytes()
				}
				s = string(v)
			}
			out.AdditionalData[k] = s
		}
	}
	*t = out
	return nil
}

// genericItemFields is what GenericItem models; everything else goes to Extra.
var genericItemFields = jsonFieldNames[GenericItem]()

type plainGenericItem GenericItem

// UnmarshalJSON decodes an item, keeping unmodelled members in Extra.
func (g *GenericItem) UnmarshalJSON(b []byte) error {
	var p plainGenericItem
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for k := range all {
		if _, known := genericItemFields[k]; known {
			delete(all, k)
		}
	}
	if len(all) > 0 {
		p.Extra = all
	}
	*g = GenericItem(p)
	return nil
}

// MarshalJSON encodes an item with its Extra members, sorted by name.
// An Extra member never overrides a modelled one.
func (g GenericItem) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(plainGenericItem(g))
	if err != nil || len(g.Extra) == 0 {
		return b, err
	}
	keys := make([]string, 0, len(g.Extra))
	for k := range g.Extra {
		if _, known := genericItemFields[k]; !known {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1])
	for _, k := range keys {
		v := g.Extra[k]
		if !json.Valid(v) {
			return nil, fmt.Errorf("generic item: extra member %q is not valid JSON", k)
		}
		kb, _ := json.Marshal(k)
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// TextItem returns a text item (markdown allowed).
func TextItem(text string) GenericItem {
	return GenericItem{ResponseType: ResponseText, Text: text}
}

// ImageItem returns an image item.
func ImageItem(source, altText string) GenericItem {
	return GenericItem{ResponseType: ResponseImage, Source: source, AltText: altText}
}

// VideoItem returns a video item.
func VideoItem(source, title string) GenericItem {
	return GenericItem{ResponseType: ResponseVideo, Source: source, Title: title}
}

// InlineErrorItem returns an inline_error item.
func InlineErrorItem(text string) GenericItem {
	return GenericItem{ResponseType: ResponseInlineError, Text: text}
}

// LinkButtonItem returns a button item that opens url, shown as a link.
func LinkButtonItem(label, url string) GenericItem {
	return GenericItem{ResponseType: ResponseButton, ButtonType: ButtonURL, Kind: ButtonKindLink, Label: label, URL: url, Target: "_blank"}
}

// UserDefinedItem returns a user_defined item carrying data.
func UserDefinedItem(data json.RawMessage) GenericItem {
	return GenericItem{ResponseType: ResponseUserDefined, UserDefined: data}
}

// NewResponse returns a MessageResponse with the given items.
func NewResponse(items ...GenericItem) MessageResponse {
	return MessageResponse{Output: MessageOutput{Generic: items}}
}

// TextResponse returns a one-item text MessageResponse (Carbon's string form
// of sendMessageToUser).
func TextResponse(text string) MessageResponse { return NewResponse(TextItem(text)) }

// NewTextRequest returns a user text message to an agent.
func NewTextRequest(text string) MessageRequest {
	return MessageRequest{Input: MessageInput{MessageType: InputText, Text: text, AgentMessageType: AgentMsgFromUser}}
}

// ConnectToAgent returns the first connect_to_agent item of m.
func (m MessageResponse) ConnectToAgent() (GenericItem, bool) {
	for _, it := range m.Output.Generic {
		if it.ResponseType == ResponseConnectToAgent {
			return it, true
		}
	}
	return GenericItem{}, false
}

// PlainText joins the text of m's text items with newlines: a readable form
// for logs, agent consoles and transcripts.
func (m MessageResponse) PlainText() string {
	var b []byte
	for _, it := range m.Output.Generic {
		if it.Text == "" {
			continue
		}
		if len(b) > 0 {
			b = append(b, '\n')
		}
		b = append(b, it.Text...)
	}
	return string(b)
}
