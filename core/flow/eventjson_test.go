package flow

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestEventEncodingWithItsMessage: an event's encoding, published (cached)
// or not, decodes to the same event, and MessageJSON is its message's
// encoding as json.Marshal makes it, HTML escaping included.
func TestEventEncodingWithItsMessage(t *testing.T) {
	msg := servicedesk.NewResponse(servicedesk.TextItem("<b>hi</b> & \u2028 🙂"))
	profile := &servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}
	for _, published := range []bool{false, true} {
		for _, ev := range []Event{
			{Seq: 7, Type: EventAgentMessage, Time: 1795568773503, Chat: 1, Message: &msg, MessageID: "am_1", Profile: profile},
			{Seq: 8, Type: EventAgentLeft, Text: "Ada left."},
		} {
			if published {
				ev.enc = new(encodedEvent)
			}
			// A store encodes it first (EventJSON), a socket after.
			b, err := EventJSON(&ev)
			if err != nil {
				t.Fatal(err)
			}
			var back Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("%s does not decode: %v", b, err)
			}
			want := ev
			want.enc = nil
			if !reflect.DeepEqual(back, want) {
				t.Errorf("published %v: %s decodes to %+v, want %+v", published, b, back, want)
			}
			got, err := ev.MessageJSON()
			if err != nil {
				t.Fatal(err)
			}
			if ev.Message == nil {
				if got != nil {
					t.Errorf("MessageJSON of an event without a message: %s", got)
				}
				continue
			}
			plain, _ := json.Marshal(ev.Message)
			if string(got) != string(plain) {
				t.Errorf("published %v: MessageJSON %s, want %s", published, got, plain)
			}
			if published {
				again, _ := ev.MarshalJSON()
				if &again[0] != &b[0] {
					t.Error("a published event was encoded twice")
				}
			}
		}
	}
}
