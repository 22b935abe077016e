package nice

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/kits/nice/internal/wire"
)

// noNetwork refuses every request: a fuzzed message's source URL is never
// fetched.
type noNetwork struct{}

func (noNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in fuzz tests")
}

// The documented frames the fuzz tests start from (index.d.ts shapes).
var frameSeeds = []string{
	`"pong"`,
	`{"eventId":"e1","postback":{"eventType":"ConsumerAuthorized","data":{"status":"success","consumerIdentity":{"idOnExternalPlatform":"c1"},"accessToken":{"token":"t","expiresIn":3600}}}}`,
	`{"eventId":"e2","eventType":"TokenRefreshed","data":{"accessToken":{"token":"t2","expiresIn":3600}}}`,
	`{"eventId":"e3","error":{"errorCode":"AuthorizationFailed","errorMessage":"The access token is invalid or expired.","transactionId":"x"}}`,
	`{"eventId":"p1","eventObject":"Case","eventType":"CaseInboxAssigneeChanged","createdAt":"2026-12-03T08:00:00.000Z","data":{"case":{"id":"1","status":"open"},"inboxAssignee":{"id":1234,"firstName":"Ada","surname":"L","nickname":"Ada"},"previousInboxAssignee":null}}`,
	`{"eventId":"p2","eventObject":"Case","eventType":"CaseStatusChanged","data":{"case":{"id":"1","status":"closed"}}}`,
	`{"eventId":"p3","eventObject":"Message","eventType":"MessageCreated","data":{"case":{"id":"1"},"message":{"id":"m1","direction":"outbound","createdAt":"2026-12-03T08:00:00.000Z","authorUser":{"id":1},"messageContent":{"type":"TEXT","payload":{"text":"hi","elements":[{"type":"BUTTON","text":"Go","url":"https://example.com"}]}},"attachments":[{"url":"https://example.com/a.png","friendlyName":"a.png","mimeType":"image/png"}]}}}`,
	`{"eventId":"p4","eventObject":"Message","eventType":"MessageCreated","data":{"message":{"id":"m2","direction":"outbound","messageContent":{"type":"STREAMED","payload":{"protocol":"sse","sourceUrl":"https://example.com/s"}}}}}`,
	`{"eventId":"p5","eventType":"SenderTypingStarted","data":{"thread":{"idOnExternalPlatform":"t"},"user":{"id":1},"direction":"outbound"}}`,
	`{"eventId":"p6","eventType":"MessageSeenChanged","data":{"message":{"id":"m","direction":"inbound"}}}`,
	`{"eventId":"p7","eventType":"SetPositionInQueue","data":{"consumerContact":{"id":"1"},"positionInQueue":2,"routingQueue":{},"isAnyAgentOnlineForQueue":true}}`,
	`{"eventId":"p8","eventType":"LivechatRecovered","data":{"contact":{"id":"1","status":"open"},"inboxAssignee":null,"messages":[{"id":"m1","direction":"outbound"}]}}`,
}

// FuzzDecodeFrame feeds any frame to the decoder and to a desk's frame
// handling: nothing panics, and a frame that decodes has an event type, an
// error or is the pong.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	k, err := New(Config{BrandID: 1, ChannelID: "c", GatewayURL: "ws://127.0.0.1:1", ChatURL: "http://127.0.0.1:1",
		HTTPClient: &http.Client{Transport: noNetwork{}}, Retries: 1})
	if err != nil {
		f.Fatal(err)
	}
	defer k.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := wire.DecodeFrame(b)
		if err == nil && !fr.Pong && fr.EventType == "" && fr.Error == nil {
			t.Fatalf("decoded a frame with neither event type nor error: %q", b)
		}
		d, err := newDesk(k, servicedesk.FactoryParams{Callback: &sdtest.Recorder{}})
		if err != nil {
			t.Fatal(err)
		}
		_ = d.Close() // its worker stopped: the pushes are delivered here
		d.onFrame(b, nil)
		for it, ok := d.inbox.Pop(); ok; it, ok = d.inbox.Pop() {
			d.gap.Live(it)
		}
	})
}

// FuzzStream feeds any SSE body to the streamed message's assembly: the
// text is the deltas' pieces, complete only after a "stop".
func FuzzStream(f *testing.F) {
	f.Add("event: delta\ndata: {\"delta\":{\"content\":\"Hello \"}}\n\nevent: delta\ndata: {\"delta\":{\"content\":\"there\",\"finish_reason\":\"stop\"}}\n\n")
	f.Add("data: {\"delta\":{\"content\":\"x\"}}\n\n")
	f.Add("data: not json\n\n")
	f.Fuzz(func(t *testing.T, body string) {
		text, err := assemble(strings.NewReader(body))
		if err == nil && !strings.Contains(body, "stop") {
			t.Fatalf("complete without a stop: %q", body)
		}
		if len(text) > len(body) {
			t.Fatalf("more text than body: %q", text)
		}
	})
}

// FuzzUploadAnswer feeds any answer of the temporary upload to the
// reading of its error body and its file restrictions.
func FuzzUploadAnswer(f *testing.F) {
	f.Add([]byte(`{"allowedFileSize":"10","allowedFileTypes":[{"mimeType":"image/*","description":"images"}],"isAttachmentsEnabled":true}`))
	f.Add([]byte(`{"allowedFileSize":10,"isAttachmentsEnabled":false}`))
	f.Add([]byte(`{"fileUrl":"https://example.com/f"}`))
	f.Add([]byte(`{"message":"Bad request"}`))
	k, err := New(Config{BrandID: 1, ChannelID: "c", GatewayURL: "ws://127.0.0.1:1", ChatURL: "http://127.0.0.1:1"})
	if err != nil {
		f.Fatal(err)
	}
	defer k.Close()
	read := k.rest().ErrorBody
	f.Fuzz(func(t *testing.T, b []byte) {
		_, msg := read(b)
		var u wire.Uploaded
		if json.Unmarshal(b, &u) == nil && (u.AllowedFileSize != "" || len(u.AllowedFileTypes) > 0) && !strings.HasSuffix(msg, ".") {
			t.Fatalf("the restrictions of %q read as %q, not a sentence", b, msg)
		}
	})
}
