package zendesk

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// answerTransport answers every call with status and body.
type answerTransport struct {
	status int
	body   []byte
}

func (a answerTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(a.body))}, nil
}

func fuzzDesk(t *testing.T, status int, body []byte) (*Kit, *desk) {
	k, err := New(Config{BaseURL: "https://acme.zendesk.com/sc", AppID: "app", KeyID: "k", KeySecret: "s", WebhookSecrets: []string{"key"},
		Retries: 1, Backoff: retry.Backoff{Min: time.Microsecond, Max: time.Microsecond},
		HTTPClient: &http.Client{Transport: answerTransport{status, body}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDesk(k, servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("s")})
	if err != nil {
		t.Fatal(err)
	}
	d.Change(func(s *saved) { *s = saved{UserID: "u", ConversationID: "c1", Cursor: "m1"} })
	d.follow("c1")
	return k, d
}

// FuzzWebhook: any delivery body with the right key is answered, and what
// it decodes to is applied, without a panic.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(`{"app":{"id":"app"},"webhook":{"id":"w","version":"v2"},"events":[{"id":"e1","createdAt":"2020-09-30T15:14:29.834Z","type":"conversation:message","payload":{"conversation":{"id":"c1","type":"personal"},"message":{"id":"m2","author":{"type":"business","displayName":"Ada"},"content":{"type":"text","text":"hi"}}}}]}`))
	f.Add([]byte(`{"events":[{"id":"e2","type":"conversation:typing","payload":{"conversation":{"id":"c1"},"activity":{"type":"typing:start","author":{"type":"business"}}}}]}`))
	f.Add([]byte(`{"events":[{"id":"e3","type":"switchboard:passControl","payload":{"conversation":{"id":"c1","activeSwitchboardIntegration":{"name":"bot"}},"reason":"ticketClosed"}}]}`))
	f.Add([]byte(`{"events":[{"id":"e4","type":"switchboard:passControl:failure","payload":{"conversation":{"id":"c1"},"error":{"code":"x","message":"y"}}}]}`))
	f.Add([]byte(`{"events":[{"id":"e5","type":"switchboard:passControl","payload":{}}]}`))
	f.Add([]byte(`{"events":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		k, d := fuzzDesk(t, 200, []byte(`{"messages":[]}`))
		defer k.Close()
		defer d.Close()
		req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		req.Header.Set(APIKeyHeader, "key")
		rec := httptest.NewRecorder()
		k.WebhookHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		k.Deliver(body)
	})
}

// FuzzAnswer: whatever Sunshine Conversations answers to a read of the
// conversation's messages (or an error status), the fill neither panics
// nor shows the kit's own messages.
func FuzzAnswer(f *testing.F) {
	f.Add(200, []byte(`{"messages":[{"id":"m1"},{"id":"m2","received":"2025-02-03T18:33:47.466Z","author":{"type":"business","avatarUrl":"https://www.gravatar.com/avatar/0.png"},"content":{"type":"text","text":"Hello World"},"source":{"type":"api:conversations"}}],"meta":{"hasMore":false}}`))
	f.Add(200, []byte(`{"messages":[{"id":"m2","author":{"type":"business","displayName":"Ada"},"content":{"type":"image","mediaUrl":"https://example.org/i.jpg","altText":"A","actions":[{"type":"link","text":"Go","uri":"https://example.org"}]}}],"meta":{"hasMore":true,"beforeCursor":"m0"}}`))
	f.Add(200, []byte(`{"messages":[{"id":"m3","author":{"type":"business"},"content":{"type":"carousel"},"metadata":{"deskbridge_handoff":"transcript"}}]}`))
	f.Add(5, []byte(`{"errors":[{"code":"too_many_requests","title":"slow down"}]}`))
	f.Add(3, []byte(`{"errors":[{"code":"conversation_not_found","title":"Conversation not found"}]}`))
	f.Add(200, []byte(`nonsense`))
	statuses := []int{200, 201, 400, 404, 423, 429, 500, 503}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		k, d := fuzzDesk(t, statuses[uint(status)%uint(len(statuses))], body)
		defer k.Close()
		defer d.Close()
		_ = d.fill(context.Background())
		var u struct{ User struct{ ID string } }
		_ = k.once(context.Background(), request{Call: httpjson.Call{Op: "get user", Method: http.MethodGet, Path: "/users/x", Out: &u}})
	})
}
