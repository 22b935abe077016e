package livechat

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// rtm is a loopback LiveChat: the accounts token grant and an RTM socket
// that logs every request and answers as the test says, replaying the
// documented frames.
type rtm struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	conn   *websocket.Conn
	reqs   chan map[string]any
	grants []map[string]any
	answer func(req map[string]any) []string // frames for a request; nil: the default
	conns  int
}

var upgrader = websocket.Upgrader{}

func newRTM(t *testing.T) *rtm {
	r := &rtm{t: t, reqs: make(chan map[string]any, 100)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/customer/token", func(w http.ResponseWriter, req *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(req.Body).Decode(&body)
		r.mu.Lock()
		r.grants = append(r.grants, body)
		n := len(r.grants)
		r.mu.Unlock()
		if req.Header.Get("Authorization") != "Bearer agent-1" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"Invalid agent access token."}`))
			return
		}
		// The documented answer (customer-authorization, agent token grant).
		_, _ = w.Write([]byte(`{"access_token":"dal:tok-` + string(rune('0'+n)) + `","client_id":"client-1","entity_id":"bf18d1a8-1afe-4a3e-4cc0-a3148f1143db","expires_in":28800,"token_type":"Bearer","organization_id":"org-1"}`))
	})
	mux.HandleFunc("GET /v3.6/customer/rtm/ws", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("organization_id") != "org-1" {
			http.Error(w, "organization", http.StatusBadRequest)
			return
		}
		c, err := upgrader.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conn = c
		r.conns++
		r.mu.Unlock()
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			if m["action"] == "ping" {
				continue
			}
			r.mu.Lock()
			answer := r.answer
			r.mu.Unlock()
			r.reqs <- m
			var frames []string
			if answer != nil {
				frames = answer(m)
			}
			if frames == nil {
				frames = []string{ok(m, `{}`)}
				if m["action"] == "login" {
					frames = []string{ok(m, `{"customer":{"id":"bf18d1a8-1afe-4a3e-4cc0-a3148f1143db"},"has_active_thread":false,"chats":[]}`)}
				}
				switch m["action"] {
				case "start_chat":
					frames = []string{ok(m, `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8"}`)}
				case "list_threads":
					frames = []string{ok(m, `{"threads":[{"id":"K600PKZON8","active":true,"events":[]}],"found_threads":1}`)}
				case "get_chat":
					frames = []string{ok(m, `{"id":"PJ0MRSHTDG","thread":{"id":"K600PKZON8","active":true,"events":[]},"users":[{"id":"bf18d1a8-1afe-4a3e-4cc0-a3148f1143db","type":"customer","present":true}]}`)}
				}
			}
			for _, f := range frames {
				if f != "" {
					r.send(f)
				}
			}
		}
	})
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

// ok is a request's successful response frame (rtm-reference's general
// response format).
func ok(req map[string]any, payload string) string {
	id, _ := json.Marshal(req["request_id"])
	return `{"request_id":` + string(id) + `,"action":"` + req["action"].(string) + `","type":"response","success":true,"payload":` + payload + `}`
}

func failed(req map[string]any, typ, msg string) string {
	id, _ := json.Marshal(req["request_id"])
	return `{"request_id":` + string(id) + `,"action":"` + req["action"].(string) + `","type":"response","success":false,"payload":{"error":{"type":"` + typ + `","message":"` + msg + `"}}}`
}

func push(action, payload string) string {
	return `{"action":"` + action + `","type":"push","payload":` + payload + `}`
}

// onConn runs f on the current connection, alone.
func (r *rtm) onConn(f func(c *websocket.Conn)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.conn)
}

// send writes a frame to the current connection (one that is gone
// drops it, as the network would); drop cuts it without a close frame.
func (r *rtm) send(frame string) {
	r.onConn(func(c *websocket.Conn) { _ = c.WriteMessage(websocket.TextMessage, []byte(frame)) })
}

func (r *rtm) drop() { r.onConn(func(c *websocket.Conn) { _ = c.NetConn().Close() }) }

// next returns the next request of action (others are skipped).
func (r *rtm) next(action string) map[string]any {
	r.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-r.reqs:
			if m["action"] == action {
				return m
			}
		case <-deadline:
			r.t.Fatalf("no %s request", action)
		}
	}
}

func (r *rtm) setAnswer(f func(map[string]any) []string) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

type fixture struct {
	r    *rtm
	rec  *sdtest.Recorder
	desk *desk
}

func newFixture(t *testing.T, state string) *fixture {
	r := newRTM(t)
	k, err := New(Config{OrganizationID: "org-1", ClientID: "client-1", APIURL: r.srv.URL, AccountsURL: r.srv.URL,
		AgentToken:     func(context.Context) (string, error) { return "agent-1", nil },
		RequestTimeout: time.Second, Backoff: retry.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	require.NoError(t, err)
	rec := &sdtest.Recorder{}
	if state != "" {
		require.NoError(t, rec.ReplacePersistedState(json.RawMessage(state)))
	}
	d, err := newDesk(k, servicedesk.FactoryParams{Callback: rec, PersistedState: rec.PersistedState()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close() })
	return &fixture{r: r, rec: rec, desk: d}
}

// await waits until the recorder has the calls want after the first *n,
// and moves *n past them.
func await(t *testing.T, rec *sdtest.Recorder, n *int, want ...string) {
	t.Helper()
	calls := rec.Wait(*n+len(want), 5*time.Second)
	require.GreaterOrEqual(t, len(calls), *n+len(want), "calls: %s", sdtest.Join(calls))
	require.Equal(t, want, calls[*n:*n+len(want)], "calls: %s", sdtest.Join(calls))
	*n += len(want)
}

const agentAda = `{"id":"b5657aff34dd32e198160d54666df9d8","type":"agent","name":"Ada","avatar":"cdn.livechatinc.com/avatars/1.png","present":true}`

func agentEvent(id, text string) string {
	return `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8","event":{"id":"` + id + `","created_at":"2019-12-05T07:27:08.820000Z","recipients":"all","type":"message","text":"` + text + `","author_id":"b5657aff34dd32e198160d54666df9d8"}}`
}

func threadEvent(id, text string) string {
	return `{"id":"` + id + `","created_at":"2019-12-05T07:27:08.820000Z","type":"message","text":"` + text + `","author_id":"b5657aff34dd32e198160d54666df9d8"}`
}

func (f *fixture) start(t *testing.T) {
	require.NoError(t, f.desk.StartChat(context.Background(), servicedesk.TextResponse("connect"), servicedesk.StartChatOptions{
		Handoff: servicedesk.Handoff{Summary: "Card declined", Attributes: map[string]string{"plan": "gold"}}}))
}

// TestStartChatShapes: the grant, the login with the hand-off, start_chat
// with the summary as the opening event; then the agent's pushes.
func TestStartChatShapes(t *testing.T) {
	f := newFixture(t, "")
	f.start(t)
	require.Equal(t, "agent_token", f.r.grants[0]["grant_type"], "grant %v", f.r.grants[0])
	require.Nil(t, f.r.grants[0]["entity_id"], "a new identity asks for none")
	login := f.r.next("login")["payload"].(map[string]any)
	require.Equal(t, "Bearer dal:tok-1", login["token"])
	require.Equal(t, []any{map[string]any{"plan": "gold"}}, login["customer"].(map[string]any)["session_fields"])
	sc := f.r.next("start_chat")["payload"].(map[string]any)
	ev := sc["chat"].(map[string]any)["thread"].(map[string]any)["events"].([]any)[0].(map[string]any)
	require.Equal(t, "Summary: Card declined", ev["text"])
	require.Equal(t, "bf18d1a8-1afe-4a3e-4cc0-a3148f1143db", f.rec.State()["entity_id"])
	n := 0
	f.r.send(push("queue_position_updated", `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8","queue":{"position":42,"wait_time":1337}}`))
	f.r.send(push("user_added_to_chat", `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8","user":`+agentAda+`,"reason":"manual"}`))
	f.r.send(push("incoming_typing_indicator", `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8","typing_indicator":{"author_id":"b5657aff34dd32e198160d54666df9d8","recipients":"all","timestamp":1574245378,"is_typing":true}}`))
	f.r.send(push("incoming_event", agentEvent("Q1_1", "Hello")))
	f.r.send(push("incoming_event", agentEvent("Q1_1", "Hello"))) // pushed twice
	f.r.send(push("events_marked_as_seen", `{"user_id":"b5657aff34dd32e198160d54666df9d8","chat_id":"PJ0MRSHTDG","seen_up_to":"2017-10-12T15:19:21.010200Z"}`))
	f.r.send(push("incoming_event", `{"chat_id":"OTHERCHAT","thread_id":"X","event":{"id":"o","type":"message","text":"not mine","author_id":"x"}}`))
	f.r.send(push("chat_deactivated", `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8","user_id":"b5657aff34dd32e198160d54666df9d8"}`))
	await(t, f.rec, &n, "caps(true)", "queue(42,23)", "joined(Ada)", "typing(true)", "typing(false)", "message(Hello,b5657aff34dd32e198160d54666df9d8)", "read", "ended")
}

// TestPushesBeforeStartAnswer: LiveChat promises no order between
// start_chat's response and the chat's first pushes. Those that come
// first (the queue, the agent joining, a greeting) are held until the
// answer names the chat, then taken in the order they came; a push of
// another chat among them is still not the kit's.
func TestPushesBeforeStartAnswer(t *testing.T) {
	f := newFixture(t, "")
	f.r.setAnswer(func(req map[string]any) []string {
		if req["action"] != "start_chat" {
			return nil
		}
		return []string{
			push("queue_position_updated", `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8","queue":{"position":2,"wait_time":60}}`),
			push("user_added_to_chat", `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8","user":`+agentAda+`,"reason":"manual"}`),
			push("incoming_event", `{"chat_id":"OTHERCHAT","thread_id":"X","event":{"id":"o","type":"message","text":"not mine","author_id":"x"}}`),
			push("incoming_event", agentEvent("Q1_1", "Hello")),
			ok(req, `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8"}`),
		}
	})
	f.start(t)
	f.r.send(push("incoming_event", agentEvent("Q1_2", "after")))
	n := 0
	await(t, f.rec, &n, "queue(2,1)", "joined(Ada)", "message(Hello,b5657aff34dd32e198160d54666df9d8)", "caps(true)", "message(after,b5657aff34dd32e198160d54666df9d8)")
	time.Sleep(100 * time.Millisecond)
	require.Len(t, f.rec.Calls(), n, "extra calls: %s", sdtest.Join(f.rec.Calls()[n:]))
	require.Equal(t, "PJ0MRSHTDG", f.rec.State()["chat_id"])
}

// TestDroppedSocketMidChat: the socket drops mid-chat, with a message of
// each side in flight. LiveChat replays nothing: the kit fills the gap
// from list_threads (each event once, in order, the live ones after), and
// finds its unanswered send_event in the chat by custom_id instead of
// sending it twice.
func TestDroppedSocketMidChat(t *testing.T) {
	f := newFixture(t, "")
	f.start(t)
	n := 0
	f.r.send(push("user_added_to_chat", `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8","user":`+agentAda+`}`))
	f.r.send(push("incoming_event", agentEvent("Q1_1", "one")))
	f.r.send(push("incoming_event", agentEvent("Q1_2", "two")))
	await(t, f.rec, &n, "caps(true)", "joined(Ada)", "message(one,b5657aff34dd32e198160d54666df9d8)", "message(two,b5657aff34dd32e198160d54666df9d8)")

	// The customer's message is taken by LiveChat, and the socket goes
	// before the answer.
	f.r.setAnswer(func(req map[string]any) []string {
		if req["action"] == "send_event" {
			return []string{""}
		}
		return nil
	})
	sent := make(chan error, 1)
	go func() {
		sent <- f.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("mine"), "msg-1", servicedesk.AdditionalDataToAgent{})
	}()
	require.Equal(t, "msg-1", f.r.next("send_event")["payload"].(map[string]any)["event"].(map[string]any)["custom_id"])
	history := `{"threads":[{"id":"K600PKZON8","active":true,"events":[` + threadEvent("Q1_1", "one") + `,` + threadEvent("Q1_2", "two") + `,` +
		`{"id":"Q1_3","custom_id":"msg-1","created_at":"2019-12-05T07:27:09.000000Z","type":"message","text":"mine","author_id":"bf18d1a8-1afe-4a3e-4cc0-a3148f1143db"},` +
		threadEvent("Q1_4", "three") + `,` + threadEvent("Q1_5", "four") + `]}],"found_threads":1}`
	chat := `{"id":"PJ0MRSHTDG","thread":{"id":"K600PKZON8","active":true,"events":[{"id":"Q1_3","custom_id":"msg-1","type":"message","text":"mine"}]},"users":[{"id":"bf18d1a8-1afe-4a3e-4cc0-a3148f1143db","type":"customer","present":true},` + agentAda + `]}`
	f.r.setAnswer(func(req map[string]any) []string {
		switch req["action"] {
		case "list_threads":
			return []string{ok(req, history), push("incoming_event", agentEvent("Q1_5", "four")), push("incoming_event", agentEvent("Q1_6", "five"))}
		case "get_chat":
			return []string{ok(req, chat)}
		case "send_event":
			t.Errorf("send_event sent again: %v", req)
		}
		return nil
	})
	f.r.drop()
	require.NoError(t, <-sent, "the send whose answer was lost")
	var got []string
	back := false
	for len(got) < 3 || !back {
		calls := f.rec.Wait(n+1, 5*time.Second)
		require.Greater(t, len(calls), n, "stuck: %s", sdtest.Join(calls))
		c := calls[n]
		n++
		switch c {
		case "error(DISCONNECTED,true,)":
		case "error(DISCONNECTED,false,)":
			back = true
		default:
			got = append(got, c)
		}
	}
	require.Equal(t, []string{"message(three,b5657aff34dd32e198160d54666df9d8)", "message(four,b5657aff34dd32e198160d54666df9d8)", "message(five,b5657aff34dd32e198160d54666df9d8)"}, got, "after the drop")
	time.Sleep(100 * time.Millisecond)
	require.Len(t, f.rec.Calls(), n, "extra calls: %s", sdtest.Join(f.rec.Calls()[n:]))
	require.Equal(t, "Q1_6", f.rec.State()["last_event_id"])
}

// TestTokenExpired: customer_disconnected access_token_expired makes the
// kit get a new token for the same customer and log in with it; reasons
// that say not to reconnect end the chat.
func TestTokenExpired(t *testing.T) {
	f := newFixture(t, "")
	f.start(t)
	f.r.next("login")
	f.r.send(push("customer_disconnected", `{"reason":"access_token_expired"}`))
	f.r.drop()
	login := f.r.next("login")["payload"].(map[string]any)
	require.Equal(t, "Bearer dal:tok-2", login["token"], "the new token")
	f.r.mu.Lock()
	require.Equal(t, "bf18d1a8-1afe-4a3e-4cc0-a3148f1143db", f.r.grants[1]["entity_id"], "the same customer")
	f.r.mu.Unlock()

	n := 0
	await(t, f.rec, &n, "caps(true)")
	f.r.send(push("customer_disconnected", `{"reason":"too_many_connections"}`))
	await(t, f.rec, &n, "error(CONNECTING,false,LiveChat closed the connection: too many connections.)")
	f.r.mu.Lock()
	conns := f.r.conns
	f.r.mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	f.r.mu.Lock()
	require.Equal(t, conns, f.r.conns, "no new connection after too_many_connections")
	f.r.mu.Unlock()
}

// TestErrorsAnswered: too_many_requests is retried after a pause and the
// message sent once; validation is the message's failure with LiveChat's
// reason; a refused start is the start's error.
func TestErrorsAnswered(t *testing.T) {
	f := newFixture(t, "")
	f.start(t)
	tries := 0
	f.r.setAnswer(func(req map[string]any) []string {
		if req["action"] != "send_event" {
			return nil
		}
		tries++
		switch req["payload"].(map[string]any)["event"].(map[string]any)["text"] {
		case "busy":
			if tries == 1 {
				return []string{failed(req, "too_many_requests", "Too many requests")}
			}
			return []string{ok(req, `{"event_id":"K600PKZON8_1"}`)}
		default:
			return []string{failed(req, "validation", "Wrong format of request")}
		}
	})
	require.NoError(t, f.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("busy"), "m-1", servicedesk.AdditionalDataToAgent{}))
	require.Equal(t, 2, tries, "tries of a rate-limited send")
	err := f.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("bad"), "m-2", servicedesk.AdditionalDataToAgent{})
	var le *Error
	require.ErrorAs(t, err, &le)
	require.Equal(t, "validation", le.Type)
	require.ErrorIs(t, err, servicedesk.ErrRejected)

	g := newFixture(t, "")
	g.r.setAnswer(func(req map[string]any) []string {
		if req["action"] == "start_chat" {
			return []string{failed(req, "groups_offline", "Groups offline")}
		}
		return nil
	})
	err = g.desk.StartChat(context.Background(), servicedesk.TextResponse("connect"), servicedesk.StartChatOptions{})
	require.ErrorAs(t, err, &le)
	require.True(t, strings.Contains(err.Error(), "groups_offline"), "%v", err)
}

// TestEndChat: the customer's end is deactivate_chat of the chat; one
// LiveChat answers chat_inactive (closed meanwhile) is no error, and a
// chat the agent ended is not deactivated again.
func TestEndChat(t *testing.T) {
	f := newFixture(t, "")
	f.start(t)
	f.r.setAnswer(func(req map[string]any) []string {
		if req["action"] == "deactivate_chat" {
			return []string{failed(req, "chat_inactive", "Chat is inactive")}
		}
		return nil
	})
	require.NoError(t, f.desk.EndChat(context.Background(), servicedesk.EndChatInfo{}))
	require.Equal(t, "PJ0MRSHTDG", f.r.next("deactivate_chat")["payload"].(map[string]any)["id"])

	g := newFixture(t, "")
	g.start(t)
	require.NoError(t, g.desk.EndChat(context.Background(), servicedesk.EndChatInfo{EndedByHumanAgent: true}))
	time.Sleep(100 * time.Millisecond)
	for len(g.r.reqs) > 0 {
		require.NotEqual(t, "deactivate_chat", (<-g.r.reqs)["action"], "the agent's end deactivated again")
	}
}
