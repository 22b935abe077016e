package websocket_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	gws "github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/websocket"
)

// scriptedDesk starts chat ch_1 over REST and hands each WebSocket
// connection, with its hello, to the test's conn function.
type scriptedDesk struct {
	t    *testing.T
	mu   sync.Mutex
	n    int
	conn func(n int, c *gws.Conn, hello map[string]any)
}

func (d *scriptedDesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/chats":
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(201)
		_, _ = io.WriteString(w, `{"chat_id":"ch_1","chat_token":"tok","state":"active","last_seq":0}`)
	case "/v1/ws":
		c, err := (&gws.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		var hello map[string]any
		if err := c.ReadJSON(&hello); err != nil {
			return
		}
		d.mu.Lock()
		d.n++
		n := d.n
		d.mu.Unlock()
		d.conn(n, c, hello)
	default:
		http.NotFound(w, r)
	}
}

func event(seq int) string {
	return `{"type":"event","event":{"id":"e` + itoa(seq) + `","chat_id":"ch_1","seq":` + itoa(seq) + `,"type":"agent_message","agent":{"id":"ada"},"message":{"output":{"generic":[{"response_type":"text","text":"m` + itoa(seq) + `"}]}}}}`
}

func welcome(c *gws.Conn) {
	_ = c.WriteMessage(gws.TextMessage, []byte(`{"type":"welcome","request_id":"hello","chat":{"chat_id":"ch_1","state":"active","last_seq":0}}`))
}

func start(t *testing.T, d *scriptedDesk) (servicedesk.ServiceDesk, *sdtest.Recorder) {
	t.Helper()
	srv := httptest.NewServer(d)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	kit, err := websocket.New(websocket.Config{BaseURL: srv.URL})
	require.NoError(t, err)
	rec := &sdtest.Recorder{}
	desk, err := kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("s")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = desk.(io.Closer).Close() })
	require.NoError(t, desk.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}))
	return desk, rec
}

func TestReconnectResumesFromTheLastAppliedEvent(t *testing.T) {
	hellos := make(chan map[string]any, 4)
	d := &scriptedDesk{t: t, conn: func(n int, c *gws.Conn, hello map[string]any) {
		hellos <- hello
		welcome(c)
		if n == 1 {
			for seq := 1; seq <= 3; seq++ {
				_ = c.WriteMessage(gws.TextMessage, []byte(event(seq)))
			}
			time.Sleep(50 * time.Millisecond)
			_ = c.NetConn().Close() // abrupt: no close frame
			return
		}
		_ = c.WriteMessage(gws.TextMessage, []byte(event(3))) // a repeat the kit must drop
		_ = c.WriteMessage(gws.TextMessage, []byte(event(4)))
		_, _, _ = c.ReadMessage()
	}}
	_, rec := start(t, d)
	got := rec.Wait(6, 5*time.Second)
	want := "message(m1,ada) | message(m2,ada) | message(m3,ada) | error(DISCONNECTED,true,) | error(DISCONNECTED,false,) | message(m4,ada)"
	if sdtest.Join(got) != want {
		t.Fatalf("calls\n got %s\nwant %s", sdtest.Join(got), want)
	}
	first, second := <-hellos, <-hellos
	if first["last_seq"] != nil || second["last_seq"] != float64(3) || second["chat_token"] != "tok" {
		t.Fatalf("hellos %v then %v: the second must resume after seq 3", first, second)
	}
}

func TestUnansweredActionIsResentAfterReconnect(t *testing.T) {
	frames := make(chan map[string]any, 8)
	d := &scriptedDesk{t: t, conn: func(n int, c *gws.Conn, _ map[string]any) {
		welcome(c)
		for {
			var f map[string]any
			if err := c.ReadJSON(&f); err != nil {
				return
			}
			if f["type"] != "message" {
				continue
			}
			frames <- f
			if n == 1 {
				_ = c.NetConn().Close() // lost before the ack
				return
			}
			_ = c.WriteJSON(map[string]any{"type": "ack", "request_id": f["request_id"], "result": map[string]any{"message_id": "cm_1", "replayed": true}})
		}
	}}
	desk, _ := start(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest("hello"), "m-1", servicedesk.AdditionalDataToAgent{}); err != nil {
		t.Fatalf("send: %v", err)
	}
	a, b := <-frames, <-frames
	if a["idempotency_key"] != "m-1" || b["idempotency_key"] != "m-1" {
		t.Fatalf("frames %v and %v: the resend must keep the idempotency key", a, b)
	}
}

func TestBusyDeskIsRetriedAfterRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	seen := map[any]bool{}
	d := &scriptedDesk{t: t, conn: func(_ int, c *gws.Conn, _ map[string]any) {
		welcome(c)
		for {
			var f map[string]any
			if err := c.ReadJSON(&f); err != nil {
				return
			}
			mu.Lock()
			if seen[f["request_id"]] {
				// A frame sent before the welcome may come again after
				// it (resend of what a connection may have lost).
				mu.Unlock()
				continue
			}
			seen[f["request_id"]] = true
			at = append(at, time.Now())
			first := len(at) == 1
			mu.Unlock()
			if first {
				_ = c.WriteJSON(map[string]any{"type": "error", "request_id": f["request_id"], "error": map[string]any{"code": "rate_limited", "message": "slow", "retry_after": 1}})
				continue
			}
			_ = c.WriteJSON(map[string]any{"type": "ack", "request_id": f["request_id"]})
		}
	}}
	desk, _ := start(t, d)
	require.NoError(t, desk.(servicedesk.TypingNotifier).UserTyping(context.Background(), true))
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 2 || at[1].Sub(at[0]) < 900*time.Millisecond {
		t.Fatalf("attempts at %v: want a resend after the 1s retry_after", at)
	}
}

func TestRefusedMessageIsAnError(t *testing.T) {
	d := &scriptedDesk{t: t, conn: func(_ int, c *gws.Conn, _ map[string]any) {
		welcome(c)
		var f map[string]any
		for c.ReadJSON(&f) == nil {
			_ = c.WriteJSON(map[string]any{"type": "error", "request_id": f["request_id"], "error": map[string]any{"code": "message_rejected", "message": "no links"}})
		}
	}}
	desk, _ := start(t, d)
	err := desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("x"), "m-2", servicedesk.AdditionalDataToAgent{})
	if err == nil || !strings.Contains(err.Error(), "no links") || !isRejected(err) {
		t.Fatalf("err = %v, want a rejection", err)
	}
}

func TestCloseSendsACloseFrame(t *testing.T) {
	closed := make(chan int, 1)
	d := &scriptedDesk{t: t, conn: func(_ int, c *gws.Conn, _ map[string]any) {
		welcome(c)
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				if ce, ok := err.(*gws.CloseError); ok {
					closed <- ce.Code
				} else {
					closed <- -1
				}
				return
			}
		}
	}}
	desk, rec := start(t, d)
	time.Sleep(50 * time.Millisecond) // let the welcome land
	require.NoError(t, desk.(io.Closer).Close())
	if code := <-closed; code != gws.CloseNormalClosure {
		t.Fatalf("desk saw close code %d, want 1000", code)
	}
	if got := rec.Calls(); len(got) != 0 {
		t.Fatalf("closing the desk told the user something: %v", got)
	}
}

func TestOversizedFrameDropsTheConnection(t *testing.T) {
	hellos := make(chan struct{}, 4)
	d := &scriptedDesk{t: t, conn: func(n int, c *gws.Conn, _ map[string]any) {
		hellos <- struct{}{}
		welcome(c)
		if n == 1 {
			big, _ := json.Marshal(map[string]any{"type": "event", "pad": strings.Repeat("x", 300<<10)})
			_ = c.WriteMessage(gws.TextMessage, big)
		}
		_, _, _ = c.ReadMessage()
	}}
	start(t, d)
	for i := 0; i < 2; i++ {
		select {
		case <-hellos:
		case <-time.After(5 * time.Second):
			t.Fatal("the kit did not reconnect after refusing an oversized frame")
		}
	}
}

func isRejected(err error) bool {
	var e *deskproto.Error
	return errorsAs(err, &e) && e.Code == "message_rejected"
}

// TestNewChatWhileTheLastOnesSocketFlaps: a session's next chat opens its
// socket while the previous chat's socket keeps dropping and redialling;
// the old socket is closed without the link's lock held, so the new start
// never waits on the old socket's callbacks (it used to deadlock).
func TestNewChatWhileTheLastOnesSocketFlaps(t *testing.T) {
	d := &scriptedDesk{t: t, conn: func(n int, c *gws.Conn, hello map[string]any) {
		// No welcome: every connection drops at once, and the kit redials.
		_ = c.NetConn().Close()
	}}
	srv := httptest.NewServer(d)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	kit, err := websocket.New(websocket.Config{BaseURL: srv.URL, Backoff: retry.Backoff{Min: time.Microsecond, Max: time.Microsecond}})
	require.NoError(t, err)
	desk, err := kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("s")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = desk.(io.Closer).Close() })
	for i := range 40 {
		done := make(chan error, 1)
		go func() {
			done <- desk.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{})
		}()
		select {
		case err := <-done:
			require.NoError(t, err, "start %d", i)
		case <-time.After(5 * time.Second):
			t.Fatalf("start %d: still waiting after 5 s for the last chat's socket to close", i)
		}
		time.Sleep(time.Duration(i%5) * time.Millisecond)
	}
}
