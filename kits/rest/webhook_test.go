package rest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/kits/rest"
)

const deskURL = "http://desk.test"

// newKit returns a kit whose REST calls go to an httpmock transport that
// starts chat ch_1.
func newKit(t *testing.T) (*rest.Kit, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("POST", deskURL+"/v1/chats", func(req *http.Request) (*http.Response, error) {
		var body map[string]any
		if err := jsonBody(req, &body); err != nil || body["webhook_url"] != "https://bridge.test/hook" {
			return httpmock.NewStringResponse(400, `{"error":{"code":"bad_request","message":"webhook_url missing"}}`), nil
		}
		return httpmock.NewStringResponse(201, `{"chat_id":"ch_1","chat_token":"tok","state":"queued","last_seq":0}`), nil
	})
	kit, err := rest.New(rest.Config{BaseURL: deskURL, WebhookURL: "https://bridge.test/hook", WebhookSecrets: []string{"old", "new"},
		HTTPClient: &http.Client{Transport: mt}, MaxWebhookBytes: 4096})
	require.NoError(t, err)
	return kit, mt
}

func post(h http.Handler, body, sig, eventID string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/hook", strings.NewReader(body))
	if sig != "" {
		req.Header.Set(webhook.SignatureHeader, sig)
	}
	if eventID != "" {
		req.Header.Set(webhook.EventIDHeader, eventID)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func signed(secret, body string, at time.Time) string {
	return webhook.Sign([]byte(secret), at, []byte(body))
}

const joined = `{"id":"evt_ch_1_1","chat_id":"ch_1","seq":1,"type":"agent_joined","agent":{"id":"ada","nickname":"Ada"}}`

func TestWebhookRefusesBadDeliveries(t *testing.T) {
	kit, _ := newKit(t)
	h := kit.WebhookHandler()
	// Chat ch_1 is followed here (its signatures can be checked at once;
	// those of a chat not followed yet are checked when it is).
	rec := &sdtest.Recorder{}
	desk, err := kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("s-1")})
	require.NoError(t, err)
	defer desk.(interface{ Close() error }).Close()
	require.NoError(t, desk.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}))
	now := time.Now()
	for _, tc := range []struct {
		name, body, sig, id string
		status              int
		code                string
	}{
		{"no signature", joined, "", "", 401, "bad_signature"},
		{"wrong secret", joined, signed("other", joined, now), "", 401, "bad_signature"},
		{"body changed after signing", joined, signed("new", strings.Replace(joined, "Ada", "Eve", 1), now), "", 401, "bad_signature"},
		{"stale", joined, signed("new", joined, now.Add(-6*time.Minute)), "", 401, "stale_signature"},
		{"from the future", joined, signed("new", joined, now.Add(6*time.Minute)), "", 401, "stale_signature"},
		{"not JSON", `{"id":`, signed("new", `{"id":`, now), "", 400, "bad_json"},
		{"no seq", `{"id":"e","chat_id":"ch_1","type":"agent_left"}`, signed("new", `{"id":"e","chat_id":"ch_1","type":"agent_left"}`, now), "", 400, "bad_json"},
		{"id header mismatch", joined, signed("new", joined, now), "evt_other", 400, "bad_request"},
		{"too large", strings.Repeat(" ", 5000) + joined, "t=1,v1=00", "", 413, "body_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := post(h, tc.body, tc.sig, tc.id)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), `"code":"`+tc.code+`"`) {
				t.Fatalf("answer %d %s, want %d %s", w.Code, w.Body, tc.status, tc.code)
			}
		})
	}
	req := httptest.NewRequest("GET", "/hook", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 405 || w.Header().Get("Allow") != "POST" {
		t.Fatalf("GET answered %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

func TestWebhookRoutesOnceAndKeepsEarlyEvents(t *testing.T) {
	kit, _ := newKit(t)
	h := kit.WebhookHandler()
	rec := &sdtest.Recorder{}
	desk, err := kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("s-1")})
	require.NoError(t, err)
	defer desk.(interface{ Close() error }).Close()

	// The desk may post before its start answer reaches us: the event is
	// kept (signed with the old secret: rotation works) ...
	if w := post(h, joined, signed("old", joined, time.Now()), "evt_ch_1_1"); w.Code != 204 {
		t.Fatalf("early event answered %d %s", w.Code, w.Body)
	}
	require.NoError(t, desk.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}))
	// ... and handed over once the chat is known.
	if got := rec.Wait(1, time.Second); sdtest.Join(got) != "joined(Ada)" {
		t.Fatalf("calls %q", got)
	}
	msg := `{"id":"evt_ch_1_2","chat_id":"ch_1","seq":2,"type":"agent_message","message_id":"am_1","agent":{"id":"ada"},"message":{"output":{"generic":[{"response_type":"text","text":"hi"}]}}}`
	sig := signed("new", msg, time.Now())
	if w := post(h, msg, sig, ""); w.Code != 204 {
		t.Fatalf("answered %d", w.Code)
	}
	if w := post(h, msg, sig, ""); w.Code != 200 {
		t.Fatalf("a redelivery answered %d, want 200", w.Code)
	}
	if got := rec.Wait(3, 200*time.Millisecond); sdtest.Join(got) != "joined(Ada) | message(hi,ada)" {
		t.Fatalf("calls %q: want the message once", got)
	}
}

func TestNewNeedsWebhookURLAndSecrets(t *testing.T) {
	for _, cfg := range []rest.Config{
		{BaseURL: deskURL, WebhookSecrets: []string{"s"}},
		{BaseURL: deskURL, WebhookURL: "https://b/h", WebhookSecrets: []string{""}},
		{BaseURL: "desk.test", WebhookURL: "https://b/h", WebhookSecrets: []string{"s"}},
	} {
		if _, err := rest.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// An event of a chat no session here follows is passed on (Elsewhere);
// when that fails, the webhook fails with 503 and its redelivery is taken,
// not dropped as a duplicate.
func TestWebhookPassedOnElsewhere(t *testing.T) {
	var passed []string
	fail := true
	kit, err := rest.New(rest.Config{BaseURL: deskURL, WebhookURL: "https://bridge.test/hook", WebhookSecrets: []string{"new"},
		Elsewhere: func(d rest.Delivery) error {
			if fail {
				return errors.New("redis away")
			}
			ev, err := deskproto.DecodeEvent(d.Body)
			require.NoError(t, err)
			passed = append(passed, ev.ID)
			return nil
		}})
	require.NoError(t, err)
	h := kit.WebhookHandler()
	if w := post(h, joined, signed("new", joined, time.Now()), ""); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("relay failed: %d %s, want 503 with Retry-After", w.Code, w.Body)
	}
	fail = false
	if w := post(h, joined, signed("new", joined, time.Now()), ""); w.Code != http.StatusNoContent {
		t.Fatalf("redelivery after the relay came back: %d %s, want 204 (not a duplicate)", w.Code, w.Body)
	}
	if len(passed) != 1 || passed[0] != "evt_ch_1_1" {
		t.Fatalf("passed on %v", passed)
	}
	if kit.Deliver(rest.Delivery{Body: []byte(joined), Signature: signed("new", joined, time.Now()), Received: time.Now()}) {
		t.Fatal("Deliver took an event of a chat nobody here follows")
	}
}
