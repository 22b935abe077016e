package gateway

import (
	"testing"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestChatEndedCallbacks: which Carbon callback stands for each end, as
// Carbon's own engine would show it. An agent ending a wait is
// agentEndedChat (Carbon ends the request without an error line), not a
// CONNECTING error; ends Carbon has no callback for get none (the adapter
// ends them in Carbon with endConversation); a transfer without a profile
// is passed on without one.
func TestChatEndedCallbacks(t *testing.T) {
	cases := []struct {
		name string
		ev   flow.Event
		want string
	}{
		{"agent ended a wait", flow.Event{Type: flow.EventChatEnded, Reason: flow.EndByAgent, EndedByAgent: true, RequestCancelled: true}, cbAgentEndedChat},
		{"agent ended", flow.Event{Type: flow.EventChatEnded, Reason: flow.EndByAgent, EndedByAgent: true}, cbAgentEndedChat},
		{"user", flow.Event{Type: flow.EventChatEnded, Reason: flow.EndByUser}, ""},
		{"cancelled", flow.Event{Type: flow.EventChatEnded, Reason: flow.EndCancelled, RequestCancelled: true}, ""},
		{"reconnect failed with an agent", flow.Event{Type: flow.EventChatEnded, Reason: flow.EndReconnectFailed, Text: "could not be resumed"}, ""},
		{"desk refused", flow.Event{Type: flow.EventChatEnded, Reason: flow.EndConnectingError, RequestCancelled: true}, cbSetErrorStatus},
		{"join timeout", flow.Event{Type: flow.EventChatEnded, Reason: flow.EndJoinTimeout, RequestCancelled: true}, cbSetErrorStatus},
	}
	for _, c := range cases {
		var m callbackMapper
		got := ""
		if cb := m.callbackFor(&c.ev); cb != nil {
			got = cb.Method
		}
		if got != c.want {
			t.Errorf("%s: callback %q, want %q", c.name, got, c.want)
		}
	}
	var m callbackMapper
	cb := m.callbackFor(&flow.Event{Type: flow.EventTransfer})
	if cb == nil || cb.Method != cbBeginTransferToAnotherAgent || len(cb.Args) != 0 {
		t.Errorf("transfer without a profile: %+v", cb)
	}
	p := servicedesk.AgentProfile{ID: "grace", Nickname: "Grace"}
	if cb := m.callbackFor(&flow.Event{Type: flow.EventTransfer, Profile: &p}); cb == nil || len(cb.Args) != 1 {
		t.Errorf("transfer with a profile: %+v", cb)
	}
}
