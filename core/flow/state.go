package flow

import "fmt"

// State is where a session's chat with an agent stands. The transition table
// is in doc.go; tests walk all of it.
type State uint8

// States.
const (
	// StateIdle: no agent chat has been requested in this session yet.
	StateIdle State = iota
	// StateStarting: the pre-start hook runs; the desk has not been asked.
	StateStarting
	// StateWaiting: the desk has the request; no agent has joined yet.
	StateWaiting
	// StateConnected: an agent is in the chat.
	StateConnected
	// StateAgentLeft: the agent left; the chat stays open for another.
	StateAgentLeft
	// StateTransferring: a transfer to another agent is under way.
	StateTransferring
	// StateDisconnected: the desk integration lost its connection to the desk
	// mid-chat. User messages wait in the outbox until it is back.
	StateDisconnected
	// StateReconnecting: after a restart, the desk is re-attaching to the chat.
	StateReconnecting
	// StateEnding: the chat is ending; the desk's EndChat is running. Agent
	// messages (a goodbye, a survey) are still shown.
	StateEnding
	// StateEnded: the last chat ended. A new one may be started.
	StateEnded
)

var stateNames = [...]string{"idle", "starting", "waiting", "connected", "agent_left", "transferring", "disconnected", "reconnecting", "ending", "ended"}

// AllStates lists every state, in order.
var AllStates = []State{StateIdle, StateStarting, StateWaiting, StateConnected, StateAgentLeft, StateTransferring, StateDisconnected, StateReconnecting, StateEnding, StateEnded}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", s)
}

// MarshalText writes the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("flow: unknown state %q", b)
}

// Active reports whether a chat is in progress (from Starting to Ending).
func (s State) Active() bool { return s >= StateStarting && s <= StateEnding }

// agentSide reports whether an agent has joined this chat and it is not ending.
func (s State) agentSide() bool {
	return s == StateConnected || s == StateAgentLeft || s == StateTransferring || s == StateDisconnected
}
