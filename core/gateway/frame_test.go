package gateway

import (
	"encoding/json"
	"testing"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestAppendEventFrame: the hand-assembled event frame is byte for byte
// what json.Marshal makes of an eventFrame, HTML escaping included, with
// and without its callback, into a buffer that already holds a frame.
func TestAppendEventFrame(t *testing.T) {
	profile := &servicedesk.AgentProfile{ID: "ada", Nickname: "Ada <Lovelace> & co", UserType: servicedesk.UserHuman}
	msg := servicedesk.NewResponse(servicedesk.TextItem("<script>alert(1)</script> & \u2028 é 🙂 \"quoted\""))
	events := []flow.Event{
		{Seq: 1, Type: flow.EventState, State: flow.StateWaiting},
		{Seq: 2, Type: flow.EventAgentJoined, Profile: profile},
		{Seq: 18446744073709551615, Type: flow.EventAgentMessage, Message: &msg, MessageID: "am_1", Profile: profile},
		{Seq: 4, Type: flow.EventChatEnded, Reason: flow.EndByAgent, EndedByAgent: true, Text: "bye </p>"},
	}
	var m callbackMapper
	buf := []byte(`{"type":"event","seq":0,"event":{}}`)
	for i := range events {
		ev := &events[i]
		for _, cb := range []*carbonCall{nil, m.callbackFor(ev)} {
			want, err := json.Marshal(eventFrame{Type: typeEvent, Seq: ev.Seq, Event: ev, Callback: cb})
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendEventFrame(buf[:0], ev, cb)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("event %d (callback %v):\n got %s\nwant %s", ev.Seq, cb != nil, got, want)
			}
			buf = got
		}
	}
}
