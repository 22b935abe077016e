package wire

import (
	"encoding/json"
	"net/url"
	"testing"
)

// FuzzDecodeEvent: any webhook body decodes to an event or an error,
// never a panic, and a decoded event always has a type.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{
		"EventType=onMessageAdded&ConversationSid=CH1&MessageSid=IM1&Index=4&Author=ada&Body=hi&Media=%5B%7B%22Sid%22%3A%22ME1%22%7D%5D",
		"EventType=onParticipantUpdated&ConversationSid=CH1&ParticipantSid=MB1&LastReadMessageIndex=3",
		"EventType=onConversationStateUpdated&ConversationSid=CH1&StateFrom=active&StateTo=closed",
		"EventType=task.canceled&Sid=EV1&TaskAttributes=%7B%22conversationSid%22%3A%22CH1%22%7D&TaskCanceledReason=timeout",
		"EventType=onMessageAdded&ConversationSid=CH1&Index=-1",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		e, err := DecodeEvent(form)
		if err == nil && e.Type == "" {
			t.Fatalf("decoded an event without a type from %q", body)
		}
		if err == nil && e.Type == OnMessageAdded && e.Index < 0 {
			t.Fatalf("negative index from %q", body)
		}
		_ = e.Key()
	})
}

// FuzzDecodeWebhookMedia: the Media parameter never panics the decoder.
func FuzzDecodeWebhookMedia(f *testing.F) {
	f.Add(`[{"Sid":"ME1","Filename":"a.png","ContentType":"image/png","Size":12,"Category":"media"}]`)
	f.Add(`[{"MediaSid":"ME1"}]`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, s string) {
		media, err := DecodeWebhookMedia(s)
		if err != nil && media != nil {
			t.Fatal("media with an error")
		}
	})
}

// FuzzAnswers: the REST answers the kit reads decode or fail cleanly.
func FuzzAnswers(f *testing.F) {
	f.Add([]byte(`{"messages":[{"sid":"IM1","index":0,"author":"a","body":"b","media":[{"sid":"ME1","content_type":"image/png"}]}],"meta":{"next_page_url":null}}`))
	f.Add([]byte(`{"sid":"KD1","channel":{"sid":"UO1","type":"web"}}`))
	f.Add([]byte(`{"code":20404,"message":"not found","status":404}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []any{&MessagePage{}, &ParticipantPage{}, &WebhookPage{}, &Conversation{}, &Interaction{}, &MediaResource{}, &User{}} {
			_ = json.Unmarshal(b, v)
		}
	})
}

func TestSignatureMatchesTwilioExample(t *testing.T) {
	// The worked example of Twilio's webhook security guide.
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"}, "From": {"+12349013030"}, "To": {"+18005551212"}}
	got := Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form)
	if got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Fatalf("signature %s", got)
	}
	if !ValidSignature([]string{"other", "12345"}, "https://mycompany.com/myapp.php?foo=1&bar=2", form, got) {
		t.Fatal("a valid signature refused")
	}
	if ValidSignature([]string{"12345"}, "https://mycompany.com/myapp.php?foo=1&bar=3", form, got) {
		t.Fatal("a signature for another URL accepted")
	}
}
