package salesforce_test

// Fixture tests: the requests the kit sends and the events and answers it
// reads, pinned against the documented shapes of the Messaging for In-App
// and Web API (developer.salesforce.com/docs/service/messaging-api:
// generateAccessTokenForUnauthenticatedUser, …ForAuthenticatedUser,
// generateContinuationToken, createConversation, sendMessage,
// listConversationEntries, listConversations, closeConversation, the
// Server-Sent Events endpoint and its structure page) and Salesforce's
// messaging-web-api-sample-app (src/services/messagingService.js,
// eventSourceService.js, src/helpers/constants.js). REST is
// jarcoal/httpmock; the event stream is a loopback SSE server.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/sse"
	"github.com/deskbridge/deskbridge/kits/salesforce"
)

const (
	scrt  = "http://acme.my.salesforce-scrt.test"
	orgID = "00D5g000004bXyZ"
	api   = scrt + "/iamessage/api/v2"
)

// jwt makes an unsigned token with an exp claim (the kit reads exp only).
func jwt(sub string, exp time.Time) string {
	enc := base64.RawURLEncoding
	claims, _ := json.Marshal(map[string]any{"sub": sub, "exp": exp.Unix()})
	return enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + enc.EncodeToString(claims) + ".c2ln"
}

// eventRouter plays GET /eventrouter/v1/sse: each connection takes its
// frames from conns, in turn, and stays open until the test drops it.
type eventRouter struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
	frames  chan string
	drop    chan struct{}
}

func newEventRouter(t *testing.T) *eventRouter {
	e := &eventRouter{frames: make(chan string, 64), drop: make(chan struct{}, 4)}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/eventrouter/v1/sse" {
			http.NotFound(w, r)
			return
		}
		e.mu.Lock()
		e.headers = append(e.headers, r.Header.Clone())
		e.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for {
			select {
			case f := <-e.frames:
				_, _ = io.WriteString(w, f)
				w.(http.Flusher).Flush()
			case <-e.drop:
				return
			case <-r.Context().Done():
				return
			}
		}
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *eventRouter) connections() []http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]http.Header(nil), e.headers...)
}

func (e *eventRouter) awaitConnections(t *testing.T, n int) []http.Header {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if h := e.connections(); len(h) >= n {
			return h
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d stream connections", n)
	return nil
}

// event is one SSE frame of the documented event data shape, entryPayload
// a JSON string as the stream sends it.
func event(typ, id, conv string, entry map[string]any, payload map[string]any) string {
	p, _ := json.Marshal(payload)
	ce := map[string]any{"senderDisplayName": "Ada", "identifier": id, "entryType": payload["entryType"], "entryPayload": string(p),
		"sender":                map[string]any{"role": "Agent", "appType": "agent", "subject": "005xx0000012345", "clientIdentifier": ""},
		"transcriptedTimestamp": 1714567200000, "relatedRecords": []string{}, "clientTimestamp": 1714567200000}
	for k, v := range entry {
		ce[k] = v
	}
	b, _ := json.Marshal(map[string]any{"channelPlatformKey": "k", "channelType": "embedded_messaging", "channelAddressIdentifier": "cai", "conversationId": conv, "conversationEntry": ce})
	return "id: " + id + "\nevent: " + typ + "\ndata: " + string(b) + "\n\n"
}

func textPayload(id, text string) map[string]any {
	return map[string]any{"entryType": "Message", "id": id, "abstractMessage": map[string]any{"messageType": "StaticContentMessage", "id": id,
		"staticContent": map[string]any{"formatType": "Text", "text": text}}, "messageReason": nil}
}

func agentText(id, conv, text string, ts int64) string {
	return event("CONVERSATION_MESSAGE", id, conv, map[string]any{"transcriptedTimestamp": ts}, textPayload(id, text))
}

// listEntry is an item of the entries list: entryPayload an object.
func listEntry(id, text string, ts int64) map[string]any {
	return map[string]any{"senderDisplayName": "Ada", "identifier": id, "entryType": "Message", "entryPayload": textPayload(id, text),
		"sender": map[string]any{"role": "Agent", "subject": "005xx0000012345"}, "transcriptedTimestamp": ts, "clientTimestamp": ts}
}

type fixture struct {
	router *eventRouter
	mock   *httpmock.MockTransport
	rec    *sdtest.Recorder
	desk   servicedesk.ServiceDesk
	logs   *syncBuffer

	mu       sync.Mutex
	requests []recorded
	token    string
}

type recorded struct {
	method, path, auth string
	body               map[string]any
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t *testing.T, state string, mutate func(*salesforce.Config)) *fixture {
	t.Helper()
	f := &fixture{router: newEventRouter(t), mock: httpmock.NewMockTransport(), rec: &sdtest.Recorder{}, logs: &syncBuffer{}}
	f.token = jwt("subject-1", time.Now().Add(time.Hour))
	addr := f.router.Listener.Addr().String()
	streamClient := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}}}
	t.Cleanup(streamClient.CloseIdleConnections)
	cfg := salesforce.Config{
		URL: scrt, OrgID: orgID, DeveloperName: "Web_Chat",
		HTTPClient:       &http.Client{Transport: f.mock},
		StreamClient:     streamClient,
		HeartbeatTimeout: 10 * time.Second,
		StreamBackoff:    sse.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond},
		Backoff:          retry.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond},
		TypingInterval:   time.Hour,
		Logger:           slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	kit, err := salesforce.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kit.Close() })
	f.respond("POST", api+"/authorization/unauthenticated/access-token", 200, `{"accessToken":"`+f.token+`","lastEventId":"ev-0","context":{"deviceId":"d","configuration":{"embeddedServiceConfig":{"name":"Web_Chat","deploymentType":"api"}}}}`)
	f.respond("POST", api+"/conversation", 201, ``)
	// Open: every conversation created (the tests that close one say so).
	f.respondFunc("GET", api+"/conversation/list?inclClosedConvs=false&limit=50", func(*http.Request) (int, string) {
		var convs []map[string]any
		for _, r := range f.sent("POST", "/iamessage/api/v2/conversation") {
			if r.path == "/iamessage/api/v2/conversation" {
				convs = append(convs, map[string]any{"conversationId": r.body["conversationId"], "startTimestamp": 1000})
			}
		}
		b, _ := json.Marshal(map[string]any{"openConversationsFound": len(convs), "closedConversationsFound": 0, "conversations": convs})
		return 200, string(b)
	})
	f.respond("GET", `=~^`+api+`/conversation/[0-9a-f-]+/entries`, 200, `{"conversationEntries":[]}`)
	f.respond("POST", `=~^`+api+`/conversation/[0-9a-f-]+/acknowledge-entries`, 202, ``)
	var raw json.RawMessage
	if state != "" {
		raw = json.RawMessage(state)
		_ = f.rec.ReplacePersistedState(raw)
	}
	f.desk, err = kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: f.rec, Instance: sdtest.Instance("s-1"), PersistedState: raw})
	require.NoError(t, err)
	return f
}

// respond registers a fixed answer and records every request.
func (f *fixture) respond(method, url string, status int, body string) {
	f.respondFunc(method, url, func(*http.Request) (int, string) { return status, body })
}

func (f *fixture) respondFunc(method, url string, answer func(*http.Request) (int, string)) {
	f.mock.RegisterResponder(method, url, func(req *http.Request) (*http.Response, error) {
		var body map[string]any
		if req.Body != nil {
			b, _ := io.ReadAll(req.Body)
			_ = json.Unmarshal(b, &body)
		}
		f.mu.Lock()
		f.requests = append(f.requests, recorded{method: req.Method, path: strings.TrimPrefix(req.URL.String(), scrt), auth: req.Header.Get("Authorization"), body: body})
		f.mu.Unlock()
		status, b := answer(req)
		resp := httpmock.NewStringResponse(status, b)
		resp.Header.Set("Content-Type", "application/json")
		return resp, nil
	})
}

func (f *fixture) sent(method, prefix string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.requests {
		if r.method == method && strings.HasPrefix(r.path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// awaitSent waits for n requests of method under prefix.
func (f *fixture) awaitSent(t *testing.T, method, prefix string, n int) []recorded {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if r := f.sent(method, prefix); len(r) >= n {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d %s %s requests", n, method, prefix)
	return nil
}

// awaitCalls waits until the callbacks include want in order (others may
// come between).
func awaitCalls(t *testing.T, r *sdtest.Recorder, want ...string) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls := r.Calls()
		i := 0
		for _, c := range calls {
			if i < len(want) && c == want[i] {
				i++
			}
		}
		if i == len(want) {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls %s; want in order %s", sdtest.Join(calls), strings.Join(want, " | "))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fixture) start(t *testing.T, h servicedesk.Handoff) string {
	t.Helper()
	cm := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: "refund please"})
	require.NoError(t, f.desk.StartChat(context.Background(), cm, servicedesk.StartChatOptions{Handoff: h}))
	var c salesforce.Conversation
	require.True(t, servicedesk.As(f.desk, &c))
	return c.ConversationID
}

func count(calls []string, s string) int {
	n := 0
	for _, c := range calls {
		if c == s {
			n++
		}
	}
	return n
}

// TestConversationFromStartToClose: the token, the stream's headers, the
// conversation with the hand-off as routing attributes, then every event
// of a conversation mapped to its callback.
func TestConversationFromStartToClose(t *testing.T) {
	f := newFixture(t, "", nil)
	conv := f.start(t, servicedesk.Handoff{
		Attributes: map[string]string{"Queue": "billing"},
		Unverified: map[string]string{"plan": "gold"},
		Transcript: []servicedesk.Turn{{From: "user", Text: "my card was charged twice"}, {From: "bot", Text: "I'll get a person."}},
	})
	tok := f.sent("POST", "/iamessage/api/v2/authorization/unauthenticated/access-token")
	require.Len(t, tok, 1)
	assert.Equal(t, map[string]any{"orgId": orgID, "esDeveloperName": "Web_Chat", "capabilitiesVersion": "1", "platform": "Web",
		"context": map[string]any{"appName": "deskbridge", "clientVersion": "1"}}, tok[0].body)
	create := f.sent("POST", "/iamessage/api/v2/conversation")[0]
	assert.Equal(t, "Bearer "+f.token, create.auth)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, create.body["conversationId"])
	assert.Equal(t, conv, create.body["conversationId"])
	assert.Equal(t, "Web_Chat", create.body["esDeveloperName"])
	assert.Equal(t, map[string]any{"Queue": "billing", "Unverified_plan": "gold", "Summary": "refund please",
		"Transcript": "user: my card was charged twice\nbot: I'll get a person."}, create.body["routingAttributes"])

	h := f.router.awaitConnections(t, 1)[0]
	assert.Equal(t, "Bearer "+f.token, h.Get("Authorization"))
	assert.Equal(t, orgID, h.Get("X-Org-Id"))
	assert.Equal(t, "ev-0", h.Get("Last-Event-Id"), "the token answer's lastEventId")
	assert.Equal(t, "text/event-stream", h.Get("Accept"))

	f.router.frames <- event("CONVERSATION_ROUTING_RESULT", "r1", conv, map[string]any{"sender": map[string]any{"role": "Router"}},
		map[string]any{"entryType": "RoutingResult", "id": "r1", "routingType": "Initial", "failureType": "None", "estimatedWaitTime": map[string]any{"isEWTRequested": true, "estimatedWaitTimeInSeconds": 150}})
	f.router.frames <- "event: ping\ndata: {}\n\n"
	f.router.frames <- event("CONVERSATION_SOMETHING_NEW", "x1", conv, nil, map[string]any{"entryType": "Whatever"})
	f.router.frames <- event("CONVERSATION_PARTICIPANT_CHANGED", "p1", conv, nil, map[string]any{"entryType": "ParticipantChanged", "id": "p1",
		"entries": []any{map[string]any{"operation": "add", "displayName": "Ada", "participant": map[string]any{"role": "Agent", "appType": "agent", "subject": "005xx0000012345"}}}})
	f.router.frames <- event("CONVERSATION_TYPING_STARTED_INDICATOR", "t1", conv, nil, map[string]any{"entryType": "TypingStartedIndicator", "id": "t1"})
	f.router.frames <- agentText("m1", conv, "Hello, I'm Ada.", 1714567201000)
	f.router.frames <- event("CONVERSATION_MESSAGE", "echo", conv, map[string]any{"sender": map[string]any{"role": "EndUser"}}, textPayload("u1", "my own words"))
	f.router.frames <- event("CONVERSATION_READ_ACKNOWLEDGEMENT", "a1", conv, map[string]any{"relatedRecords": []string{"u1"}}, map[string]any{"entryType": "ReadAcknowledgement", "id": "a1", "acknowledgementTimestamp": 1714567202000})
	f.router.frames <- agentText("other", "another-conversation", "not ours", 1714567203000)
	f.router.frames <- event("CONVERSATION_CLOSE_CONVERSATION", "c1", conv, nil, map[string]any{"entryType": "CloseConversation", "id": "c1", "conversationIdentifier": conv})
	calls := awaitCalls(t, f.rec, "queue(-1,2.5)", "joined(Ada)", "typing(true)", "typing(false)", "message(Hello, I'm Ada.,005xx0000012345)", "read", "ended")
	assert.NotContains(t, sdtest.Join(calls), "my own words")
	assert.NotContains(t, sdtest.Join(calls), "not ours")
	assert.Contains(t, f.logs.String(), "ignored an unknown event type")
	ack := f.awaitSent(t, "POST", "/iamessage/api/v2/conversation/"+conv+"/acknowledge-entries", 1)[0]
	assert.Equal(t, "Delivery", ack.body["acks"].([]any)[0].(map[string]any)["entryType"])
	assert.Equal(t, "m1", ack.body["acks"].([]any)[0].(map[string]any)["conversationEntryId"])
	assert.Eventually(t, func() bool { return f.rec.State()["last_event_id"] == "c1" }, 5*time.Second, 5*time.Millisecond, "the stream position is persisted")
}

func sendText(t *testing.T, d servicedesk.ServiceDesk, id, text string) error {
	t.Helper()
	return d.SendMessageToAgent(context.Background(), servicedesk.MessageRequest{Input: servicedesk.MessageInput{Text: text}}, id, servicedesk.AdditionalDataToAgent{})
}

// TestSendMessageRetriedWithOneID: a 503 and a 429 (Retry-After) are
// retried with the same entry id; a UUID message id is the entry id, any
// other is made a UUID the same way every time; a 400 is a rejection.
func TestSendMessageRetriedWithOneID(t *testing.T) {
	f := newFixture(t, "", nil)
	conv := f.start(t, servicedesk.Handoff{})
	n := 0
	f.respondFunc("POST", api+"/conversation/"+conv+"/message", func(*http.Request) (int, string) {
		n++
		switch n {
		case 1:
			return 503, `{"message":"Service Unavailable"}`
		case 2:
			return 429, `{"message":"Too Many Requests"}`
		case 4:
			return 400, `{"message":"Invalid message: text too long","errorCode":"BAD_REQUEST"}`
		}
		return 202, `{"conversationEntries":[{"id":"e","clientTimestamp":1714567200000}]}`
	})
	start := time.Now()
	require.NoError(t, sendText(t, f.desk, "7F0D9B0C-8E3B-4B1E-9C55-2D2E3A4B5C6D", "hello"))
	sends := f.sent("POST", "/iamessage/api/v2/conversation/"+conv+"/message")
	require.Len(t, sends, 3)
	for _, s := range sends {
		m := s.body["message"].(map[string]any)
		assert.Equal(t, "7f0d9b0c-8e3b-4b1e-9c55-2d2e3a4b5c6d", m["id"])
		assert.Equal(t, "StaticContentMessage", m["messageType"])
		assert.Equal(t, map[string]any{"formatType": "Text", "text": "hello"}, m["staticContent"])
		assert.Equal(t, "Web_Chat", s.body["esDeveloperName"])
		assert.Equal(t, false, s.body["isNewMessagingSession"])
	}
	_ = start

	err := sendText(t, f.desk, "engine-id-1", "too long")
	var e *httpjson.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 400, e.Status)
	assert.True(t, errors.Is(err, servicedesk.ErrRejected), "%v", err)
	assert.Contains(t, err.Error(), "text too long")
	require.NoError(t, sendText(t, f.desk, "engine-id-1", "too long"))
	sends = f.sent("POST", "/iamessage/api/v2/conversation/"+conv+"/message")
	id1, id2 := sends[3].body["message"].(map[string]any)["id"], sends[4].body["message"].(map[string]any)["id"]
	assert.Equal(t, id1, id2, "the same engine id, the same entry id")
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id1)
}

// TestRetryAfterHonoured: a 429's Retry-After spaces the resend.
func TestRetryAfterHonoured(t *testing.T) {
	f := newFixture(t, "", func(c *salesforce.Config) { c.Backoff.MaxRetryAfter = 2 * time.Second })
	conv := f.start(t, servicedesk.Handoff{})
	n := 0
	f.mock.RegisterResponder("POST", api+"/conversation/"+conv+"/message", func(*http.Request) (*http.Response, error) {
		n++
		if n == 1 {
			r := httpmock.NewStringResponse(429, `{"message":"Too Many Requests"}`)
			r.Header.Set("Retry-After", "1")
			return r, nil
		}
		return httpmock.NewStringResponse(202, ``), nil
	})
	start := time.Now()
	require.NoError(t, sendText(t, f.desk, "m", "hi"))
	assert.GreaterOrEqual(t, time.Since(start), time.Second)
	assert.Equal(t, 2, n)
}

// TestTokenRenewal: a 401 renews the token with the continuation call and
// sends again with the new one; a token about to expire is renewed before
// use; a 401 on the continuation call ends the conversation.
func TestTokenRenewal(t *testing.T) {
	renewed := jwt("subject-1", time.Now().Add(3*time.Hour))
	t.Run("401", func(t *testing.T) {
		f := newFixture(t, "", nil)
		conv := f.start(t, servicedesk.Handoff{})
		f.respond("GET", api+"/authorization/continuation-access-token", 200, `{"accessToken":"`+renewed+`","lastEventId":"ev-9"}`)
		calls := 0
		f.respondFunc("POST", api+"/conversation/"+conv+"/message", func(r *http.Request) (int, string) {
			calls++
			if calls == 1 {
				return 401, `{"status":401,"error":"Unauthorized","message":"Jwt is expired"}`
			}
			return 202, ``
		})
		require.NoError(t, sendText(t, f.desk, "m1", "one"))
		sends := f.sent("POST", "/iamessage/api/v2/conversation/"+conv+"/message")
		require.Len(t, sends, 2)
		assert.Equal(t, "Bearer "+f.token, sends[0].auth)
		assert.Equal(t, "Bearer "+renewed, sends[1].auth)
		assert.Equal(t, "Bearer "+f.token, f.sent("GET", "/iamessage/api/v2/authorization/continuation-access-token")[0].auth)
		assert.Equal(t, renewed, f.rec.State()["token"], "the renewed token is persisted")

		// The token can no longer be renewed: the conversation is out of reach.
		f.respond("GET", api+"/authorization/continuation-access-token", 401, `{"message":"Jwt is expired"}`)
		f.respond("POST", api+"/conversation/"+conv+"/message", 401, `{"message":"Jwt is expired"}`)
		err := sendText(t, f.desk, "m3", "three")
		assert.True(t, errors.Is(err, servicedesk.ErrChatNotFound), "%v", err)
	})
	t.Run("about to expire", func(t *testing.T) {
		// The fixture's token expires in an hour: inside a 2 h margin.
		f := newFixture(t, "", func(c *salesforce.Config) { c.TokenRefresh = 2 * time.Hour })
		f.respond("GET", api+"/authorization/continuation-access-token", 200, `{"accessToken":"`+renewed+`","lastEventId":"ev-9"}`)
		f.start(t, servicedesk.Handoff{})
		assert.Equal(t, "Bearer "+renewed, f.sent("POST", "/iamessage/api/v2/conversation")[0].auth)
		assert.Len(t, f.sent("GET", "/iamessage/api/v2/authorization/continuation-access-token"), 1, "renewed once")
	})
}

// TestHeartbeatTimeout: a stream silent past the heartbeat timeout is
// dropped and reopened from the last event id.
func TestHeartbeatTimeout(t *testing.T) {
	f := newFixture(t, "", func(c *salesforce.Config) { c.HeartbeatTimeout = 200 * time.Millisecond })
	conv := f.start(t, servicedesk.Handoff{})
	f.router.awaitConnections(t, 1)
	f.router.frames <- agentText("m1", conv, "one", 1001)
	h := f.router.awaitConnections(t, 2)[1]
	assert.Equal(t, "m1", h.Get("Last-Event-Id"))
	assert.Contains(t, f.logs.String(), "no data within the heartbeat timeout")
}

// TestGapFillAfterDrop: the stream drops mid-chat; the reconnection sends
// the last event id, the entries fill brings what was missed, and the
// replay overlaps both: each message reaches the user once, in order, and
// the outage is reported around it.
func TestGapFillAfterDrop(t *testing.T) {
	f := newFixture(t, "", nil)
	conv := f.start(t, servicedesk.Handoff{})
	f.router.awaitConnections(t, 1)
	f.router.frames <- event("CONVERSATION_PARTICIPANT_CHANGED", "p1", conv, map[string]any{"transcriptedTimestamp": 1000}, map[string]any{"entryType": "ParticipantChanged", "id": "p1",
		"entries": []any{map[string]any{"operation": "add", "displayName": "Ada", "participant": map[string]any{"role": "Agent", "subject": "005xx0000012345"}}}})
	f.router.frames <- agentText("m1", conv, "one", 1001)
	f.router.frames <- agentText("m2", conv, "two", 1002)
	awaitCalls(t, f.rec, "joined(Ada)", "message(one,005xx0000012345)", "message(two,005xx0000012345)")
	// What happened during the outage is in the entries list (m2 again,
	// newest first as the list may answer); the replay brings m3 and m4.
	f.respondFunc("GET", `=~^`+api+`/conversation/`+conv+`/entries`, func(r *http.Request) (int, string) {
		if r.URL.Query().Get("startTimestamp") != "1002" || r.URL.Query().Get("direction") != "FromStart" {
			return 400, `{"message":"unexpected query ` + r.URL.RawQuery + `"}`
		}
		b, _ := json.Marshal(map[string]any{"conversationEntries": []any{listEntry("m3", "three", 1003), listEntry("m2", "two", 1002)}})
		return 200, string(b)
	})
	f.router.drop <- struct{}{}
	h := f.router.awaitConnections(t, 2)[1]
	assert.Equal(t, "m2", h.Get("Last-Event-Id"))
	f.router.frames <- agentText("m3", conv, "three", 1003)
	f.router.frames <- agentText("m4", conv, "four", 1004)
	calls := awaitCalls(t, f.rec, "message(three,005xx0000012345)", "message(four,005xx0000012345)")
	for _, m := range []string{"one", "two", "three", "four"} {
		assert.Equal(t, 1, count(calls, "message("+m+",005xx0000012345)"), "%s in %s", m, sdtest.Join(calls))
	}
	awaitCalls(t, f.rec, "error(DISCONNECTED,true,)", "error(DISCONNECTED,false,)")
	assert.NotEmpty(t, f.sent("GET", "/iamessage/api/v2/conversation/list"), "the fill checks the conversation is open")
}

// TestClosedDuringOutage: the fill finds the conversation no longer open:
// the agent ended it while the stream was down.
func TestClosedDuringOutage(t *testing.T) {
	f := newFixture(t, "", nil)
	conv := f.start(t, servicedesk.Handoff{})
	f.router.awaitConnections(t, 1)
	f.router.frames <- agentText("m1", conv, "one", 1001)
	awaitCalls(t, f.rec, "joined(Ada)")
	f.respond("GET", api+"/conversation/list?inclClosedConvs=false&limit=50", 200, `{"openConversationsFound":0,"closedConversationsFound":1,"conversations":[]}`)
	f.router.drop <- struct{}{}
	awaitCalls(t, f.rec, "ended")
}

// TestRoutingFailed: an initial routing that fails before any agent ends
// the chat with a CONNECTING error carrying Salesforce's reason.
func TestRoutingFailed(t *testing.T) {
	f := newFixture(t, "", nil)
	conv := f.start(t, servicedesk.Handoff{})
	f.router.awaitConnections(t, 1)
	f.router.frames <- event("CONVERSATION_ROUTING_RESULT", "r1", conv, map[string]any{"sender": map[string]any{"role": "Router"}},
		map[string]any{"entryType": "RoutingResult", "id": "r1", "routingType": "Initial", "failureType": "RoutingError", "failureReason": "No agents are available."})
	awaitCalls(t, f.rec, "error(CONNECTING,false,No agents are available.)")
}

// TestTransfer: a Transfer routing result, the first agent's removal and
// the next one's add are one transfer, not a leave.
func TestTransfer(t *testing.T) {
	f := newFixture(t, "", nil)
	conv := f.start(t, servicedesk.Handoff{})
	f.router.awaitConnections(t, 1)
	add := func(id, name, op string) string {
		return event("CONVERSATION_PARTICIPANT_CHANGED", id, conv, nil, map[string]any{"entryType": "ParticipantChanged", "id": id,
			"entries": []any{map[string]any{"operation": op, "displayName": name, "participant": map[string]any{"role": "Agent", "subject": "sub-" + name}}}})
	}
	f.router.frames <- add("p1", "Ada", "add")
	f.router.frames <- event("CONVERSATION_ROUTING_RESULT", "r2", conv, nil, map[string]any{"entryType": "RoutingResult", "id": "r2", "routingType": "Transfer", "failureType": "None"})
	f.router.frames <- add("p2", "Ada", "remove")
	f.router.frames <- add("p3", "Grace", "add")
	f.router.frames <- add("p4", "Grace", "remove")
	calls := awaitCalls(t, f.rec, "joined(Ada)", "transfer()", "joined(Grace)", "left")
	assert.Equal(t, 1, count(calls, "left"), sdtest.Join(calls))
}

// TestUserSide: typing started/stopped entries, a read acknowledgement of
// the last agent entry, and the close.
func TestUserSide(t *testing.T) {
	f := newFixture(t, "", nil)
	conv := f.start(t, servicedesk.Handoff{})
	f.respond("POST", api+"/conversation/"+conv+"/entry", 202, ``)
	f.respond("DELETE", api+"/conversation/"+conv+"?esDeveloperName=Web_Chat", 204, ``)
	tn := f.desk.(servicedesk.TypingNotifier)
	require.NoError(t, tn.UserTyping(context.Background(), true))
	require.NoError(t, tn.UserTyping(context.Background(), true)) // throttled
	require.NoError(t, tn.UserTyping(context.Background(), false))
	entries := f.sent("POST", "/iamessage/api/v2/conversation/"+conv+"/entry")
	require.Len(t, entries, 2)
	assert.Equal(t, "TypingStartedIndicator", entries[0].body["entryType"])
	assert.Equal(t, "TypingStoppedIndicator", entries[1].body["entryType"])
	assert.Regexp(t, `^[0-9a-f-]{36}$`, entries[0].body["id"])

	f.router.awaitConnections(t, 1)
	f.router.frames <- agentText("m1", conv, "one", 1001)
	awaitCalls(t, f.rec, "message(one,005xx0000012345)")
	require.NoError(t, f.desk.(servicedesk.ReadNotifier).UserReadMessages(context.Background()))
	var read map[string]any
	for _, r := range f.sent("POST", "/iamessage/api/v2/conversation/"+conv+"/acknowledge-entries") {
		if a := r.body["acks"].([]any)[0].(map[string]any); a["entryType"] == "Read" {
			read = a
		}
	}
	require.NotNil(t, read)
	assert.Equal(t, "m1", read["conversationEntryId"])

	require.NoError(t, f.desk.EndChat(context.Background(), servicedesk.EndChatInfo{}))
	assert.Len(t, f.sent("DELETE", "/iamessage/api/v2/conversation/"+conv), 1)
	require.NoError(t, f.desk.EndChat(context.Background(), servicedesk.EndChatInfo{}), "idempotent")
	assert.Len(t, f.sent("DELETE", "/iamessage/api/v2/conversation/"+conv), 1)
}

// TestReconnect: the persisted token is renewed, the conversation found
// open, and the stream resumed from the persisted event id; a closed
// conversation or a token that cannot be renewed answers false.
func TestReconnect(t *testing.T) {
	conv := "5b1e0f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	state := `{"token":"` + jwt("subject-1", time.Now().Add(time.Hour)) + `","conversation_id":"` + conv + `","last_event_id":"ev-41","last_entry_time":1005,"joined":true}`
	t.Run("open", func(t *testing.T) {
		f := newFixture(t, state, nil)
		fresh := jwt("subject-1", time.Now().Add(2*time.Hour))
		f.respond("GET", api+"/authorization/continuation-access-token", 200, `{"accessToken":"`+fresh+`","lastEventId":"ev-42"}`)
		f.respond("GET", api+"/conversation/list?inclClosedConvs=false&limit=50", 200, `{"openConversationsFound":1,"conversations":[{"conversationId":"`+conv+`"}]}`)
		ok, err := f.desk.(servicedesk.Reconnector).Reconnect(context.Background())
		require.NoError(t, err)
		require.True(t, ok)
		h := f.router.awaitConnections(t, 1)[0]
		assert.Equal(t, "ev-41", h.Get("Last-Event-Id"))
		assert.Equal(t, "Bearer "+fresh, h.Get("Authorization"))
		f.awaitSent(t, "GET", "/iamessage/api/v2/conversation/"+conv+"/entries?direction=FromStart&limit=50&startTimestamp=1005", 1)
		f.router.frames <- agentText("m9", conv, "welcome back", 1009)
		awaitCalls(t, f.rec, "message(welcome back,005xx0000012345)")
	})
	t.Run("closed", func(t *testing.T) {
		f := newFixture(t, state, nil)
		f.respond("GET", api+"/authorization/continuation-access-token", 200, `{"accessToken":"x","lastEventId":""}`)
		f.respond("GET", api+"/conversation/list?inclClosedConvs=false&limit=50", 200, `{"openConversationsFound":0,"conversations":[]}`)
		ok, err := f.desk.(servicedesk.Reconnector).Reconnect(context.Background())
		require.NoError(t, err)
		assert.False(t, ok)
	})
	t.Run("expired", func(t *testing.T) {
		f := newFixture(t, state, nil)
		f.respond("GET", api+"/authorization/continuation-access-token", 401, `{"message":"Jwt is expired"}`)
		ok, err := f.desk.(servicedesk.Reconnector).Reconnect(context.Background())
		require.NoError(t, err)
		assert.False(t, ok)
	})
	t.Run("down", func(t *testing.T) {
		f := newFixture(t, state, func(c *salesforce.Config) { c.Retries = 1 })
		f.respond("GET", api+"/authorization/continuation-access-token", 503, `{"message":"down"}`)
		_, err := f.desk.(servicedesk.Reconnector).Reconnect(context.Background())
		assert.True(t, errors.Is(err, servicedesk.ErrUnavailable), "%v: cannot tell yet", err)
	})
}

// TestVerifiedCustomer: with Config.IdentityToken and a verified customer
// the token comes from the authenticated call with an RS256 identity JWT
// (kid, iss, sub) that the channel's key verifies.
func TestVerifiedCustomer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	f := newFixture(t, "", func(c *salesforce.Config) {
		c.IdentityToken = salesforce.SignIdentity(key, "key-1", "https://shop.example.com", time.Minute)
	})
	f.respond("POST", api+"/authorization/authenticated/access-token", 200, `{"accessToken":"`+f.token+`","lastEventId":"ev-0"}`)
	conv := f.start(t, servicedesk.Handoff{Customer: &servicedesk.Customer{ID: "cust-42", Name: "Ada Lovelace", Email: "ada@example.com"}})
	require.NotEmpty(t, conv)
	assert.Empty(t, f.sent("POST", "/iamessage/api/v2/authorization/unauthenticated"))
	req := f.sent("POST", "/iamessage/api/v2/authorization/authenticated/access-token")[0].body
	assert.Equal(t, "JWT", req["authorizationType"])
	parts := strings.Split(req["customerIdentityToken"].(string), ".")
	require.Len(t, parts, 3)
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	assert.Equal(t, "key-1", dec(parts[0])["kid"])
	assert.Equal(t, "RS256", dec(parts[0])["alg"])
	claims := dec(parts[1])
	assert.Equal(t, "cust-42", claims["sub"])
	assert.Equal(t, "https://shop.example.com", claims["iss"])
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	require.NoError(t, rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig))
	// Identity travels in the token, not as attributes.
	_, has := f.sent("POST", "/iamessage/api/v2/conversation")[0].body["routingAttributes"].(map[string]any)["CustomerEmail"]
	assert.False(t, has)
}

// TestHandoffCut: attributes over the limit are cut with the marker, the
// transcript from its start (the newest turns stay), and nothing fails.
func TestHandoffCut(t *testing.T) {
	f := newFixture(t, "", func(c *salesforce.Config) { c.MaxAttributeBytes = 40 })
	var turns []servicedesk.Turn
	for i := range 10 {
		turns = append(turns, servicedesk.Turn{From: "user", Text: fmt.Sprintf("turn %d", i)})
	}
	f.start(t, servicedesk.Handoff{Summary: strings.Repeat("é", 50), Transcript: turns, Customer: &servicedesk.Customer{ID: "c1", Email: "ada@example.com"}})
	attrs := f.sent("POST", "/iamessage/api/v2/conversation")[0].body["routingAttributes"].(map[string]any)
	s := attrs["Summary"].(string)
	assert.LessOrEqual(t, len(s), 40)
	assert.True(t, strings.HasSuffix(s, servicedesk.TruncatedMarker), s)
	tr := attrs["Transcript"].(string)
	assert.LessOrEqual(t, len(tr), 40)
	assert.True(t, strings.HasPrefix(tr, "[…] ") && strings.HasSuffix(tr, "user: turn 9"), tr)
	assert.Equal(t, "ada@example.com", attrs["CustomerEmail"], "without an identity token the verified email is an attribute")
}

// TestStartErrors: a refused token or conversation fails StartChat with
// Salesforce's reason.
func TestStartErrors(t *testing.T) {
	f := newFixture(t, "", nil)
	f.respond("POST", api+"/authorization/unauthenticated/access-token", 400, `{"message":"Deployment Web_Chat is not a Custom Client deployment"}`)
	err := f.desk.StartChat(context.Background(), servicedesk.TextResponse("x"), servicedesk.StartChatOptions{})
	assert.True(t, errors.Is(err, servicedesk.ErrRejected), "%v", err)
	assert.Contains(t, err.Error(), "Custom Client")
}

func TestNewChecksConfig(t *testing.T) {
	for _, c := range []salesforce.Config{
		{OrgID: orgID, DeveloperName: "d"},
		{URL: "ftp://x", OrgID: orgID, DeveloperName: "d"},
		{URL: scrt, OrgID: "005xx", DeveloperName: "d"},
		{URL: scrt, OrgID: orgID},
	} {
		_, err := salesforce.New(c)
		assert.Error(t, err, "%+v", c)
	}
	_, err := salesforce.New(salesforce.Config{URL: scrt, OrgID: orgID + "AAA", DeveloperName: "d"})
	assert.NoError(t, err, "an 18-character org id")
}
