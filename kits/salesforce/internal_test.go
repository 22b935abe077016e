package salesforce

import (
	"encoding/json"
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/sse"
	"github.com/deskbridge/deskbridge/kits/salesforce/internal/wire"
)

// FuzzDecodeEvent: no event data makes the decoder or the routing panic;
// unknown types and entries never surface as errors to the user.
func FuzzDecodeEvent(f *testing.F) {
	conv := "5b1e0f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	for _, s := range []string{
		`{"conversationId":"` + conv + `","conversationEntry":{"identifier":"m1","entryType":"Message","senderDisplayName":"Ada","sender":{"role":"Agent","subject":"005"},"transcriptedTimestamp":1,"entryPayload":"{\"entryType\":\"Message\",\"id\":\"m1\",\"abstractMessage\":{\"messageType\":\"StaticContentMessage\",\"id\":\"m1\",\"staticContent\":{\"formatType\":\"Attachments\",\"attachments\":[{\"name\":\"a.png\",\"mimeType\":\"image/png\",\"url\":\"https://x\"}]}}}"}}`,
		`{"conversationId":"` + conv + `","conversationEntry":{"identifier":"p1","entryType":"ParticipantChanged","sender":{"role":"System"},"entryPayload":"{\"entryType\":\"ParticipantChanged\",\"entries\":[{\"operation\":\"add\",\"displayName\":\"Ada\",\"participant\":{\"role\":\"Agent\",\"subject\":\"005\"}}]}"}}`,
		`{"conversationId":"` + conv + `","conversationEntry":{"identifier":"r1","entryType":"RoutingResult","entryPayload":"{\"routingType\":\"Initial\",\"failureType\":\"RoutingError\",\"estimatedWaitTime\":{\"isEWTRequested\":true,\"estimatedWaitTimeInSeconds\":-1}}"}}`,
		`{"conversationId":"` + conv + `","conversationEntry":{"identifier":"c1","entryType":"Message","sender":{"role":"Chatbot"},"entryPayload":{"abstractMessage":{"messageType":"ChoicesMessage","choices":{"formatType":"Buttons","text":"Pick","optionItems":[{"optionIdentifier":"1","titleItem":{"title":"Yes"}}]}}}}}`,
		`{"conversationId":"` + conv + `","conversationEntry":{"entryPayload":"not json"}}`,
		`{"conversationId":1}`, `{}`, `[]`, `null`, ``,
	} {
		for _, typ := range []string{wire.EventMessage, wire.EventParticipant, wire.EventRouting, wire.EventClose, wire.EventRead, "SOMETHING_NEW"} {
			f.Add(typ, []byte(s))
		}
	}
	k, err := New(Config{URL: "https://x.my.salesforce-scrt.com", OrgID: "00D000000000001", DeveloperName: "d"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, typ string, b []byte) {
		if ev, err := wire.DecodeEvent(b); err == nil {
			if m := ev.ConversationEntry.Payload.AbstractMessage; m != nil {
				_ = toResponse(*m).PlainText()
			}
		}
		d, err := newDesk(k, servicedesk.FactoryParams{Callback: &sdtest.Recorder{}})
		if err != nil {
			t.Fatal(err)
		}
		d.Change(func(s *saved) { s.ConversationID = conv })
		d.onEvent(sse.Event{ID: "1", Type: typ, Data: string(b)})
		_ = d.Close()
	})
}

// FuzzDecodeEntries: the entries list, error bodies and tokens of any
// shape decode or fail, never panic.
func FuzzDecodeEntries(f *testing.F) {
	f.Add([]byte(`{"conversationEntries":[{"identifier":"m1","entryType":"Message","entryPayload":{"entryType":"Message","abstractMessage":{"staticContent":{"formatType":"Text","text":"hi"}}},"transcriptedTimestamp":5}]}`))
	f.Add([]byte(`{"conversationEntries":[{"entryPayload":"{\"entryType\":\"RoutingResult\"}"}]}`))
	f.Add([]byte(`{"message":"Jwt is expired","errorCode":"UNAUTHORIZED"}`))
	f.Add([]byte(`eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3fQ.c2ln`))
	f.Add([]byte(`{"conversationEntries":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = wire.DecodeEntries(b)
		var l wire.ConversationList
		_ = json.Unmarshal(b, &l)
	})
}
