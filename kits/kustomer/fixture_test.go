package kustomer_test

// Fixture tests: the requests the kit sends and the answers and webhook
// deliveries it reads, in the shapes of developer.kustomer.com: the API
// reference's "Create customer", "Get customer by external ID", "Create a
// chat session via handoff", "Create an inbound chat message", "List
// messages for a chat session", "Get conversation", "Update
// conversation", "Get user" and "Create attachment" (JSON:API documents,
// the errors object), the attachments guide's presigned form, and the
// event catalog's envelopes signed as docs/events/delivery-and-retries
// says. REST is jarcoal/httpmock; the deliveries go to the kit's handler
// on a loopback server.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/kustomer"
)

const (
	api       = "https://acme.api.kustomerapp.com"
	orgID     = "5f8481c6a22ab5b9d5f2dd8a"
	custID    = "6717c29de5b1f00012ab34b9"
	convID    = "6717c2b1e5b1f00012ab3520"
	userAda   = "5f8481c6a22ab5b9d5f2dd91"
	userGrace = "5f8481c6a22ab5b9d5f2dd92"
	hookToken = "whk-fixture-token"
)

// kustomerAPI plays Kustomer's REST side for one customer and one chat
// session.
type kustomerAPI struct {
	mt *httpmock.MockTransport // the kit's HTTP transport
	t  *testing.T
	mu sync.Mutex // guards what follows

	calls    []string                    // "METHOD path" of every call
	bodies   map[string][]map[string]any // JSON bodies by "METHOD path"
	auth     []string                    // the Authorization of every call
	queued   map[string][]int            // statuses answered first, by "METHOD path"
	msgs     []map[string]any            // the session's chat_message resources
	status   string
	assigned []string
	updated  time.Time
	clock    time.Time
	forms    []*multipart.Form
}

func newAPI(t *testing.T) *kustomerAPI {
	a := &kustomerAPI{t: t, mt: httpmock.NewMockTransport(), bodies: map[string][]map[string]any{}, queued: map[string][]int{},
		status: "open", clock: time.Date(2026, 10, 21, 15, 0, 0, 0, time.UTC)}
	a.updated = a.clock
	a.on(http.MethodPost, "/v1/customers", func(*http.Request, map[string]any) (int, any) {
		return 201, doc("customer", custID, map[string]any{"name": "Jane Doe", "externalId": "cust-42", "emails": []any{}})
	})
	a.on(http.MethodGet, "/v1/customers/externalId=cust-42", func(*http.Request, map[string]any) (int, any) {
		return 200, doc("customer", custID, map[string]any{"name": "Jane Doe", "externalId": "cust-42"})
	})
	a.on(http.MethodPost, "/v2.1/chat/handoff", func(_ *http.Request, b map[string]any) (int, any) {
		for _, m := range b["messages"].([]any) {
			mm := m.(map[string]any)
			by := ""
			if mm["direction"] == "out" {
				by = b["from"].(string)
			}
			a.add(mm["direction"].(string), mm["body"].(string), by, nil)
		}
		return 201, doc("chat_session", convID, map[string]any{"active": true, "conversationId": convID, "createdAt": stamp(a.clock)})
	})
	a.on(http.MethodPost, "/v2.1/chat/messages", func(_ *http.Request, b map[string]any) (int, any) {
		m := a.add("in", fmt.Sprint(b["body"]), "", b["attachments"])
		if ext, ok := b["externalId"].(string); ok {
			m["attributes"].(map[string]any)["externalId"] = ext
		}
		return 201, map[string]any{"data": m}
	})
	a.on(http.MethodGet, "/v2.1/chat/sessions/"+convID+"/messages", func(r *http.Request, _ map[string]any) (int, any) {
		q := r.URL.Query()
		size, _ := strconv.Atoi(q.Get("pageSize"))
		page, _ := strconv.Atoi(q.Get("page"))
		msgs := slices.Clone(a.msgs)
		if q.Get("sort") == "-createdAt" {
			slices.Reverse(msgs)
		}
		from, to := min((page-1)*size, len(msgs)), min(page*size, len(msgs))
		links := map[string]any{"self": r.URL.RequestURI(), "next": nil}
		if to < len(msgs) {
			links["next"] = "/v2.1/chat/sessions/" + convID + "/messages?page=" + strconv.Itoa(page+1)
		}
		return 200, map[string]any{"data": msgs[from:to], "links": links, "meta": map[string]any{"page": page, "pageSize": size}}
	})
	conv := func() any {
		return doc("conversation", convID, map[string]any{"status": a.status, "assignedUsers": slices.Clone(a.assigned), "channels": []string{"chat"},
			"updatedAt": stamp(a.updated)})
	}
	a.on(http.MethodGet, "/v1/conversations/"+convID, func(*http.Request, map[string]any) (int, any) { return 200, conv() })
	a.on(http.MethodPatch, "/v1/conversations/"+convID, func(_ *http.Request, b map[string]any) (int, any) {
		if s, ok := b["status"].(string); ok {
			a.status = s
		}
		return 200, conv()
	})
	for id, name := range map[string]string{userAda: "Ada", userGrace: "Grace"} {
		a.on(http.MethodGet, "/v1/users/"+id, func(*http.Request, map[string]any) (int, any) {
			return 200, doc("user", id, map[string]any{"name": name + " Lovelace", "displayName": name, "avatarUrl": "https://cdn.example.com/" + name + ".png", "userType": "user"})
		})
	}
	a.on(http.MethodPost, "/v1/attachments", func(_ *http.Request, b map[string]any) (int, any) {
		d := doc("attachment", "6717c2f0e5b1f00012ab3600", b)
		d["meta"] = map[string]any{"upload": map[string]any{"url": "https://kustomer-uploads.s3.amazonaws.com/",
			"fields": map[string]string{"key": "attachments/6717c2f0e5b1f00012ab3600", "Content-Type": fmt.Sprint(b["contentType"]), "policy": "eyJleHBpcmF0aW9uIjoi", "x-amz-signature": "4a9c…"}}}
		return 201, d
	})
	a.mt.RegisterResponder(http.MethodPost, "https://kustomer-uploads.s3.amazonaws.com/", func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Authorization") != "" {
			t.Error("the API key went to the upload URL")
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return httpmock.NewStringResponse(400, err.Error()), nil
		}
		a.mu.Lock()
		a.calls = append(a.calls, "POST upload")
		a.forms = append(a.forms, r.MultipartForm)
		a.mu.Unlock()
		return httpmock.NewStringResponse(204, ""), nil
	})
	return a
}

func doc(typ, id string, attrs map[string]any) map[string]any {
	return map[string]any{"data": map[string]any{"type": typ, "id": id, "attributes": attrs}}
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// on answers method path with fn, after the statuses queued for it (with
// a Retry-After of 1 s on a 429), recording each call.
func (a *kustomerAPI) on(method, path string, fn func(*http.Request, map[string]any) (int, any)) {
	route := method + " " + path
	a.mt.RegisterResponder(method, `=~^`+strings.ReplaceAll(api+path, "?", `\?`)+`(\?.*)?$`, func(r *http.Request) (*http.Response, error) {
		var body map[string]any
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &body)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.calls = append(a.calls, route)
		a.auth = append(a.auth, r.Header.Get("Authorization"))
		if body != nil {
			a.bodies[route] = append(a.bodies[route], body)
		}
		if q := a.queued[route]; len(q) > 0 {
			a.queued[route] = q[1:]
			resp := httpmock.NewStringResponse(q[0], `{"errors":[{"status":`+strconv.Itoa(q[0])+`,"code":"fixture","title":"Fixture error","detail":"queued by the test"}]}`)
			if q[0] == http.StatusTooManyRequests {
				resp.Header.Set("Retry-After", "1")
			}
			return resp, nil
		}
		status, out := fn(r, body)
		return httpmock.NewJsonResponse(status, out)
	})
}

// fail answers the next calls of route with statuses, in order.
func (a *kustomerAPI) fail(route string, statuses ...int) {
	a.mu.Lock()
	a.queued[route] = append(a.queued[route], statuses...)
	a.mu.Unlock()
}

func (a *kustomerAPI) count(route string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.calls {
		if c == route {
			n++
		}
	}
	return n
}

func (a *kustomerAPI) body(route string, i int) map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	require.Greater(a.t, len(a.bodies[route]), i, "bodies of %s", route)
	return a.bodies[route][i]
}

// add appends a chat_message to the session; a.mu is held by the caller
// when called from a responder.
func (a *kustomerAPI) add(dir, body, by string, files any) map[string]any {
	a.clock = a.clock.Add(time.Second)
	rel := map[string]any{"session": map[string]any{"data": map[string]string{"type": "chat_session", "id": convID}},
		"conversation": map[string]any{"data": map[string]string{"type": "conversation", "id": convID}}}
	if by != "" {
		rel["createdBy"] = map[string]any{"data": map[string]string{"type": "user", "id": by}}
	}
	attrs := map[string]any{"body": body, "direction": dir, "channel": "chat", "createdAt": stamp(a.clock)}
	if files != nil {
		attrs["attachments"] = files
	}
	m := map[string]any{"type": "chat_message", "id": fmt.Sprintf("6717c3%018d", len(a.msgs)+1), "attributes": attrs, "relationships": rel}
	a.msgs = append(a.msgs, m)
	return m
}

// agentSays adds an agent's message and returns its kustomer.message.create
// event.
func (a *kustomerAPI) agentSays(user, body string) []byte {
	a.mu.Lock()
	m := a.add("out", body, user, nil)
	a.mu.Unlock()
	return envelope("kustomer.message.create", m, nil)
}

// change changes the conversation and returns its kustomer.conversation.update
// event.
func (a *kustomerAPI) change(f func()) []byte {
	a.mu.Lock()
	f()
	a.clock = a.clock.Add(time.Second)
	a.updated = a.clock
	data := doc("conversation", convID, map[string]any{"status": a.status, "assignedUsers": slices.Clone(a.assigned), "updatedAt": stamp(a.updated)})["data"]
	a.mu.Unlock()
	return envelope("kustomer.conversation.update", data.(map[string]any), map[string]any{"attributes": map[string]any{}})
}

var eventSeq int

// envelope is an event envelope (docs/events/event-catalog).
func envelope(name string, data, changes map[string]any) []byte {
	eventSeq++
	b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("6717c2a4e5b1f0%010d", eventSeq), "name": name, "org": orgID, "partition": orgID,
		"data": data, "changes": changes, "createdAt": "2026-10-21T15:00:02.130Z"})
	return b
}

// world is a kit on the fake API, its webhook on a loopback server, and
// one desk with a recording callback.
type world struct {
	api  *kustomerAPI
	kit  *kustomer.Kit
	hook *httptest.Server
	rec  *sdtest.Recorder
	desk servicedesk.ServiceDesk
}

func newWorld(t *testing.T, adjust func(*kustomer.Config)) *world {
	a := newAPI(t)
	cfg := kustomer.Config{Org: "acme", APIKey: "key-fixture", From: botUser, WebhookTokens: []string{"whk-old", hookToken},
		HTTPClient: &http.Client{Transport: a.mt}, Backoff: retry.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond, MaxRetryAfter: 2 * time.Second}, ReconcileInterval: -1}
	if adjust != nil {
		adjust(&cfg)
	}
	kit, err := kustomer.New(cfg)
	require.NoError(t, err)
	w := &world{api: a, kit: kit, hook: httptest.NewServer(kit.WebhookHandler()), rec: &sdtest.Recorder{}}
	t.Cleanup(func() { w.hook.Close(); _ = kit.Close() })
	w.desk, err = kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: w.rec, Instance: sdtest.Instance("sess-1")})
	require.NoError(t, err)
	return w
}

func (w *world) start(t *testing.T, h servicedesk.Handoff) {
	t.Helper()
	require.NoError(t, w.desk.StartChat(context.Background(), servicedesk.TextResponse("Connecting you."), servicedesk.StartChatOptions{Handoff: h}))
}

// joined starts the chat and has Ada join and greet.
func (w *world) joined(t *testing.T) {
	t.Helper()
	w.start(t, servicedesk.Handoff{})
	w.deliver(t, w.api.change(func() { w.api.assigned = []string{userAda} }))
	w.deliver(t, w.api.agentSays(userAda, "Hi, Ada here."))
	w.waitFor(t, "message(Hi, Ada here.,"+userAda+")")
}

// post posts body signed with token to the kit's webhook and returns the
// status.
func (w *world) post(t *testing.T, body []byte, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.hook.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(kustomer.EventHeader, "kustomer.message.create")
	req.Header.Set(kustomer.SignatureHeader, webhook.BodyHMAC([]byte(token), body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (w *world) deliver(t *testing.T, body []byte) {
	t.Helper()
	require.Equal(t, http.StatusOK, w.post(t, body, hookToken))
}

func (w *world) waitFor(t *testing.T, call string) { t.Helper(); waitCall(t, w.rec, call) }

// agentCalls are the recorded calls but the capabilities.
func (w *world) agentCalls() []string {
	return slices.DeleteFunc(w.rec.Calls(), func(c string) bool { return strings.HasPrefix(c, "caps(") })
}

func TestHandoffRequests(t *testing.T) {
	w := newWorld(t, nil)
	at := time.Date(2026, 10, 21, 14, 58, 0, 0, time.UTC)
	w.start(t, servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "cust-42", Name: "Jane Doe", Email: "jane@example.com", Locale: "en-US", Claims: map[string]string{"plan": "gold"}},
		Unverified: map[string]string{"order": "A-1001"}, Attributes: map[string]string{"queue": "billing"}, Summary: "Card declined twice.",
		Transcript: []servicedesk.Turn{{From: servicedesk.TurnUser, Text: "My card was declined", At: at}, {From: servicedesk.TurnBot, Text: "Let me get an agent.", At: at.Add(time.Second)}},
	})
	assert.Equal(t, map[string]any{"externalId": "cust-42", "name": "Jane Doe", "locale": "en-US",
		"emails": []any{map[string]any{"type": "other", "email": "jane@example.com"}}}, w.api.body("POST /v1/customers", 0))
	h := w.api.body("POST /v2.1/chat/handoff", 0)
	assert.Equal(t, custID, h["customerId"])
	assert.Equal(t, botUser, h["from"])
	assert.Equal(t, "deskbridge-sess-1", h["externalId"])
	assert.Equal(t, true, h["active"])
	msgs := h["messages"].([]any)
	require.Len(t, msgs, 3)
	first, bot, note := msgs[0].(map[string]any), msgs[1].(map[string]any), msgs[2].(map[string]any)
	assert.Equal(t, []any{"in", "My card was declined", "2026-10-21T14:58:00Z"}, []any{first["direction"], first["body"], first["date"]})
	assert.Equal(t, []any{"out", "Let me get an agent.", "2026-10-21T14:58:01Z"}, []any{bot["direction"], bot["body"], bot["date"]})
	assert.Equal(t, "out", note["direction"])
	assert.Greater(t, note["date"], bot["date"], "the note comes last")
	assert.Equal(t, "Handed over to an agent.\nSummary: Card declined twice.\nCustomer (verified): Jane Doe, jane@example.com, cust-42\n"+
		"Verified claims: plan=gold\nSaid by the customer's browser (not verified): order=A-1001\nAttributes: queue=billing", note["body"])
	w.api.mu.Lock()
	auth := slices.Clone(w.api.auth)
	w.api.mu.Unlock()
	for _, a := range auth {
		assert.Equal(t, "Bearer key-fixture", a)
	}
	st := w.rec.State()
	assert.Equal(t, []any{custID, convID}, []any{st["customer_id"], st["conversation_id"]}, "the session persisted: %v", st)

	// A transcript without the customer's words still has an in message:
	// Kustomer refuses an import without one.
	w2 := newWorld(t, nil)
	w2.start(t, servicedesk.Handoff{})
	msgs = w2.api.body("POST /v2.1/chat/handoff", 0)["messages"].([]any)
	require.Len(t, msgs, 2)
	assert.Equal(t, "in", msgs[0].(map[string]any)["direction"])
	assert.Equal(t, "(The customer asked to talk to an agent.)", msgs[0].(map[string]any)["body"])
	assert.Equal(t, "out", msgs[1].(map[string]any)["direction"])
	assert.Equal(t, "deskbridge-sess-1", w2.api.body("POST /v1/customers", 0)["externalId"], "an anonymous customer, one per session")
}

func TestKnownCustomerAndTranscriptBounds(t *testing.T) {
	w := newWorld(t, nil)
	w.api.fail("POST /v1/customers", http.StatusConflict)
	turns := make([]servicedesk.Turn, 150)
	for i := range turns {
		turns[i] = servicedesk.Turn{From: []string{servicedesk.TurnUser, servicedesk.TurnBot}[i%2], Text: fmt.Sprintf("turn %d %s", i, strings.Repeat("x", 5000*(i/149)))}
	}
	w.start(t, servicedesk.Handoff{Customer: &servicedesk.Customer{ID: "cust-42"}, Transcript: turns})
	assert.Equal(t, 1, w.api.count("GET /v1/customers/externalId=cust-42"), "the 409 finds the customer by its externalId")
	msgs := w.api.body("POST /v2.1/chat/handoff", 0)["messages"].([]any)
	require.Len(t, msgs, 99, "the newest 97 turns, the omitted count and the note")
	assert.Equal(t, "[53 earlier messages with the assistant are not shown]", msgs[0].(map[string]any)["body"])
	assert.Equal(t, "turn 53", msgs[1].(map[string]any)["body"])
	last := msgs[97].(map[string]any)["body"].(string)
	assert.LessOrEqual(t, len(last), 4000)
	assert.True(t, strings.HasSuffix(last, servicedesk.TruncatedMarker))
	var dates []string
	for _, m := range msgs {
		dates = append(dates, m.(map[string]any)["date"].(string))
	}
	assert.True(t, slices.IsSorted(dates), "dates keep the order: %v", dates)
}

func TestStartChatErrors(t *testing.T) {
	// A refused handoff is the start's error, with Kustomer's detail.
	w := newWorld(t, nil)
	w.api.fail("POST /v2.1/chat/handoff", http.StatusUnprocessableEntity)
	err := w.desk.StartChat(context.Background(), servicedesk.TextResponse("hi"), servicedesk.StartChatOptions{})
	require.Error(t, err)
	assert.Equal(t, servicedesk.CodeRejected, servicedesk.CodeOf(err))
	assert.Contains(t, err.Error(), "queued by the test")
	// A 429 was not taken: tried again after its Retry-After.
	w = newWorld(t, nil)
	w.api.fail("POST /v2.1/chat/handoff", http.StatusTooManyRequests)
	began := time.Now()
	w.start(t, servicedesk.Handoff{})
	assert.GreaterOrEqual(t, time.Since(began), 900*time.Millisecond, "Retry-After honoured")
	assert.Equal(t, 2, w.api.count("POST /v2.1/chat/handoff"))
	// A 5xx may have opened the session: not sent again.
	w = newWorld(t, nil)
	w.api.fail("POST /v2.1/chat/handoff", http.StatusBadGateway)
	err = w.desk.StartChat(context.Background(), servicedesk.TextResponse("hi"), servicedesk.StartChatOptions{})
	require.Error(t, err)
	assert.Equal(t, 1, w.api.count("POST /v2.1/chat/handoff"))
	// A refused (or expired) API key is not tried again: an API key has
	// no refresh.
	w = newWorld(t, nil)
	w.api.fail("POST /v1/customers", http.StatusUnauthorized)
	err = w.desk.StartChat(context.Background(), servicedesk.TextResponse("hi"), servicedesk.StartChatOptions{})
	require.Error(t, err)
	assert.Equal(t, 1, w.api.count("POST /v1/customers"))
	assert.Zero(t, w.api.count("POST /v2.1/chat/handoff"))
}

// Config.AgentProfile completes the profile Kustomer's user gives, once
// per agent.
func TestAgentProfileCompleted(t *testing.T) {
	asked := 0
	w := newWorld(t, func(c *kustomer.Config) {
		c.AgentProfile = func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			asked++
			p.Nickname += " (Billing)"
			return p
		}
	})
	w.start(t, servicedesk.Handoff{})
	w.deliver(t, w.api.change(func() { w.api.assigned = []string{userAda} }))
	w.deliver(t, w.api.agentSays(userAda, "Hi, Ada here."))
	w.deliver(t, w.api.agentSays(userAda, "How can I help?"))
	w.waitFor(t, "message(How can I help?,"+userAda+")")
	assert.Contains(t, w.agentCalls(), "joined(Ada (Billing))")
	assert.Equal(t, 1, asked, "completed once for the agent")
}

func TestAgentSideInOrderOnce(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	// Two messages whose deliveries come reordered and twice: each shown
	// once, in the session's order.
	one := w.api.agentSays(userAda, "Your card is fine.\n\n![Your receipt](https://cdn.example.com/r.png)\n\n[Open the form](https://example.com/form)")
	two := w.api.agentSays(userAda, "Anything else?")
	w.deliver(t, two)
	w.deliver(t, one)
	w.deliver(t, two)
	w.waitFor(t, "message(Anything else?,"+userAda+")")
	// Grace takes over; then nobody is assigned; then Grace comes back and
	// the conversation is closed after her last message, whose delivery
	// comes after the close.
	w.deliver(t, w.api.change(func() { w.api.assigned = []string{userGrace} }))
	w.waitFor(t, "joined(Grace)")
	w.deliver(t, w.api.change(func() { w.api.assigned = nil }))
	w.waitFor(t, "left")
	w.deliver(t, w.api.change(func() { w.api.assigned = []string{userGrace} }))
	last := w.api.agentSays(userGrace, "Bye!")
	w.deliver(t, w.api.change(func() { w.api.status = "done" }))
	w.waitFor(t, "ended")
	w.deliver(t, last)
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"joined(Ada)", "message(Hi, Ada here.," + userAda + ")",
		"message(Your card is fine.," + userAda + ")", "message(Anything else?," + userAda + ")",
		"transfer(Grace)", "joined(Grace)", "left", "joined(Grace)", "message(Bye!," + userGrace + ")", "ended"}, w.agentCalls())
	assert.Equal(t, 1, w.api.count("GET /v1/users/"+userGrace), "a profile read once")
	// The chat is over: no more messages; EndChat tells Kustomer nothing.
	err := w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("hello?"), "m-late", servicedesk.AdditionalDataToAgent{})
	assert.ErrorIs(t, err, servicedesk.ErrNoChat)
	require.NoError(t, w.desk.EndChat(context.Background(), servicedesk.EndChatInfo{EndedByHumanAgent: true}))
	assert.Zero(t, w.api.count("PATCH /v1/conversations/"+convID))
}

func TestRichAgentMessage(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	w.deliver(t, w.api.agentSays(userAda, "See **this**.\n\n![Your receipt](https://cdn.example.com/r.png)\n\n[Open the form](https://example.com/form)"))
	w.waitFor(t, "message(See **this**.,"+userAda+")")
	// The items, by what the customer's chat shows.
	var got []servicedesk.GenericItem
	rec := &itemRecorder{Recorder: &sdtest.Recorder{}}
	w2 := newWorld(t, nil)
	d, err := w2.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("sess-2")})
	require.NoError(t, err)
	require.NoError(t, d.StartChat(context.Background(), servicedesk.TextResponse("hi"), servicedesk.StartChatOptions{}))
	w2.deliver(t, w2.api.agentSays(userAda, "See **this**.\n\n![Your receipt](https://cdn.example.com/r.png)\n\n[Open the form](https://example.com/form)"))
	waitCall(t, rec.Recorder, "joined(Ada)")
	rec.Wait(3, 2*time.Second)
	got = rec.items()
	require.Len(t, got, 3)
	assert.Equal(t, servicedesk.TextItem("See **this**."), got[0])
	assert.Equal(t, servicedesk.ImageItem("https://cdn.example.com/r.png", "Your receipt"), got[1])
	assert.Equal(t, servicedesk.LinkButtonItem("Open the form", "https://example.com/form"), got[2])
}

type itemRecorder struct {
	*sdtest.Recorder
	mu  sync.Mutex
	got []servicedesk.GenericItem
}

func (r *itemRecorder) SendMessageToUser(m servicedesk.MessageResponse, agentID string) {
	r.mu.Lock()
	r.got = append(r.got, m.Output.Generic...)
	r.mu.Unlock()
	r.Recorder.SendMessageToUser(m, agentID)
}

func (r *itemRecorder) items() []servicedesk.GenericItem {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func TestWebhookRefusals(t *testing.T) {
	w := newWorld(t, func(c *kustomer.Config) { c.MaxWebhookBytes = 2048 })
	w.start(t, servicedesk.Handoff{})
	ev := w.api.agentSays(userAda, "hello")
	assert.Equal(t, http.StatusUnauthorized, w.post(t, ev, "another-token"), "a wrong token")
	assert.Equal(t, http.StatusOK, w.post(t, ev, "whk-old"), "the token being rotated out still signs")
	assert.Equal(t, http.StatusBadRequest, w.post(t, []byte(`{"name":"kustomer.message.create"`), hookToken), "not JSON")
	assert.Equal(t, http.StatusBadRequest, w.post(t, []byte(`{"data":{}}`), hookToken), "not an envelope")
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.post(t, bytes.Repeat([]byte(" "), 4096), hookToken))
	other := envelope("kustomer.customer.update", map[string]any{"type": "customer", "id": custID, "attributes": map[string]any{}}, nil)
	assert.Equal(t, http.StatusOK, w.post(t, other, hookToken), "an event of no conversation is acknowledged")
	resp, err := http.Get(w.hook.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	unsigned, _ := http.Post(w.hook.URL, "application/json", bytes.NewReader(ev))
	unsigned.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, unsigned.StatusCode, "no signature")
	w.waitFor(t, "message(hello,"+userAda+")")
}

func TestSendMessageRetriesAndErrors(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	send := func(id, text string) error {
		return w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest(text), id, servicedesk.AdditionalDataToAgent{})
	}
	// A 429 was not taken: sent again.
	w.api.fail("POST /v2.1/chat/messages", http.StatusTooManyRequests)
	require.NoError(t, send("m-1", "one"))
	assert.Equal(t, 2, w.api.count("POST /v2.1/chat/messages"))
	assert.Equal(t, map[string]any{"customerId": custID, "session": convID, "body": "one", "externalId": "m-1"}, w.api.body("POST /v2.1/chat/messages", 1))
	// A 503 after Kustomer stored the message: looked up by its
	// externalId, not sent again.
	w.api.on(http.MethodPost, "/v2.1/chat/messages", func(_ *http.Request, b map[string]any) (int, any) {
		m := w.api.add("in", b["body"].(string), "", nil)
		m["attributes"].(map[string]any)["externalId"] = b["externalId"]
		return 503, map[string]any{"errors": []any{map[string]any{"status": 503, "code": "unavailable", "title": "Service Unavailable"}}}
	})
	require.NoError(t, send("m-2", "two"))
	assert.Equal(t, 3, w.api.count("POST /v2.1/chat/messages"), "stored once")
	// A refusal is the message's error, with Kustomer's detail.
	w.api.on(http.MethodPost, "/v2.1/chat/messages", func(*http.Request, map[string]any) (int, any) {
		return 400, map[string]any{"errors": []any{map[string]any{"status": 400, "code": "invalid", "title": "Bad Request", "detail": "body is too long"}}}
	})
	err := send("m-3", "three")
	require.Error(t, err)
	assert.Equal(t, servicedesk.CodeRejected, servicedesk.CodeOf(err))
	assert.Contains(t, err.Error(), "body is too long")
}

func TestFileUpload(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	png := []byte("\x89PNG\r\n\x1a\nfixture")
	f := servicedesk.FileUpload{ID: "file-1", File: servicedesk.File{Name: "receipt.png", Type: "image/png", Size: int64(len(png)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(png)), nil }}}
	require.NoError(t, w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("here"), "m-f",
		servicedesk.AdditionalDataToAgent{FilesToUpload: []servicedesk.FileUpload{f}}))
	assert.Equal(t, map[string]any{"name": "receipt.png", "contentType": "image/png", "contentLength": float64(len(png))}, w.api.body("POST /v1/attachments", 0))
	w.api.mu.Lock()
	forms := slices.Clone(w.api.forms)
	w.api.mu.Unlock()
	require.Len(t, forms, 1)
	form := forms[0]
	assert.Equal(t, []string{"attachments/6717c2f0e5b1f00012ab3600"}, form.Value["key"])
	assert.Equal(t, []string{"eyJleHBpcmF0aW9uIjoi"}, form.Value["policy"])
	require.Len(t, form.File["file"], 1)
	assert.Equal(t, "receipt.png", form.File["file"][0].Filename)
	msg := w.api.body("POST /v2.1/chat/messages", 0)
	assert.Equal(t, []any{map[string]any{"_id": "6717c2f0e5b1f00012ab3600", "name": "receipt.png", "contentType": "image/png", "contentLength": float64(len(png))}}, msg["attachments"])
	w.waitFor(t, "file(file-1,false,)")
	// Kustomer refuses the message for its file: the file failed, with
	// the reason.
	w.api.fail("POST /v2.1/chat/messages", http.StatusBadRequest)
	err := w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest(""), "m-g",
		servicedesk.AdditionalDataToAgent{FilesToUpload: []servicedesk.FileUpload{{ID: "file-2", File: f.File}}})
	require.Error(t, err)
	w.waitFor(t, "file(file-2,true,queued by the test)")
	// The checks before sending.
	caps := w.desk.(servicedesk.FileSelectionValidator)
	require.NoError(t, caps.FilesSelectedForUpload(context.Background(), []servicedesk.FileUpload{{ID: "file-3", File: servicedesk.File{Name: "tool.exe", Type: "application/x-msdownload", Size: 4}}}))
	assert.Contains(t, sdtest.Join(w.rec.Calls()), "file(file-3,true,")
}

func TestEndAndReconnect(t *testing.T) {
	// The customer ends: the conversation's status becomes done, the
	// state is cleared.
	w := newWorld(t, nil)
	w.joined(t)
	require.NoError(t, w.desk.EndChat(context.Background(), servicedesk.EndChatInfo{}))
	assert.Equal(t, map[string]any{"status": "done"}, w.api.body("PATCH /v1/conversations/"+convID, 0))
	assert.Empty(t, w.rec.State())

	// A restart: the persisted state finds the open conversation and reads
	// what the agent said meanwhile, once.
	w = newWorld(t, nil)
	w.joined(t)
	time.Sleep(100 * time.Millisecond) // the cursor is saved after the message is shown
	state, _ := json.Marshal(w.rec.State())
	w.api.agentSays(userAda, "while you were away")
	rec := &sdtest.Recorder{}
	d, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("sess-1"), PersistedState: state})
	require.NoError(t, err)
	ok, err := d.(servicedesk.Reconnector).Reconnect(context.Background())
	require.NoError(t, err)
	require.True(t, ok)
	waitCall(t, rec, "message(while you were away,"+userAda+")")
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, []string{"message(while you were away," + userAda + ")"}, rec.Calls(), "the agent is known: no second join")
	var s kustomer.Session
	require.True(t, servicedesk.As(d, &s))
	assert.Equal(t, kustomer.Session{CustomerID: custID, ConversationID: convID}, s)

	// Done meanwhile, or gone: over, and forgotten.
	w.api.change(func() { w.api.status = "done" })
	d, _ = w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("sess-1"), PersistedState: state})
	ok, err = d.(servicedesk.Reconnector).Reconnect(context.Background())
	require.NoError(t, err)
	assert.False(t, ok)
	w.api.fail("GET /v1/conversations/"+convID, http.StatusNotFound)
	d, _ = w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("sess-1"), PersistedState: state})
	ok, err = d.(servicedesk.Reconnector).Reconnect(context.Background())
	require.NoError(t, err)
	assert.False(t, ok)
	// A state that does not decode is an error, not a forgotten chat.
	_, err = w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("sess-1"), PersistedState: json.RawMessage(`{"conversation_id":7}`)})
	assert.ErrorContains(t, err, "persisted state")
}

func TestOutageMidChatLosesNothing(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	// Kustomer stops answering the kit's reads while the agent goes on,
	// and only the first delivery arrives: the read after the outage brings
	// all three, once each, in order, with DISCONNECTED around.
	time.Sleep(100 * time.Millisecond) // the join's own reads are done
	w.api.fail("GET /v1/conversations/"+convID, 503, 503, 503, 502)
	first := w.api.agentSays(userAda, "during 1")
	w.api.agentSays(userAda, "during 2")
	w.api.agentSays(userAda, "during 3")
	w.deliver(t, first)
	w.waitFor(t, "error(DISCONNECTED,false,)")
	w.deliver(t, w.api.agentSays(userAda, "after"))
	w.waitFor(t, "message(after,"+userAda+")")
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"joined(Ada)", "message(Hi, Ada here.," + userAda + ")", "error(DISCONNECTED,true,)",
		"message(during 1," + userAda + ")", "message(during 2," + userAda + ")", "message(during 3," + userAda + ")",
		"error(DISCONNECTED,false,)", "message(after," + userAda + ")"}, w.agentCalls())
}

func TestConfigChecks(t *testing.T) {
	for _, c := range []kustomer.Config{
		{Org: "acme", From: botUser},
		{Org: "acme", APIKey: "k"},
		{APIKey: "k", From: botUser},
		{Org: "acme.api.kustomerapp.com", APIKey: "k", From: botUser},
		{Org: "acme", APIKey: "k", From: botUser, WebhookTokens: []string{""}},
	} {
		_, err := kustomer.New(c)
		assert.Error(t, err, "%+v", c)
	}
}

// A text past Kustomer's 4,000 characters is sent whole, as several
// messages, each with its own externalId.
func TestLongMessageSentInParts(t *testing.T) {
	w := newWorld(t, nil)
	w.joined(t)
	text := strings.Repeat("word ", 1700) // 8,500 bytes
	require.NoError(t, w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest(text), "m-long", servicedesk.AdditionalDataToAgent{}))
	n := w.api.count("POST /v2.1/chat/messages")
	require.Equal(t, 3, n)
	var got strings.Builder
	for i := range n {
		b := w.api.body("POST /v2.1/chat/messages", i)
		assert.LessOrEqual(t, len(b["body"].(string)), 4000)
		assert.Equal(t, vendorkit.PartID("m-long", i), b["externalId"])
		got.WriteString(b["body"].(string))
	}
	assert.Equal(t, text, got.String(), "nothing cut")
}
