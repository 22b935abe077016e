package deskproto

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

const base = "http://desk.test"

// newMockClient returns a Client whose requests go to an httpmock
// transport, with short backoffs.
func newMockClient(t *testing.T, bo retry.Backoff) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	if bo == (retry.Backoff{}) {
		bo = retry.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond}
	}
	c, err := NewClient(ClientConfig{BaseURL: base, HTTPClient: &http.Client{Transport: mt}, Backoff: bo, MaxRetries: 4})
	if err != nil {
		t.Fatal(err)
	}
	return c, mt
}

// sequence answers the given statuses in turn, then the last one forever,
// recording each request's Idempotency-Key.
func sequence(t *testing.T, statuses []int, body string, keys *[]string) httpmock.Responder {
	var mu sync.Mutex
	n := 0
	return func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		if keys != nil {
			*keys = append(*keys, req.Header.Get("Idempotency-Key"))
		}
		st := statuses[min(n, len(statuses)-1)]
		n++
		if st >= 300 {
			resp := httpmock.NewStringResponse(st, `{"error":{"code":"unavailable","message":"busy"}}`)
			if st == 429 {
				resp.Header.Set("Retry-After", "1")
			}
			return resp, nil
		}
		return httpmock.NewStringResponse(st, body), nil
	}
}

var ref = ChatRef{ID: "ch_1", Token: "tok"}

func TestMessageWithKeyIsResentWithTheSameKey(t *testing.T) {
	c, mt := newMockClient(t, retry.Backoff{})
	var keys []string
	mt.RegisterResponder("POST", base+"/v1/chats/ch_1/messages", sequence(t, []int{503, 502, 201}, `{"message_id":"cm_1","replayed":true}`, &keys))
	res, err := c.Send(context.Background(), ref, Message{IdempotencyKey: "m-1", Message: servicedesk.NewTextRequest("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if res.MessageID != "cm_1" || !res.Replayed {
		t.Fatalf("result %+v", res)
	}
	if len(keys) != 3 || keys[0] != "m-1" || keys[1] != "m-1" || keys[2] != "m-1" {
		t.Fatalf("attempts carried keys %q, want m-1 three times", keys)
	}
}

func TestStartIsNotResentAfterAnAmbiguousFailure(t *testing.T) {
	c, mt := newMockClient(t, retry.Backoff{})
	mt.RegisterResponder("POST", base+"/v1/chats", sequence(t, []int{503, 201}, `{"chat_id":"ch_1"}`, nil))
	_, err := c.Start(context.Background(), StartRequest{})
	if !errors.Is(err, servicedesk.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if n := mt.GetCallCountInfo()["POST "+base+"/v1/chats"]; n != 1 {
		t.Fatalf("start sent %d times after a 503: it has no idempotency key, so once", n)
	}
}

func TestRateLimitIsRetriedEvenWithoutKeyAndRetryAfterIsCapped(t *testing.T) {
	// Retry-After says 1s; the backoff caps waits at 20ms.
	c, mt := newMockClient(t, retry.Backoff{Min: time.Millisecond, Max: 20 * time.Millisecond})
	mt.RegisterResponder("POST", base+"/v1/chats", sequence(t, []int{429, 429, 201}, `{"chat_id":"ch_9","chat_token":"t"}`, nil))
	start := time.Now()
	info, err := c.Start(context.Background(), StartRequest{})
	if err != nil || info.ChatID != "ch_9" {
		t.Fatalf("start = %+v, %v", info, err)
	}
	if n := mt.GetCallCountInfo()["POST "+base+"/v1/chats"]; n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	if el := time.Since(start); el > 900*time.Millisecond {
		t.Fatalf("took %s: Retry-After was not capped by the backoff's maximum", el)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	c, mt := newMockClient(t, retry.Backoff{Min: time.Millisecond, Max: 2 * time.Second})
	mt.RegisterResponder("GET", base+"/v1/availability", sequence(t, []int{429, 200}, `{"online":true}`, nil))
	start := time.Now()
	a, err := c.Availability(context.Background())
	if err != nil || !a.Online {
		t.Fatalf("availability = %+v, %v", a, err)
	}
	if el := time.Since(start); el < time.Second {
		t.Fatalf("retried after %s, before the 1s Retry-After", el)
	}
}

func TestWithoutRetryTriesOnce(t *testing.T) {
	c, mt := newMockClient(t, retry.Backoff{})
	mt.RegisterResponder("GET", base+"/v1/chats/ch_1/events", sequence(t, []int{503, 200}, `{"events":[],"cursor":0}`, nil))
	if _, err := c.Events(WithoutRetry(context.Background()), ref, 0, 0); !errors.Is(err, servicedesk.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if n := mt.GetTotalCallCount(); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
}

func TestHealthReportsDownAfterRepeatedFailuresAndUpOnAnswer(t *testing.T) {
	c, mt := newMockClient(t, retry.Backoff{})
	mt.RegisterResponder("POST", base+"/v1/chats/ch_1/typing", sequence(t, []int{503, 503, 503, 503, 204}, ``, nil))
	var mu sync.Mutex
	var got []bool
	ctx := WithHealth(context.Background(), func(up bool) { mu.Lock(); got = append(got, up); mu.Unlock() })
	if err := c.Typing(ctx, ref, true); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] || !got[1] {
		t.Fatalf("health reports %v, want [false true]", got)
	}
}

func TestErrorsMapOntoSentinels(t *testing.T) {
	c, mt := newMockClient(t, retry.Backoff{})
	mt.RegisterResponder("GET", base+"/v1/chats/ch_1", httpmock.NewStringResponder(404, `{"error":{"code":"chat_not_found","message":"no such chat"}}`))
	mt.RegisterResponder("POST", base+"/v1/chats/ch_1/messages", httpmock.NewStringResponder(422, `{"error":{"code":"message_rejected","message":"spam"}}`))
	mt.RegisterResponder("POST", base+"/v1/chats/ch_1/end", httpmock.NewStringResponder(409, `{"error":{"code":"chat_ended","message":"over"}}`))
	_, err := c.Chat(context.Background(), ref)
	var e *Error
	if !errors.Is(err, servicedesk.ErrChatNotFound) || !errors.As(err, &e) || e.Status != 404 || e.Code != CodeChatNotFound {
		t.Fatalf("get chat: %v", err)
	}
	_, err = c.Send(context.Background(), ref, Message{IdempotencyKey: "k", Message: servicedesk.NewTextRequest("x")})
	if !errors.Is(err, servicedesk.ErrRejected) {
		t.Fatalf("send: %v", err)
	}
	if err := c.End(context.Background(), ref); err != nil {
		t.Fatalf("ending an ended chat: %v", err)
	}
	if n := mt.GetCallCountInfo()["POST "+base+"/v1/chats/ch_1/messages"]; n != 1 {
		t.Fatalf("a refused message was sent %d times", n)
	}
}

func TestNewClientRejectsBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "desk.example.com", "ftp://x", "http://"} {
		if _, err := NewClient(ClientConfig{BaseURL: u}); err == nil {
			t.Errorf("NewClient(%q) succeeded", u)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"id":"evt_ch_1_1","chat_id":"ch_1","seq":1,"type":"capabilities","capabilities":{"allowFileUploads":true}}`))
	f.Add([]byte(`{"id":"e","chat_id":"c","seq":5,"type":"agent_message","message":{"output":{"generic":[{"response_type":"text","text":"hi"}]}}}`))
	f.Add([]byte(`{"id":"e","chat_id":"c","seq":0,"type":"x"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if err != nil {
			return
		}
		if ev.ID == "" || ev.ChatID == "" || ev.Seq == 0 || ev.Type == "" {
			t.Fatalf("accepted an event without its required members: %+v", ev)
		}
	})
}

func TestActionsCarryOneKeyAcrossAttempts(t *testing.T) {
	c, mt := newMockClient(t, retry.Backoff{})
	var keys []string
	mt.RegisterResponder("POST", base+"/v1/chats/ch_1/typing", sequence(t, []int{503, 204}, ``, &keys))
	if err := c.Typing(context.Background(), ref, true); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Fatalf("attempts carried keys %q: want one key, the same on the resend", keys)
	}
	keys = nil
	if err := c.Typing(context.Background(), ref, false); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] == "" {
		t.Fatalf("keys %q", keys)
	}
}

// TestErrorCodes: every protocol code maps onto the servicedesk
// vocabulary, and an answer that is not the protocol's shape (a proxy's
// error page) falls back to its HTTP status, so errors.Is and
// servicedesk.IsTemporary agree.
func TestErrorCodes(t *testing.T) {
	for code := range codeKinds {
		e := &Error{Code: code}
		assert.NotEqual(t, servicedesk.CodeUnknown, e.ErrorCode(), "code %s", code)
		assert.ErrorIs(t, e, e.ErrorCode().Err(), "code %s", code)
	}
	proxy := decodeError(http.StatusBadGateway, []byte("<html>bad gateway</html>"))
	assert.ErrorIs(t, proxy, servicedesk.ErrUnavailable)
	assert.True(t, servicedesk.IsTemporary(proxy))
	assert.Equal(t, servicedesk.CodeUnavailable, servicedesk.CodeOf(fmt.Errorf("deskproto: send: %w", proxy)))

	gone := decodeError(http.StatusUnauthorized, []byte(`{"error":{"code":"unauthorized","message":"wrong token"}}`))
	assert.ErrorIs(t, gone, servicedesk.ErrChatNotFound)
	assert.False(t, servicedesk.IsTemporary(gone))

	newer := decodeError(http.StatusConflict, []byte(`{"error":{"code":"some_future_code","message":"?"}}`))
	assert.Equal(t, servicedesk.CodeRejected, servicedesk.CodeOf(newer))
}
