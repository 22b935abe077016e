package servicedesk

import (
	"context"
	"encoding/json"
	"log/slog"
)

// Callback is Carbon's ServiceDeskCallback: how a desk integration tells the
// chat what happened on the desk side.
//
// Every method is safe to call from any goroutine, at any time and in any
// state. The notification methods return at once: the call is queued on the
// session and applied in the order calls were made. A call that does not fit
// the session's state (an agent message after the chat ended, say) is
// recorded and dropped, never a panic.
type Callback interface {
	// UpdateCapabilities merges a partial set of capabilities (Carbon's
	// updateCapabilities(Partial<ServiceDeskCapabilities>)).
	UpdateCapabilities(update CapabilitiesUpdate)
	// UpdateAgentAvailability reports queue position, wait time or a message
	// while the user waits for an agent.
	UpdateAgentAvailability(availability AgentAvailability)
	// AgentJoined reports that an agent joined, or that a transfer completed.
	AgentJoined(profile AgentProfile)
	// AgentReadMessages reports that the agent read the user's messages.
	AgentReadMessages()
	// AgentTyping reports that the agent started or stopped typing.
	AgentTyping(isTyping bool)
	// SendMessageToUser shows an agent message. agentID names the sending
	// agent; empty means the agent who joined last.
	SendMessageToUser(message MessageResponse, agentID string)
	// SendTextToUser is SendMessageToUser for Carbon's string form.
	SendTextToUser(text string, agentID string)
	// BeginTransferToAnotherAgent reports that a transfer started; profile
	// may be nil. The desk calls AgentJoined when it completes.
	BeginTransferToAnotherAgent(profile *AgentProfile)
	// AgentLeftChat reports that the agent left; the chat stays open.
	AgentLeftChat()
	// AgentEndedChat reports that the agent ended the chat.
	AgentEndedChat()
	// SetErrorStatus reports a CONNECTING, DISCONNECTED or USER_MESSAGE error.
	SetErrorStatus(info ErrorInfo)
	// SetFileUploadStatus reports the outcome of one file, before or after
	// it was sent.
	SetFileUploadStatus(fileID string, isError bool, errorMessage string)
	// ScreenShareRequest asks the user to share their screen and waits for
	// the answer, the engine's answer timeout, or ctx. It fails with an error
	// matching ErrNoChat when no agent is connected.
	ScreenShareRequest(ctx context.Context) (ScreenShareState, error)
	// ScreenShareEnded reports that sharing, or a pending request, ended on
	// the desk's side.
	ScreenShareEnded()
	// PersistedState returns the desk's persisted state as JSON, or nil.
	PersistedState() json.RawMessage
	// UpdatePersistedState deep-merges state (any JSON-marshalable value, or
	// json.RawMessage; it must be a JSON object) into the persisted state, so
	// that it survives a reload or restart: Carbon's
	// updatePersistedState(state), whose mergeWithCurrent defaults to true.
	// Errors: the value does not marshal, is not an object, or the result
	// exceeds the engine's size limit.
	UpdatePersistedState(state any) error
	// ReplacePersistedState replaces the persisted state with state:
	// Carbon's updatePersistedState(state, false). An empty object clears
	// it. The state outlives the chat, as in Carbon; a desk clears what it
	// no longer needs.
	ReplacePersistedState(state any) error
}

// Instance is the handle on the chat a desk is created for (Carbon's
// ChatInstance, reduced to what a server-side desk can use).
type Instance interface {
	// SessionID is the engine's id for the end user's chat session.
	SessionID() string
}

// FactoryParams are Carbon's ServiceDeskFactoryParameters plus a logger.
type FactoryParams struct {
	// Callback is how the desk reports back; it lives as long as the session.
	Callback Callback
	// Instance identifies the session.
	Instance Instance
	// PersistedState is what the desk stored through UpdatePersistedState
	// before a reload or restart; nil when nothing was stored.
	PersistedState json.RawMessage
	// Logger is never nil; it carries the session id.
	Logger *slog.Logger
}

// Factory builds one desk per session (Carbon's serviceDeskFactory). It should
// not do network work; that belongs in StartChat or Reconnect.
type Factory func(ctx context.Context, params FactoryParams) (ServiceDesk, error)
