package zendesk_test

// Fixture tests: the requests the kit sends and the answers and webhook
// deliveries it reads, pinned against the shapes of
// zendesk/sunshine-conversations-api-spec openapi.yaml (v17.12.1): the
// createUser, createConversation, text-2, listMessages and
// uploadAttachment examples, errorResponse, and the webhook examples
// conversationMessageEvent, conversationTypingEvent,
// switchboardPassControlEvent, switchboardPassControlFailureEvent and
// switchboardReleaseControlEvent. REST is jarcoal/httpmock; the webhooks
// go to the kit's handler on a loopback server.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/zendesk"
)

const (
	base    = "https://acme.zendesk.com/sc/v2/apps/5ebee0975ac5304b664a12fa"
	appID   = "5ebee0975ac5304b664a12fa"
	convID  = "67a0ecf8f0305f4a391e9db1"
	userID  = "67a11490f0305f4a391e9f8a"
	hookKey = "whsec-fixture"
)

// sunco plays Sunshine Conversations' REST side for one conversation.
type sunco struct {
	t  *testing.T
	mt *httpmock.MockTransport

	mu      sync.Mutex
	msgs    []map[string]any
	posts   []map[string]any // POST …/messages bodies, in order
	calls   []string         // "METHOD path" of every call
	bodies  map[string][]map[string]any
	fail    map[string][]int // route → statuses answered first, in order
	active  map[string]any   // the conversation's activeSwitchboardIntegration
	seq     int
	lastURL string
}

func newSunco(t *testing.T) *sunco {
	s := &sunco{t: t, mt: httpmock.NewMockTransport(), bodies: map[string][]map[string]any{}, fail: map[string][]int{},
		active: map[string]any{"id": "5eecde2dcdbffb08f5c3ed38", "name": "zd-agentWorkspace", "integrationType": "zd:agentWorkspace"}}
	s.route(http.MethodPost, base+"/users", func(req map[string]any) (int, any) {
		return 201, map[string]any{"user": map[string]any{"id": userID, "externalId": req["externalId"], "signedUpAt": "2025-02-03T19:10:08.152Z",
			"hasPaymentInfo": false, "identities": []any{}, "profile": map[string]any{"locale": "en", "localeOrigin": "zendeskAccount"}, "metadata": map[string]any{}}}
	})
	s.route(http.MethodGet, `=~^`+base+`/users/[^/]+$`, func(map[string]any) (int, any) {
		return 200, map[string]any{"user": map[string]any{"id": userID, "externalId": "cust-42"}}
	})
	s.route(http.MethodPost, base+"/conversations", func(map[string]any) (int, any) {
		return 201, map[string]any{"conversation": map[string]any{"id": convID, "type": "personal", "isDefault": false,
			"lastUpdatedAt": "2025-02-03T16:21:12.308Z", "createdAt": "2025-02-03T16:21:12.308Z"}}
	})
	s.route(http.MethodGet, base+"/conversations/"+convID, func(map[string]any) (int, any) {
		s.mu.Lock()
		defer s.mu.Unlock()
		conv := map[string]any{"id": convID, "type": "personal"}
		if s.active != nil {
			conv["activeSwitchboardIntegration"] = s.active
		}
		return 200, map[string]any{"conversation": conv}
	})
	s.route(http.MethodPost, base+"/conversations/"+convID+"/messages", func(req map[string]any) (int, any) {
		m := s.add(req["author"].(map[string]any), req["content"].(map[string]any), req["metadata"])
		s.mu.Lock()
		s.posts = append(s.posts, req)
		s.mu.Unlock()
		return 201, map[string]any{"messages": []any{m}}
	})
	s.route(http.MethodGet, base+"/conversations/"+convID+"/messages", func(map[string]any) (int, any) {
		s.mu.Lock()
		defer s.mu.Unlock()
		msgs := s.msgs
		before := ""
		if u := s.lastURL; strings.Contains(u, "page%5Bbefore%5D=") {
			before = u[strings.Index(u, "page%5Bbefore%5D=")+len("page%5Bbefore%5D="):]
		}
		if before != "" {
			for i, m := range msgs {
				if m["id"] == before {
					msgs = msgs[:i]
					break
				}
			}
		}
		meta := map[string]any{"hasMore": false}
		if len(msgs) > 100 { // the last page of 100, as the API pages backwards
			msgs = msgs[len(msgs)-100:]
			meta = map[string]any{"hasMore": true, "beforeCursor": msgs[0]["id"]}
		}
		return 200, map[string]any{"messages": msgs, "meta": meta}
	})
	for _, action := range []string{"passControl", "activity"} {
		s.route(http.MethodPost, base+"/conversations/"+convID+"/"+action, func(map[string]any) (int, any) { return 200, map[string]any{} })
	}
	s.route(http.MethodPost, `=~^`+base+`/attachments`, func(map[string]any) (int, any) {
		return 201, map[string]any{"attachment": map[string]any{"mediaUrl": "https://acme.zendesk.com/sc/attachments/v2/01JK699PBZ645YAFJW2RF45F0B/receipt.png", "mediaType": "image/png"}}
	})
	return s
}

// route answers method url with f, after the statuses queued in s.fail.
func (s *sunco) route(method, url string, f func(req map[string]any) (int, any)) {
	key := method + " " + strings.TrimPrefix(strings.TrimPrefix(url, "=~^"), base)
	s.mt.RegisterResponder(method, url, func(r *http.Request) (*http.Response, error) {
		var req map[string]any
		if r.Body != nil {
			body, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(body, &req)
		}
		s.mu.Lock()
		s.calls = append(s.calls, method+" "+strings.TrimPrefix(r.URL.Path, "/sc/v2/apps/"+appID))
		s.lastURL = r.URL.String()
		if req != nil {
			s.bodies[key] = append(s.bodies[key], req)
		}
		if q := s.fail[key]; len(q) > 0 {
			status := q[0]
			s.fail[key] = q[1:]
			s.mu.Unlock()
			resp := httpmock.NewStringResponse(status, `{"errors":[{"code":"`+codeFor(status)+`","title":"`+titleFor(status)+`"}]}`)
			if status == http.StatusTooManyRequests {
				resp.Header.Set("Retry-After", "0")
			}
			return resp, nil
		}
		s.mu.Unlock()
		status, out := f(req)
		return httpmock.NewJsonResponse(status, out)
	})
}

func codeFor(status int) string {
	switch status {
	case 400:
		return "bad_request"
	case 401:
		return "unauthorized"
	case 404:
		return "conversation_not_found"
	case 423:
		return "locked"
	case 429:
		return "too_many_requests"
	}
	return "internal_error"
}

func titleFor(status int) string {
	switch status {
	case 400:
		return "Message refused by a trigger"
	case 423:
		return "Message limit of 30000 per conversation reached."
	case 404:
		return "Conversation not found"
	}
	return http.StatusText(status)
}

func (s *sunco) failNext(route string, statuses ...int) {
	s.mu.Lock()
	s.fail[route] = append(s.fail[route], statuses...)
	s.mu.Unlock()
}

// add appends a message to the conversation, as the API stores it.
func (s *sunco) add(author, content map[string]any, metadata any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	m := map[string]any{"id": fmt.Sprintf("5f74c7d84a146f3abd72%04x", s.seq), "received": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"author": author, "content": content, "source": map[string]any{"type": "api:conversations"}}
	if metadata != nil {
		m["metadata"] = metadata
	}
	s.msgs = append(s.msgs, m)
	return m
}

// agentSays adds an agent's message (as the Agent Workspace posts it) and
// returns the conversation:message delivery announcing it.
func (s *sunco) agentSays(name, text string) []byte {
	m := s.add(map[string]any{"type": "business", "displayName": name, "avatarUrl": "https://example.com/" + strings.ToLower(name) + ".png"},
		map[string]any{"type": "text", "text": text}, nil)
	return delivery(event("conversation:message", map[string]any{"message": m}))
}

func (s *sunco) countCalls(call string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c == call {
			n++
		}
	}
	return n
}

var eventSeq int

// event is one webhook event of type typ for the conversation.
func event(typ string, payload map[string]any) map[string]any {
	eventSeq++
	if _, ok := payload["conversation"]; !ok {
		payload["conversation"] = map[string]any{"id": convID, "type": "personal",
			"activeSwitchboardIntegration": map[string]any{"id": "5eecde2dcdbffb08f5c3ed38", "name": "zd-agentWorkspace", "integrationType": "zd:agentWorkspace"}}
	}
	return map[string]any{"id": fmt.Sprintf("5f74a0d52b5315fc007e%04x", eventSeq), "createdAt": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"type": typ, "payload": payload}
}

func delivery(events ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"app": map[string]any{"id": appID}, "webhook": map[string]any{"id": "5f4eaef81e3dcc117c7ba48a", "version": "v2"}, "events": events})
	return b
}

type world struct {
	api  *sunco
	kit  *zendesk.Kit
	hook *httptest.Server
	rec  *sdtest.Recorder
	desk servicedesk.ServiceDesk
}

func newWorld(t *testing.T, mutate func(*zendesk.Config)) *world {
	t.Helper()
	api := newSunco(t)
	cfg := zendesk.Config{Subdomain: "acme", AppID: appID, KeyID: "app_5ebee0975ac5304b664a12fb", KeySecret: "secret",
		WebhookSecrets: []string{hookKey}, HTTPClient: &http.Client{Transport: api.mt},
		Backoff: retry.Backoff{Min: time.Millisecond, Max: 20 * time.Millisecond}, SummaryField: "360001234567",
		AgentProfile: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			p.ID = "agent-" + strings.ToLower(p.Nickname)
			return p
		}}
	if mutate != nil {
		mutate(&cfg)
	}
	kit, err := zendesk.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kit.Close() })
	hook := httptest.NewServer(kit.WebhookHandler())
	t.Cleanup(hook.Close)
	w := &world{api: api, kit: kit, hook: hook, rec: &sdtest.Recorder{}}
	w.desk = w.open(t, nil)
	return w
}

func (w *world) open(t *testing.T, state json.RawMessage) servicedesk.ServiceDesk {
	d, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: w.rec, Instance: sdtest.Instance("sess-1"), PersistedState: state})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.(io.Closer).Close() })
	return d
}

// deliver posts a webhook delivery with key and returns the status.
func (w *world) deliver(t *testing.T, body []byte, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.hook.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(zendesk.APIKeyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func connectMessage() servicedesk.MessageResponse {
	return servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: "Declined card.",
		TransferInfo: &servicedesk.TransferInfo{AdditionalData: map[string]string{"queue": "billing"}}})
}

func (w *world) start(t *testing.T, h servicedesk.Handoff) {
	t.Helper()
	require.NoError(t, w.desk.StartChat(context.Background(), connectMessage(), servicedesk.StartChatOptions{Handoff: h}))
}

// joined starts a chat and has Ada say hello; it waits for her message.
func (w *world) joined(t *testing.T) {
	t.Helper()
	w.start(t, servicedesk.Handoff{})
	require.Equal(t, 200, w.deliver(t, w.api.agentSays("Ada", "Hi, Ada here."), hookKey))
	w.waitFor(t, "message(Hi, Ada here.,agent-ada)")
}

func (w *world) waitFor(t *testing.T, call string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range w.rec.Calls() {
			if c == call {
				return
			}
		}
		w.rec.Wait(len(w.rec.Calls())+1, 50*time.Millisecond)
	}
	t.Fatalf("no %s in %s", call, sdtest.Join(w.rec.Calls()))
}

// agentCalls are the calls of the agent's side, in order.
func (w *world) agentCalls() []string {
	var out []string
	for _, c := range w.rec.Calls() {
		if !strings.HasPrefix(c, "caps(") {
			out = append(out, c)
		}
	}
	return out
}

func TestStartChatDeliversTheHandoff(t *testing.T) {
	w := newWorld(t, func(c *zendesk.Config) { c.AttributeFields = map[string]string{"queue": "360007654321"} })
	long := strings.Repeat("é", 3000) // 6000 bytes: over a message's 4096
	turns := []servicedesk.Turn{{From: "user", Text: "my card was declined"}, {From: "bot", Text: "Let me check."}, {From: "user", Text: long}}
	w.start(t, servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "cust-42", Name: "Grace Hopper", Email: "grace@example.com", Locale: "en-GB"},
		Unverified: map[string]string{"plan": "gold"}, Attributes: map[string]string{"queue": "billing-eu", "note": strings.Repeat("x", 5000)},
		Summary: "Card ending 4242 declined twice.", Transcript: turns})

	users := w.api.bodies["POST /users"]
	require.Len(t, users, 1)
	assert.Equal(t, "cust-42", users[0]["externalId"], "a verified customer is the same Zendesk user on every chat")
	assert.Equal(t, map[string]any{"givenName": "Grace Hopper", "email": "grace@example.com", "locale": "en-GB"}, users[0]["profile"])

	convs := w.api.bodies["POST /conversations"]
	require.Len(t, convs, 1)
	assert.Equal(t, "personal", convs[0]["type"])
	assert.Equal(t, []any{map[string]any{"userId": userID}}, convs[0]["participants"])
	md := convs[0]["metadata"].(map[string]any)
	assert.Equal(t, "billing-eu", md["queue"], "the host's attribute wins over additional_data")
	b, _ := json.Marshal(md)
	assert.LessOrEqual(t, len(b), 4096, "conversation metadata is limited to 4 KB")
	assert.True(t, strings.HasSuffix(md["note"].(string), servicedesk.TruncatedMarker), "a long attribute is cut with the marker")

	posts := w.api.posts
	require.Len(t, posts, 4, "three turns and the summary")
	assert.Equal(t, map[string]any{"type": "user", "userId": userID}, posts[0]["author"])
	assert.Equal(t, map[string]any{"type": "business", "displayName": "Assistant"}, posts[1]["author"])
	third := posts[2]["content"].(map[string]any)["text"].(string)
	assert.LessOrEqual(t, len(third), 4096)
	assert.True(t, strings.HasSuffix(third, servicedesk.TruncatedMarker))
	summary := posts[3]["content"].(map[string]any)["text"].(string)
	assert.Contains(t, summary, "Summary: Card ending 4242 declined twice.")
	assert.Contains(t, summary, "Customer (verified): Grace Hopper, grace@example.com, cust-42")
	assert.Contains(t, summary, "(not verified): plan=gold")
	for i, p := range posts {
		assert.Equal(t, "transcript", p["metadata"].(map[string]any)["deskbridge_handoff"], "post %d is marked as the kit's", i)
	}

	pass := w.api.bodies["POST /conversations/"+convID+"/passControl"]
	require.Len(t, pass, 1)
	assert.Equal(t, "zd:agentWorkspace", pass[0]["switchboardIntegration"])
	pm := pass[0]["metadata"].(map[string]any)
	assert.Equal(t, w.api.msgs[0]["id"], pm["first_message_id"], "the agent sees the conversation from the transcript's start")
	assert.Equal(t, "Grace Hopper", pm["dataCapture.systemField.requester.name"])
	assert.Equal(t, "grace@example.com", pm["dataCapture.systemField.requester.email"])
	assert.Equal(t, "Card ending 4242 declined twice.", pm["dataCapture.ticketField.360001234567"])
	assert.Equal(t, "billing-eu", pm["dataCapture.ticketField.360007654321"])
	assert.NotContains(t, fmt.Sprint(pm), "gold", "unverified claims never reach ticket fields")

	// The kit's own posts come back by webhook: none is shown as the agent's.
	for _, m := range w.api.msgs {
		require.Equal(t, 200, w.deliver(t, delivery(event("conversation:message", map[string]any{"message": m})), hookKey))
	}
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string(nil), w.agentCalls(), "the hand-off's own messages are not the agent's")
}

func TestAnonymousCustomerAndLongTranscript(t *testing.T) {
	w := newWorld(t, nil)
	var turns []servicedesk.Turn
	for i := range 60 {
		turns = append(turns, servicedesk.Turn{From: "bot", Text: fmt.Sprintf("turn %d", i)})
	}
	w.start(t, servicedesk.Handoff{Unverified: map[string]string{"email": "who@example.com"}, Transcript: turns})
	users := w.api.bodies["POST /users"]
	require.Len(t, users, 1)
	assert.Equal(t, "deskbridge-sess-1", users[0]["externalId"], "an anonymous customer is a user of this session only")
	assert.Nil(t, users[0]["profile"], "unverified claims never become the user's profile")
	posts := w.api.posts
	require.Len(t, posts, 52, "a marker, the last 50 turns and the summary")
	assert.Equal(t, "[10 earlier messages with the assistant are not shown]", posts[0]["content"].(map[string]any)["text"])
	assert.Equal(t, "turn 10", posts[1]["content"].(map[string]any)["text"])
	pm := w.api.bodies["POST /conversations/"+convID+"/passControl"][0]["metadata"].(map[string]any)
	assert.NotContains(t, pm, "dataCapture.systemField.requester.email")
}

func TestWebhookPointedHere(t *testing.T) {
	w := newWorld(t, func(c *zendesk.Config) {
		c.WebhookURL, c.IntegrationID, c.WebhookID = "https://bridge.example.com/desk/webhook", "5f11a650e4e987667c2051d1", "5f4eaef81e3dcc117c7ba48a"
	})
	route := "PATCH /integrations/5f11a650e4e987667c2051d1/webhooks/5f4eaef81e3dcc117c7ba48a"
	w.api.route(http.MethodPatch, base+"/integrations/5f11a650e4e987667c2051d1/webhooks/5f4eaef81e3dcc117c7ba48a", func(req map[string]any) (int, any) {
		return 200, map[string]any{"webhook": map[string]any{"id": "5f4eaef81e3dcc117c7ba48a", "version": "v2", "target": req["target"], "triggers": req["triggers"], "secret": "8564b3e6a8b20a4bdb68b05ce9bc5936"}}
	})
	w.api.failNext(route, 404)
	w.start(t, servicedesk.Handoff{}) // not pointed: the chat goes on, tried again next time
	w.start(t, servicedesk.Handoff{})
	w.start(t, servicedesk.Handoff{})
	assert.Equal(t, 2, w.api.countCalls(route), "tried until it worked, then not again")
	got := w.api.bodies[route]
	require.Len(t, got, 2)
	assert.Equal(t, "https://bridge.example.com/desk/webhook", got[1]["target"])
	assert.Equal(t, []any{"conversation:message", "conversation:typing", "switchboard:passControl", "switchboard:passControl:failure", "switchboard:releaseControl", "conversation:remove"}, got[1]["triggers"])
}

func TestUserThatExistsIsFound(t *testing.T) {
	w := newWorld(t, nil)
	w.api.failNext("POST /users", http.StatusConflict)
	w.start(t, servicedesk.Handoff{Customer: &servicedesk.Customer{ID: "cust-42"}})
	assert.Equal(t, 1, w.api.countCalls("GET /users/cust-42"), "a 409 reads the user by externalId")
	assert.Equal(t, map[string]any{"userId": userID}, w.api.bodies["POST /conversations"][0]["participants"].([]any)[0])
}

func TestAuthorization(t *testing.T) {
	var got []string
	for _, useJWT := range []bool{false, true} {
		api := newSunco(t)
		api.mt.RegisterResponder(http.MethodPost, base+"/users", func(r *http.Request) (*http.Response, error) {
			got = append(got, r.Header.Get("Authorization"))
			return httpmock.NewStringResponse(401, `{"errors":[{"code":"unauthorized","title":"Authorization is required"}]}`), nil
		})
		kit, err := zendesk.New(zendesk.Config{Subdomain: "acme", AppID: appID, KeyID: "app_key", KeySecret: "s3cret", JWT: useJWT, HTTPClient: &http.Client{Transport: api.mt}})
		require.NoError(t, err)
		d, err := kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("s")})
		require.NoError(t, err)
		err = d.StartChat(context.Background(), connectMessage(), servicedesk.StartChatOptions{})
		var ze *zendesk.Error
		require.ErrorAs(t, err, &ze)
		assert.Equal(t, "unauthorized", ze.Code)
		assert.Equal(t, servicedesk.CodeRejected, servicedesk.CodeOf(err), "a refused key is not retried")
		require.NoError(t, kit.Close())
	}
	require.Len(t, got, 2, "each refused once, not retried")
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("app_key:s3cret")), got[0])
	tok, err := jwt.Parse(strings.TrimPrefix(got[1], "Bearer "), func(*jwt.Token) (any, error) { return []byte("s3cret"), nil }, jwt.WithValidMethods([]string{"HS256"}))
	require.NoError(t, err, "a JWT signed with the key")
	assert.Equal(t, "app_key", tok.Header["kid"])
	assert.Equal(t, "app", tok.Claims.(jwt.MapClaims)["scope"])
}

func TestWebhookRefusesWhatIsNotADelivery(t *testing.T) {
	w := newWorld(t, nil)
	w.start(t, servicedesk.Handoff{})
	time.Sleep(50 * time.Millisecond) // the hand-off's own read
	reads := func() int { return w.api.countCalls("GET /conversations/" + convID + "/messages") }
	before := reads()
	body := delivery(event("conversation:message", map[string]any{"message": map[string]any{"id": "5f74c7d84a146f3abd72af1d",
		"author": map[string]any{"type": "business", "displayName": "Ada"}, "content": map[string]any{"type": "text", "text": "hello"}}}))
	assert.Equal(t, http.StatusUnauthorized, w.deliver(t, body, ""), "no X-API-Key")
	assert.Equal(t, http.StatusUnauthorized, w.deliver(t, body, "whsec-wrong"), "a wrong X-API-Key")
	assert.Equal(t, http.StatusBadRequest, w.deliver(t, []byte(`{"events":[`), hookKey))
	assert.Equal(t, http.StatusBadRequest, w.deliver(t, []byte(`{"events":[{"id":7}]}`), hookKey))
	resp, err := http.Get(w.hook.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	other := bytes.Replace(body, []byte(appID), []byte("5ebee0975ac5304b664a0000"), 1)
	assert.Equal(t, http.StatusOK, w.deliver(t, other, hookKey), "another app's delivery is acknowledged and ignored")
	big := delivery(event("conversation:message", map[string]any{"message": map[string]any{"id": "x", "content": map[string]any{"text": strings.Repeat("x", 2<<20)}}}))
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.deliver(t, big, hookKey))
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, before, reads(), "nothing refused rang the bell")
	assert.Equal(t, http.StatusOK, w.deliver(t, body, hookKey))
	assert.Eventually(t, func() bool { return reads() == before+1 }, 2*time.Second, 10*time.Millisecond, "the right key rings it")
}

func TestAgentMessagesOnceInOrderWhateverTheDeliveries(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	// Three messages, announced late, twice and out of order, as Zendesk's
	// retries (5 over 15 minutes) may deliver them; one never announced.
	b1 := w.api.agentSays("Ada", "one")
	w.api.agentSays("Ada", "two")
	b3 := w.api.agentSays("Ada", "three")
	require.Equal(t, 200, w.deliver(t, b3, hookKey))
	require.Equal(t, 200, w.deliver(t, b1, hookKey))
	require.Equal(t, 200, w.deliver(t, b3, hookKey))
	w.waitFor(t, "message(three,agent-ada)")
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"joined(Ada)", "message(Hi, Ada here.,agent-ada)", "message(one,agent-ada)", "message(two,agent-ada)", "message(three,agent-ada)"}, w.agentCalls())
}

func TestWebhookOutageMidChatLosesNothing(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	// The agent goes on while the desk stops answering the kit (reads fail
	// with 5xx), and the deliveries of two messages are lost for good
	// (Zendesk gave up after its retries): the one delivery that arrives
	// brings all three, once each, in order, with DISCONNECTED around.
	time.Sleep(100 * time.Millisecond) // the join's own reads are done
	w.api.failNext("GET /conversations/"+convID+"/messages", 503, 503, 503, 502)
	first := w.api.agentSays("Ada", "during 1")
	w.api.agentSays("Ada", "during 2")
	w.api.agentSays("Ada", "during 3")
	require.Equal(t, 200, w.deliver(t, first, hookKey))
	w.waitFor(t, "error(DISCONNECTED,false,)")
	require.Equal(t, 200, w.deliver(t, w.api.agentSays("Ada", "after"), hookKey))
	w.waitFor(t, "message(after,agent-ada)")
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"joined(Ada)", "message(Hi, Ada here.,agent-ada)",
		"error(DISCONNECTED,true,)", "message(during 1,agent-ada)", "message(during 2,agent-ada)", "message(during 3,agent-ada)",
		"error(DISCONNECTED,false,)", "message(after,agent-ada)"}, w.agentCalls())
}

func TestTypingTransferAndEnd(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	typing := func(name, typ string) []byte {
		return delivery(event("conversation:typing", map[string]any{"activity": map[string]any{"type": typ,
			"author": map[string]any{"type": "business", "displayName": name}, "source": map[string]any{"type": "zd:agentWorkspace"}}}))
	}
	w.deliver(t, typing("Ada", "typing:start"), hookKey)
	w.waitFor(t, "typing(true)")
	w.deliver(t, typing("Ada", "typing:stop"), hookKey)
	w.waitFor(t, "typing(false)")
	// The user's own typing (from another channel of theirs) is not the agent's.
	w.deliver(t, delivery(event("conversation:typing", map[string]any{"activity": map[string]any{"type": "typing:start",
		"author": map[string]any{"type": "user", "userId": userID}}})), hookKey)
	// Reassigned: the next message has another author.
	w.deliver(t, w.api.agentSays("Grace", "Grace here."), hookKey)
	w.waitFor(t, "message(Grace here.,agent-grace)")
	// The agent solves the ticket: control goes back to the bot, after a
	// last message whose delivery comes after the switchboard event.
	last := w.api.agentSays("Grace", "Bye!")
	w.deliver(t, delivery(event("switchboard:passControl", map[string]any{"reason": "ticketClosed", "conversation": map[string]any{"id": convID, "type": "personal",
		"activeSwitchboardIntegration": map[string]any{"id": "5eecde2dcdbffb08f5c3ed37", "name": "bot", "integrationId": "5f11a650e4e987667c2051d1", "integrationType": "custom"}}})), hookKey)
	w.waitFor(t, "ended")
	w.deliver(t, last, hookKey)
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"joined(Ada)", "message(Hi, Ada here.,agent-ada)", "typing(true)", "typing(false)",
		"transfer(Grace)", "joined(Grace)", "message(Grace here.,agent-grace)", "message(Bye!,agent-grace)", "ended"}, w.agentCalls())
	// The chat is over: the user's messages are refused, EndChat tells
	// Zendesk nothing more.
	err := w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("hello?"), "m-late", servicedesk.AdditionalDataToAgent{})
	assert.ErrorIs(t, err, servicedesk.ErrNoChat)
	require.NoError(t, w.desk.EndChat(context.Background(), servicedesk.EndChatInfo{EndedByHumanAgent: true}))
	assert.Len(t, w.api.bodies["POST /conversations/"+convID+"/passControl"], 1, "only the hand-off")
}

func TestPassControlFailureBeforeAnAgent(t *testing.T) {
	w := newWorld(t, nil)
	w.start(t, servicedesk.Handoff{})
	w.deliver(t, delivery(event("switchboard:passControl:failure", map[string]any{"error": map[string]any{"code": "switchboard_invalid_target", "message": "Switchboard invalid target"}})), hookKey)
	w.waitFor(t, "error(CONNECTING,false,Switchboard invalid target)")
}

func TestCustomerEndsTheChat(t *testing.T) {
	w := newWorld(t, func(c *zendesk.Config) { c.Integration = "deskbridge" })
	w.joined(t)
	require.NoError(t, w.desk.EndChat(context.Background(), servicedesk.EndChatInfo{}))
	last := w.api.posts[len(w.api.posts)-1]
	assert.Equal(t, "The customer left the chat.", last["content"].(map[string]any)["text"])
	assert.Equal(t, map[string]any{"type": "user", "userId": userID}, last["author"])
	pass := w.api.bodies["POST /conversations/"+convID+"/passControl"]
	require.Len(t, pass, 2)
	assert.Equal(t, "deskbridge", pass[1]["switchboardIntegration"], "control back to the kit's own integration")
	// Zendesk's passControl event for it ends nothing twice.
	w.deliver(t, delivery(event("switchboard:passControl", map[string]any{"conversation": map[string]any{"id": convID,
		"activeSwitchboardIntegration": map[string]any{"id": "5eecde2dcdbffb08f5c3ed37", "name": "deskbridge"}}})), hookKey)
	time.Sleep(100 * time.Millisecond)
	assert.NotContains(t, w.agentCalls(), "ended")
}

func TestSendMessageErrorsAndRetries(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	ctx := context.Background()
	send := func(id, text string) error {
		return w.desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest(text), id, servicedesk.AdditionalDataToAgent{})
	}
	route := "POST /conversations/" + convID + "/messages"
	posts := func() int { return w.api.countCalls(route) }

	n := posts()
	w.api.failNext(route, 429, 429)
	require.NoError(t, send("m-1", "rate limited twice"))
	assert.Equal(t, n+3, posts(), "a 429 was not processed: sent again")

	// A 5xx leaves the outcome unknown: the kit looks for the message by
	// its id before sending it again.
	w.api.failNext(route, 502)
	n = posts()
	require.NoError(t, send("m-2", "after a 502"))
	assert.Equal(t, n+2, posts())

	// Posted, but the answer was lost: found by its id, not sent twice.
	w.api.mt.RegisterResponder(http.MethodPost, base+"/conversations/"+convID+"/messages", func(r *http.Request) (*http.Response, error) {
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.api.add(req["author"].(map[string]any), req["content"].(map[string]any), req["metadata"])
		return httpmock.NewStringResponse(500, `{"errors":[{"code":"internal_error","title":"oops"}]}`), nil
	})
	require.NoError(t, send("m-3", "stored, answer lost"))
	stored := 0
	for _, m := range w.api.msgs {
		if md, _ := m["metadata"].(map[string]any); md["deskbridge_message_id"] == "m-3" {
			stored++
		}
	}
	assert.Equal(t, 1, stored, "the message is in the conversation once")

	w2 := newWorld(t, nil)
	w2.joined(t)
	w2.api.failNext(route, 400)
	err := w2.desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest("refused"), "m-4", servicedesk.AdditionalDataToAgent{})
	assert.Equal(t, servicedesk.CodeRejected, servicedesk.CodeOf(err))
	w2.api.failNext(route, 423)
	err = w2.desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest("locked"), "m-5", servicedesk.AdditionalDataToAgent{})
	var ze *zendesk.Error
	require.ErrorAs(t, err, &ze)
	assert.Equal(t, "locked", ze.Code, "the 30,000 messages limit")
	found := false
	for _, p := range w.api.posts {
		found = found || fmt.Sprint(p["metadata"]) == "map[deskbridge_message_id:m-1]"
	}
	assert.True(t, found, "the engine's message id is the message's metadata")
}

func TestFileAndReadReceipt(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	ctx := context.Background()
	png := []byte("\x89PNG\r\n\x1a\n")
	fu := servicedesk.FileUpload{ID: "f-1", File: servicedesk.File{Name: "receipt.png", Type: "image/png", Size: int64(len(png)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(png)), nil }}}
	var gotPart []byte
	var gotQuery string
	w.api.mt.RegisterResponder(http.MethodPost, `=~^`+base+`/attachments`, func(r *http.Request) (*http.Response, error) {
		gotQuery = r.URL.RawQuery
		mr, err := r.MultipartReader()
		require.NoError(t, err)
		p, err := mr.NextPart()
		require.NoError(t, err)
		assert.Equal(t, "source", p.FormName())
		assert.Equal(t, "receipt.png", p.FileName())
		gotPart, _ = io.ReadAll(p)
		return httpmock.NewJsonResponse(201, map[string]any{"attachment": map[string]any{"mediaUrl": "https://acme.zendesk.com/sc/attachments/v2/01JK/receipt.png", "mediaType": "image/png"}})
	})
	require.NoError(t, w.desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest("the receipt"), "m-f", servicedesk.AdditionalDataToAgent{FilesToUpload: []servicedesk.FileUpload{fu}}))
	assert.Equal(t, png, gotPart)
	assert.Contains(t, gotQuery, "access=public")
	assert.Contains(t, gotQuery, "conversationId="+convID)
	last := w.api.posts[len(w.api.posts)-1]
	assert.Equal(t, map[string]any{"type": "image", "mediaUrl": "https://acme.zendesk.com/sc/attachments/v2/01JK/receipt.png", "altText": "receipt.png", "text": "the receipt"}, last["content"])
	w.waitFor(t, "file(f-1,false,)")

	// Refused by Zendesk's file validation: the reason is shown.
	w.api.mt.RegisterResponder(http.MethodPost, `=~^`+base+`/attachments`, httpmock.NewStringResponder(400, `{"errors":[{"code":"bad_request","title":"File type not supported"}]}`))
	fu.ID = "f-2"
	require.NoError(t, w.desk.SendMessageToAgent(ctx, servicedesk.MessageRequest{}, "m-g", servicedesk.AdditionalDataToAgent{FilesToUpload: []servicedesk.FileUpload{fu}}))
	w.waitFor(t, "file(f-2,true,File type not supported)")

	require.NoError(t, w.desk.(servicedesk.ReadNotifier).UserReadMessages(ctx))
	act := w.api.bodies["POST /conversations/"+convID+"/activity"]
	require.Len(t, act, 1)
	assert.Equal(t, map[string]any{"author": map[string]any{"type": "user", "userId": userID}, "type": "conversation:read"}, act[0])
}

func TestReconnectAndExpiry(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	state, _ := json.Marshal(w.rec.State())
	require.NoError(t, w.desk.(io.Closer).Close())
	// Missed while no instance followed the conversation.
	w.api.agentSays("Ada", "while you were away")

	rec := &sdtest.Recorder{}
	w.rec = rec
	d := w.open(t, state)
	ok, err := d.(servicedesk.Reconnector).Reconnect(context.Background())
	require.NoError(t, err)
	require.True(t, ok, "still with the agent workspace")
	w.waitFor(t, "message(while you were away,agent-ada)")
	assert.NotContains(t, rec.Calls(), "joined(Ada)", "the agent joined before the restart")
	var conv zendesk.Conversation
	require.True(t, servicedesk.As(d, &conv))
	assert.Equal(t, zendesk.Conversation{AppID: appID, UserID: userID, ConversationID: convID}, conv)

	// Expired: the agent finished meanwhile (no active integration), or the
	// conversation was deleted.
	w.api.mu.Lock()
	w.api.active = nil
	w.api.mu.Unlock()
	ok, err = w.open(t, state).(servicedesk.Reconnector).Reconnect(context.Background())
	require.NoError(t, err)
	assert.False(t, ok, "control left the agent workspace: the chat is over")
	w.api.failNext("GET /conversations/"+convID, 404)
	ok, err = w.open(t, state).(servicedesk.Reconnector).Reconnect(context.Background())
	require.NoError(t, err)
	assert.False(t, ok, "a deleted conversation")

	_, err = w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("s"), PersistedState: json.RawMessage(`{"conversation_id":`)})
	assert.ErrorContains(t, err, "persisted state")
}

func TestConversationGoneMidChat(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	w.api.failNext("GET /conversations/"+convID+"/messages", 404)
	w.deliver(t, w.api.agentSays("Ada", "lost"), hookKey)
	w.waitFor(t, "ended")
}

func TestSeveralInstancesShareTheWebhook(t *testing.T) {
	a := newWorld(t, nil)
	var relayed [][]byte
	var mu sync.Mutex
	b, err := zendesk.New(zendesk.Config{Subdomain: "acme", AppID: appID, KeyID: "k", KeySecret: "s", WebhookSecrets: []string{"old", hookKey},
		HTTPClient: &http.Client{Transport: a.api.mt},
		Elsewhere: func(ev []byte) error {
			mu.Lock()
			defer mu.Unlock()
			relayed = append(relayed, ev)
			return nil
		}})
	require.NoError(t, err)
	defer b.Close()
	bHook := httptest.NewServer(b.WebhookHandler())
	defer bHook.Close()
	a.joined(t)
	// The delivery reaches instance b, which follows nothing: it passes
	// the event on, and a delivers it.
	body := a.api.agentSays("Ada", "via b")
	resp, err := http.Post(bHook.URL, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodPost, bHook.URL, bytes.NewReader(body))
	req.Header.Set(zendesk.APIKeyHeader, hookKey) // the second of two secrets, while rotating
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	mu.Lock()
	require.Len(t, relayed, 1, "only the verified delivery is passed on")
	ev := relayed[0]
	mu.Unlock()
	assert.True(t, a.kit.Deliver(ev))
	a.waitFor(t, "message(via b,agent-ada)")
	assert.False(t, b.Deliver(ev), "b follows no conversation")
}

// A text past Zendesk's 4,096 bytes is sent whole, as several messages,
// each with its own message id.
func TestLongMessageSentInParts(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	n := len(w.api.posts)
	text := strings.Repeat("word ", 1700) // 8,500 bytes
	require.NoError(t, w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest(text), "m-long", servicedesk.AdditionalDataToAgent{}))
	posts := w.api.posts[n:]
	require.Len(t, posts, 3)
	var got strings.Builder
	for i, p := range posts {
		c := p["content"].(map[string]any)
		assert.LessOrEqual(t, len(c["text"].(string)), 4096)
		assert.Equal(t, map[string]any{"deskbridge_message_id": vendorkit.PartID("m-long", i)}, p["metadata"])
		got.WriteString(c["text"].(string))
	}
	assert.Equal(t, text, got.String(), "nothing cut")
}
