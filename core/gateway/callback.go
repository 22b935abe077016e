package gateway

import (
	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// carbonCall is a Carbon ServiceDeskCallback call that a desk-mode client
// makes when it receives the event carrying it: callback[Method](...Args).
type carbonCall struct {
	Method string `json:"method"`
	Args   []any  `json:"args"`
}

// Carbon's ServiceDeskCallback method names.
const (
	cbUpdateCapabilities          = "updateCapabilities"
	cbUpdateAgentAvailability     = "updateAgentAvailability"
	cbAgentJoined                 = "agentJoined"
	cbAgentReadMessages           = "agentReadMessages"
	cbAgentTyping                 = "agentTyping"
	cbSendMessageToUser           = "sendMessageToUser"
	cbBeginTransferToAnotherAgent = "beginTransferToAnotherAgent"
	cbAgentLeftChat               = "agentLeftChat"
	cbAgentEndedChat              = "agentEndedChat"
	cbSetErrorStatus              = "setErrorStatus"
	cbSetFileUploadStatus         = "setFileUploadStatus"
	cbScreenShareRequest          = "screenShareRequest"
	cbScreenShareEnded            = "screenShareEnded"
)

// callbackMapper turns engine events into the Carbon callbacks they stand
// for. It remembers the text of the last CONNECTING error, which Carbon
// shows when the request ends; everything else is a function of the event.
type callbackMapper struct {
	errorText string
}

// callbackFor returns the callback event ev stands for, or nil for events
// Carbon has no callback for (state changes, the user's own messages, lines
// Carbon writes itself).
func (m *callbackMapper) callbackFor(ev *flow.Event) *carbonCall {
	cb := func(method string, args ...any) *carbonCall {
		if args == nil {
			args = []any{}
		}
		return &carbonCall{Method: method, Args: args}
	}
	switch ev.Type {
	case flow.EventQueueUpdate:
		if ev.Availability != nil {
			return cb(cbUpdateAgentAvailability, ev.Availability)
		}
	case flow.EventAgentJoined:
		if ev.Profile != nil {
			return cb(cbAgentJoined, carbonProfile(*ev.Profile))
		}
	case flow.EventAgentMessage:
		if ev.Message != nil {
			if ev.Profile != nil {
				return cb(cbSendMessageToUser, ev.Message, ev.Profile.ID)
			}
			return cb(cbSendMessageToUser, ev.Message)
		}
	case flow.EventAgentTyping:
		if ev.Typing != nil {
			return cb(cbAgentTyping, *ev.Typing)
		}
	case flow.EventAgentRead:
		return cb(cbAgentReadMessages)
	case flow.EventTransfer:
		if ev.Profile != nil {
			return cb(cbBeginTransferToAnotherAgent, carbonProfile(*ev.Profile))
		}
		return cb(cbBeginTransferToAnotherAgent)
	case flow.EventAgentLeft:
		return cb(cbAgentLeftChat)
	case flow.EventMessageStatus:
		if ev.Status == flow.MessageFailed {
			return cb(cbSetErrorStatus, servicedesk.UserMessageError(ev.MessageID))
		}
	case flow.EventError:
		if ev.ErrorType == servicedesk.ErrorConnecting {
			// Shown when the chat ends: Carbon ends a request on a
			// CONNECTING error, but an agent may already be there.
			m.errorText = ev.Text
		}
	case flow.EventDisconnected:
		return cb(cbSetErrorStatus, servicedesk.DisconnectedError(true))
	case flow.EventReconnected:
		return cb(cbSetErrorStatus, servicedesk.DisconnectedError(false))
	case flow.EventFileStatus:
		isErr := ev.Status == flow.MessageFailed
		if isErr {
			return cb(cbSetFileUploadStatus, ev.FileID, true, ev.Text)
		}
		return cb(cbSetFileUploadStatus, ev.FileID, false)
	case flow.EventScreenShare:
		switch ev.ScreenShare {
		case flow.ScreenShareRequested:
			return cb(cbScreenShareRequest)
		case flow.ScreenShareCancelled, flow.ScreenShareEnded:
			return cb(cbScreenShareEnded)
		}
	case flow.EventCapabilities:
		if ev.Capabilities != nil {
			return cb(cbUpdateCapabilities, ev.Capabilities)
		}
	case flow.EventChatEnded:
		text := m.errorText
		m.errorText = ""
		switch {
		case ev.Reason == flow.EndByUser || ev.Reason == flow.EndCancelled || ev.Reason == flow.EndReconnectFailed:
			// No Carbon callback stands for these. When Carbon did not end
			// the chat itself, the adapter ends it in Carbon with
			// instance.serviceDesk.endConversation().
		case ev.Reason == flow.EndByAgent:
			// Carbon handles agentEndedChat while waiting too (it ends the
			// request without an error line).
			return cb(cbAgentEndedChat)
		case ev.RequestCancelled:
			// No agent had joined: Carbon ends the request on CONNECTING.
			if text == "" {
				text = ev.Text
			}
			return cb(cbSetErrorStatus, servicedesk.ConnectingError(text))
		default:
			// An agent was there: only agentEndedChat ends Carbon's chat.
			return cb(cbAgentEndedChat)
		}
	case flow.EventState:
		if ev.State == flow.StateStarting || ev.State == flow.StateWaiting {
			m.errorText = ""
		}
	}
	return nil
}

// carbonProfile fills user_type, which Carbon's ResponseUserProfile
// requires.
func carbonProfile(p servicedesk.AgentProfile) servicedesk.AgentProfile {
	if p.UserType == "" {
		p.UserType = servicedesk.UserHuman
	}
	return p
}
