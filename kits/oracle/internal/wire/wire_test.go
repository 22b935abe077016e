package wire

import (
	"testing"
)

// FuzzDecodeMessages: any getMessages answer decodes or fails, never
// panics, and a decoded message's sequence number and client read either
// form.
func FuzzDecodeMessages(f *testing.F) {
	f.Add([]byte(`{"systemMessages":[{"messageName":"RNEngagementWaitInformationChangedMessage","engagementId":1,"position":2,"expectedWaitTimeSeconds":90,"sequenceNumber":1,"sequenceNumberString":"1"}]}`))
	f.Add([]byte(`{"systemMessages":[{"messageName":"RNEngagementParticipantAddedMessage","clientId":77,"clientIdString":"77","name":"Ada","role":"LEAD","greeting":"Hi","sequenceNumberString":"2"}]}`))
	f.Add([]byte(`{"systemMessages":[{"messageName":"RNEngagementMessagePostedMessage","clientId":77,"body":"<b>x</b>","richText":true,"sequenceNumber":3}]}`))
	f.Add([]byte(`{"systemMessages":[]}`))
	f.Add([]byte(``))
	f.Add([]byte(`{"systemMessages":[{"sequenceNumber":-4,"position":"x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := DecodeMessages(b)
		if err != nil && ms != nil {
			t.Fatalf("messages beside an error: %v", ms)
		}
		for _, m := range ms {
			if m.SequenceNumber > 0 && m.Seq() != uint64(m.SequenceNumber) {
				t.Fatalf("Seq %d of sequenceNumber %d", m.Seq(), m.SequenceNumber)
			}
			if m.ClientIDString != "" && m.Client() != m.ClientIDString {
				t.Fatalf("Client %q of clientIdString %q", m.Client(), m.ClientIDString)
			}
		}
	})
}

// FuzzDecodeEstablished: any establishSessions answer decodes with a
// token, site and session server, or fails.
func FuzzDecodeEstablished(f *testing.F) {
	f.Add([]byte(`{"jwt":"a.b.c","channelToken":"a.b.c","siteName":"mysite","sessionServerResponse":"{\"domain\":\"chat.example\",\"port\":443,\"pool\":\"1:2\"}"}`))
	f.Add([]byte(`{"channelToken":"t","siteName":"s","sessionServerResponse":"{\"domain\":\"d\",\"pool\":\"p\"}"}`))
	f.Add([]byte(`{"jwt":"t","siteName":"s","sessionServerResponse":"not json"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEstablished(b)
		if err == nil && (e.Token() == "" || e.SiteName == "" || e.Server.Domain == "" || e.Server.Pool == "") {
			t.Fatalf("decoded without what the calls need: %+v", e)
		}
		_, _ = ErrorBody(b)
	})
}

func TestDecodeEstablished(t *testing.T) {
	e, err := DecodeEstablished([]byte(`{"channelToken":"t","siteName":"s","sessionServerResponse":"{\"domain\":\"d\",\"port\":8443,\"pool\":\"p\"}"}`))
	if err != nil || e.Token() != "t" || e.Server.Port != 8443 || e.Server.Pool != "p" {
		t.Fatalf("%+v %v", e, err)
	}
	if _, err := DecodeEstablished([]byte(`{"jwt":"t","siteName":"s","sessionServerResponse":"{}"}`)); err == nil {
		t.Fatal("a session server without a domain decoded")
	}
	if code, msg := ErrorBody([]byte(`{"errorCode":"ACCESS_DENIED","message":"expired"}`)); code != "ACCESS_DENIED" || msg != "expired" {
		t.Fatalf("ErrorBody: %q %q", code, msg)
	}
}
