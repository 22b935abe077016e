package egain_test

// Fixture tests: the requests the kit sends and the frames and answers it
// reads, pinned against the starter kit's eGain client
// (watson-developer-cloud/assistant-web-chat-service-desk-starter,
// src/egain/webChat/client/src/egainServiceDesk.ts: initialize, the
// WebSocket's opening frame and message frames, handleMessage's
// eGainMessage types and status) and the entry point's agentAvailability
// XML; the members the README marks inferred are pinned as the kit sends
// them. The WebSocket is a loopback server replaying these frames;
// initialize and the availability are jarcoal/httpmock.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/egain"
)

const (
	relayBase = "https://relay.egain.example"
	token     = "tok-3f9a"
)

// relay plays the relay's WebSocket: each connection gets script, which
// reads the customer's frames from in and writes with push.
type relay struct {
	*httptest.Server
	frames chan map[string]any // every frame the customer sent
	conns  chan url            // each connection's query

	mu     sync.Mutex
	script func(n int, conn *websocket.Conn, in <-chan map[string]any)
	n      int
}

type url map[string]string

func newRelay(t *testing.T, script func(n int, conn *websocket.Conn, in <-chan map[string]any)) *relay {
	r := &relay{frames: make(chan map[string]any, 64), conns: make(chan url, 8), script: script}
	up := websocket.Upgrader{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		conn, err := up.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		r.mu.Lock()
		r.n++
		n := r.n
		r.mu.Unlock()
		r.conns <- url{"userId": q.Get("userId"), "sessionId": q.Get("sessionId"), "sessionToken": q.Get("sessionToken"), "path": req.URL.Path}
		in := make(chan map[string]any, 16)
		go func() {
			defer close(in)
			for {
				var m map[string]any
				if err := conn.ReadJSON(&m); err != nil {
					return
				}
				r.frames <- m
				in <- m
			}
		}()
		r.script(n, conn, in)
	}))
	t.Cleanup(func() { r.CloseClientConnections(); r.Close() })
	return r
}

func hubFrame(id, typ, value string) string {
	inner, _ := json.Marshal(map[string]string{"id": id, "type": typ, "value": value})
	b, _ := json.Marshal(map[string]string{"authorization": token, "eGainMessage": string(inner)})
	return string(b)
}

func status(s string) string { return `{"authorization":"` + token + `","status":"` + s + `"}` }

func ack(id string) string {
	return `{"authorization":"` + token + `","messageId":"` + id + `","status":"accepted"}`
}

func write(conn *websocket.Conn, frames ...string) {
	for _, f := range frames {
		_ = conn.WriteMessage(websocket.TextMessage, []byte(f))
	}
}

// fixtureKit is a kit whose initialize and availability go to httpmock
// and whose WebSocket goes to ws.
func fixtureKit(t *testing.T, ws string) (*egain.Kit, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	k, err := egain.New(egain.Config{
		URL: relayBase, WebSocketURL: ws, EntryPointID: "1001", CustomerID: "cust-7d1c",
		HTTPClient: &http.Client{Transport: mt}, PingInterval: time.Second, RequestTimeout: time.Second,
		Backoff: retry.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond, MaxRetryAfter: 5 * time.Second},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close() })
	return k, mt
}

func initOK(mt *httpmock.MockTransport, got *map[string]any, auth *string) {
	mt.RegisterResponder(http.MethodPost, relayBase+"/initialize", func(r *http.Request) (*http.Response, error) {
		if got != nil {
			_ = json.NewDecoder(r.Body).Decode(got)
		}
		if auth != nil {
			*auth = r.Header.Get("Authorization")
		}
		return httpmock.NewStringResponse(200, `{"sessionToken":"`+token+`"}`), nil
	})
}

func start(t *testing.T, k *egain.Kit, rec *sdtest.Recorder, h servicedesk.Handoff) servicedesk.ServiceDesk {
	t.Helper()
	sd, err := k.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	connect := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: "Card declined twice"})
	require.NoError(t, sd.StartChat(ctx, connect, servicedesk.StartChatOptions{Handoff: h}))
	return sd
}

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") + "/ws" }

// TestStartChatFixture: initialize carries the starter kit's sessionId and
// userId, the customer id in base64 as its Authorization, the entry point,
// the customer and the hand-off as attributes; the WebSocket's query and
// opening frame name the session; agent frames become callbacks.
func TestStartChatFixture(t *testing.T) {
	r := newRelay(t, func(n int, conn *websocket.Conn, in <-chan map[string]any) {
		<-in // the opening frame
		write(conn, status("connected"),
			hubFrame("m1", "agent.join", `{"agentName":"Ada"}`),
			hubFrame("m2", "typing.start", ""),
			hubFrame("m3", "text", `See <a href="https://e.example/policy" target="_blank">the policy</a>.`+"\n\n"+`<a href="https://e.example/form">Open the form</a>`),
			`{"authorization":"someone-else","eGainMessage":"{\"id\":\"x\",\"type\":\"text\",\"value\":\"not ours\"}"}`,
			hubFrame("m4", "conversation.state", "{}"),
			hubFrame("m5", "text", "agent.end.conversation"))
		for range in {
		}
	})
	k, mt := fixtureKit(t, wsURL(r.Server))
	var body map[string]any
	var auth string
	initOK(mt, &body, &auth)
	rec := &sdtest.Recorder{}
	sd := start(t, k, rec, servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "c-42", Name: "Grace Hopper", Email: "grace@example.com"},
		Attributes: map[string]string{"topic": "billing"},
		Transcript: []servicedesk.Turn{{From: "user", Text: "my card"}, {From: "bot", Text: "let me get someone"}},
	})
	defer sd.(interface{ Close() error }).Close()

	assert.Equal(t, base64.StdEncoding.EncodeToString([]byte("cust-7d1c")), auth)
	assert.Equal(t, "1001", body["entryPointId"])
	assert.Equal(t, "c-42", body["userId"])
	assert.Equal(t, map[string]any{"id": "c-42", "name": "Grace Hopper", "email": "grace@example.com"}, body["customer"])
	attrs := map[string]string{}
	for _, a := range body["attributes"].([]any) {
		m := a.(map[string]any)
		attrs[m["name"].(string)] = m["value"].(string)
	}
	assert.Equal(t, "billing", attrs["topic"])
	assert.Equal(t, "Card declined twice", attrs["summary"])
	assert.Equal(t, "c-42", attrs["customer_id"])
	assert.Equal(t, "Conversation with the bot before the hand-off:\nuser: my card\nbot: let me get someone", attrs["transcript"])

	q := <-r.conns
	assert.Equal(t, url{"userId": "c-42", "sessionId": body["sessionId"].(string), "sessionToken": token, "path": "/ws"}, q)
	open := <-r.frames
	assert.Equal(t, map[string]any{"userId": "c-42", "sessionId": body["sessionId"], "CustomerId": "cust-7d1c", "sessionToken": token}, open)

	calls := rec.Wait(5, 5*time.Second)
	assert.Equal(t, []string{"joined(Ada)", "typing(true)", "typing(false)",
		"message(See [the policy](https://e.example/policy).,Ada)", "ended"}, calls[:5])
}

// TestActionsFixture: a message goes with the engine's id as its
// messageId; a 429 answer with retryAfter is tried again with the same
// id, a lost answer too; a 422 fails the message with the relay's reason;
// typing and the end are frames of their Conversation Hub types.
func TestActionsFixture(t *testing.T) {
	var mu sync.Mutex
	tries := map[string]int{}
	r := newRelay(t, func(n int, conn *websocket.Conn, in <-chan map[string]any) {
		<-in
		write(conn, status("connected"), hubFrame("m1", "agent.join", `{"agentName":"Ada"}`))
		for f := range in {
			id, _ := f["messageId"].(string)
			mu.Lock()
			tries[id]++
			try := tries[id]
			mu.Unlock()
			switch {
			case f["message"] == "slow" && try == 1:
				write(conn, `{"authorization":"`+token+`","messageId":"`+id+`","error":{"code":"429","message":"slow down","retryAfter":1}}`)
			case f["message"] == "lost" && try == 1:
				// no answer: the kit tries again with the same id
			case f["message"] == "bad":
				write(conn, `{"authorization":"`+token+`","messageId":"`+id+`","error":{"code":"422","message":"Message too long."}}`)
			default:
				write(conn, ack(id))
			}
		}
	})
	k, mt := fixtureKit(t, wsURL(r.Server))
	initOK(mt, nil, nil)
	rec := &sdtest.Recorder{}
	sd := start(t, k, rec, servicedesk.Handoff{})
	defer sd.(interface{ Close() error }).Close()
	rec.Wait(1, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	<-r.frames // the opening frame

	began := time.Now()
	require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("slow"), "eng-1", servicedesk.AdditionalDataToAgent{}))
	assert.GreaterOrEqual(t, time.Since(began), 900*time.Millisecond, "retryAfter honoured")
	require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("lost"), "eng-2", servicedesk.AdditionalDataToAgent{}))
	err := sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("bad"), "eng-3", servicedesk.AdditionalDataToAgent{})
	require.ErrorIs(t, err, servicedesk.ErrRejected)
	var ee *egain.Error
	require.True(t, errors.As(err, &ee))
	assert.Equal(t, "Message too long.", ee.Message)
	require.NoError(t, sd.(servicedesk.TypingNotifier).UserTyping(ctx, true))
	require.NoError(t, sd.EndChat(ctx, servicedesk.EndChatInfo{}))

	var sent []map[string]any
	for len(r.frames) > 0 {
		sent = append(sent, <-r.frames)
	}
	byID := func(id string) (n int) {
		for _, f := range sent {
			if f["messageId"] == id {
				n++
				assert.Equal(t, map[string]any{"sessionId": f["sessionId"], "CustomerId": "cust-7d1c", "sessionToken": token, "type": "text", "message": f["message"], "messageId": id}, f)
			}
		}
		return n
	}
	assert.Equal(t, 2, byID("eng-1"), "a 429 is tried once more, same id")
	assert.Equal(t, 2, byID("eng-2"), "a lost answer is tried once more, same id")
	assert.Equal(t, 1, byID("eng-3"), "a 422 is not tried again")
	var others []string
	for _, f := range sent {
		if f["type"] != "text" {
			msg, _ := f["message"].(string)
			others = append(others, f["type"].(string)+"/"+msg)
		}
	}
	assert.Equal(t, []string{"typing.start/", "conversation.end/End conversation"}, others)
}

// TestDroppedConnectionReplay: a connection dropped mid-chat is redialled
// with the same session; its opening frame names the last message
// delivered, and what the relay replays again (or pushes twice) is
// delivered once, in order; DISCONNECTED is raised and cleared.
func TestDroppedConnectionReplay(t *testing.T) {
	r := newRelay(t, func(n int, conn *websocket.Conn, in <-chan map[string]any) {
		open := <-in
		switch n {
		case 1:
			write(conn, status("connected"), hubFrame("m1", "agent.join", `{"agentName":"Ada"}`), hubFrame("m2", "text", "one"))
			time.Sleep(100 * time.Millisecond)
			_ = conn.UnderlyingConn().Close() // dropped, no close frame
			return
		default:
			if open["lastMessageId"] != "m2" {
				write(conn, hubFrame("bad", "text", "wrong cursor"))
			}
			write(conn, hubFrame("m2", "text", "one"), hubFrame("m3", "text", "two"), hubFrame("m3", "text", "two"),
				status("connected"), hubFrame("m4", "text", "three"))
		}
		for range in {
		}
	})
	k, mt := fixtureKit(t, wsURL(r.Server))
	initOK(mt, nil, nil)
	rec := &sdtest.Recorder{}
	sd := start(t, k, rec, servicedesk.Handoff{})
	defer sd.(interface{ Close() error }).Close()
	calls := rec.Wait(6, 5*time.Second)
	assert.Equal(t, []string{"joined(Ada)", "message(one,Ada)", "error(DISCONNECTED,true,)", "message(two,Ada)",
		"error(DISCONNECTED,false,)", "message(three,Ada)"}, calls)
	assert.Equal(t, "m4", rec.State()["last_message_id"])
}

// TestSessionGone: the relay refusing the session (401 on the handshake,
// or "Invalid session") ends the chat; a refusal before an agent is a
// CONNECTING error with agent.unavailable's reason.
func TestSessionGone(t *testing.T) {
	r := newRelay(t, func(n int, conn *websocket.Conn, in <-chan map[string]any) {
		<-in
		write(conn, status("connected"), hubFrame("u1", "agent.unavailable", "All agents are busy."), status("Conversation ended"))
		for range in {
		}
	})
	k, mt := fixtureKit(t, wsURL(r.Server))
	initOK(mt, nil, nil)
	rec := &sdtest.Recorder{}
	sd := start(t, k, rec, servicedesk.Handoff{})
	defer sd.(interface{ Close() error }).Close()
	assert.Equal(t, []string{"error(CONNECTING,false,All agents are busy.)"}, rec.Wait(1, 5*time.Second))

	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unknown session", http.StatusUnauthorized)
	}))
	defer gone.Close()
	k2, mt2 := fixtureKit(t, wsURL(gone))
	initOK(mt2, nil, nil)
	rec2 := &sdtest.Recorder{}
	sd2 := start(t, k2, rec2, servicedesk.Handoff{})
	defer sd2.(interface{ Close() error }).Close()
	assert.Equal(t, []string{"error(CONNECTING,false,)"}, rec2.Wait(1, 5*time.Second))
}

// TestRESTFixtures: initialize's 503 and 429 (Retry-After) are tried
// again, a 401 (a customer id the relay does not know) is not and fails
// the start as rejected; the availability reads eGain's XML.
func TestRESTFixtures(t *testing.T) {
	k, mt := fixtureKit(t, "ws://127.0.0.1:1/ws")
	mt.RegisterResponder(http.MethodPost, relayBase+"/initialize", httpmock.ResponderFromMultipleResponses([]*http.Response{
		httpmock.NewStringResponse(503, `{"code":"503","message":"down"}`),
		func() *http.Response {
			r := httpmock.NewStringResponse(429, `{"code":"429","message":"slow"}`)
			r.Header.Set("Retry-After", "1")
			return r
		}(),
		httpmock.NewStringResponse(401, `{"code":"401","message":"Authorization is not the customer id in base64"}`),
	}))
	sd, err := k.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}})
	require.NoError(t, err)
	defer sd.(interface{ Close() error }).Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	err = sd.StartChat(ctx, servicedesk.MessageResponse{}, servicedesk.StartChatOptions{})
	require.ErrorIs(t, err, servicedesk.ErrRejected)
	assert.Contains(t, err.Error(), "customer id")
	assert.GreaterOrEqual(t, time.Since(began), 900*time.Millisecond, "Retry-After honoured")
	assert.Equal(t, 3, mt.GetTotalCallCount())

	avail := relayBase + "/system/egain/chat/entrypoint/agentAvailability/1001"
	mt.RegisterResponder(http.MethodGet, avail, httpmock.ResponderFromMultipleResponses([]*http.Response{
		httpmock.NewStringResponse(500, "oops"),
		httpmock.NewStringResponse(200, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><agentAvailability available="true" xmlns:ns2="http://bindings.egain.com/chat"/>`),
		httpmock.NewStringResponse(200, `<agentAvailability available="false"/>`),
		httpmock.NewStringResponse(200, `not xml`),
	}))
	ac := sd.(servicedesk.AvailabilityChecker)
	on, err := ac.AreAnyAgentsOnline(ctx, servicedesk.MessageResponse{})
	require.NoError(t, err)
	assert.Equal(t, servicedesk.Online, on)
	on, err = ac.AreAnyAgentsOnline(ctx, servicedesk.MessageResponse{})
	require.NoError(t, err)
	assert.Equal(t, servicedesk.Offline, on)
	_, err = ac.AreAnyAgentsOnline(ctx, servicedesk.MessageResponse{})
	require.Error(t, err)
	assert.Equal(t, 4, mt.GetCallCountInfo()["GET "+avail], "the 500 is tried again, XML that does not decode is not")
}
