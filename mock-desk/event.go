package mockdesk

import (
	"encoding/json"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Event types: what the desk tells the customer side. Every event of a chat
// carries the chat's next sequence number.
const (
	EventCapabilities       = "capabilities"
	EventQueueUpdate        = "queue_update"
	EventAgentJoined        = "agent_joined"
	EventAgentMessage       = "agent_message"
	EventAgentTyping        = "agent_typing"
	EventAgentRead          = "agent_read"
	EventTransferStarted    = "transfer_started"
	EventAgentLeft          = "agent_left"
	EventAgentEnded         = "agent_ended"
	EventChatEnded          = "chat_ended"
	EventFileStatus         = "file_status"
	EventScreenShareRequest = "screen_share_requested"
	EventScreenShareEnded   = "screen_share_ended"
	EventError              = "error"
)

// Event is one desk→customer event. Only the members of its Type are set.
type Event struct {
	// ID is unique per event and stable across redeliveries: dedupe by it.
	ID     string    `json:"id"`
	ChatID string    `json:"chat_id"`
	Seq    int64     `json:"seq"`
	Type   string    `json:"type"`
	Time   time.Time `json:"time"`

	// queue_update
	Position    *int `json:"position,omitempty"`
	WaitMinutes *int `json:"wait_minutes,omitempty"`
	// agent_joined, transfer_started (the agent taking over), agent_left,
	// agent_ended, agent_message (the sender)
	Agent *servicedesk.AgentProfile `json:"agent,omitempty"`
	// agent_message
	MessageID string                       `json:"message_id,omitempty"`
	Message   *servicedesk.MessageResponse `json:"message,omitempty"`
	// agent_typing
	Typing *bool `json:"typing,omitempty"`
	// agent_read: the last customer message the agent has read (its desk id)
	ReadMessageID string `json:"read_message_id,omitempty"`
	// chat_ended: "customer", "agent" or "desk"
	EndedBy string `json:"ended_by,omitempty"`
	// chat_ended, file_status (status "error"), error
	Reason string `json:"reason,omitempty"`
	// file_status
	FileID     string `json:"file_id,omitempty"`
	FileStatus string `json:"file_status,omitempty"`
	// screen_share_requested, screen_share_ended
	ScreenShareID string `json:"screen_share_id,omitempty"`
	// screen_share_ended: ended (by the agent) or cancelled (the agent
	// withdrew the request before an answer)
	ScreenShareState servicedesk.ScreenShareState `json:"screen_share_state,omitempty"`
	// capabilities
	Capabilities *servicedesk.Capabilities `json:"capabilities,omitempty"`
	// error
	Code string `json:"code,omitempty"`
}

// JSON returns the event's encoding. Callers encode outside the desk's
// lock, so it is not cached in the log.
func (e Event) JSON() []byte {
	b, _ := json.Marshal(e)
	return b
}

func intPtr(n int) *int    { return &n }
func boolPtr(b bool) *bool { return &b }
func strOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
