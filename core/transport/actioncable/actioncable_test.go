package actioncable_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/transport/actioncable"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// cable is a loopback ActionCable server: welcome, then for each
// subscribe a confirm (or a reject) and one message; it pings while ping
// is set.
type cable struct {
	reject, silent atomic.Bool
	conns          atomic.Int32
}

func (c *cable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{Subprotocols: []string{actioncable.Subprotocol}}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	n := c.conns.Add(1)
	if conn.Subprotocol() != actioncable.Subprotocol {
		return
	}
	_ = conn.WriteJSON(map[string]string{"type": "welcome"})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if !c.silent.Load() {
					_ = conn.WriteJSON(map[string]any{"type": "ping", "message": time.Now().Unix()})
				}
			}
		}
	}()
	for {
		var cmd map[string]string
		if err := conn.ReadJSON(&cmd); err != nil {
			return
		}
		if cmd["command"] != "subscribe" {
			continue
		}
		if c.reject.Load() {
			_ = conn.WriteJSON(map[string]string{"type": "reject_subscription", "identifier": cmd["identifier"]})
			continue
		}
		_ = conn.WriteJSON(map[string]string{"type": "confirm_subscription", "identifier": cmd["identifier"]})
		_ = conn.WriteJSON(map[string]any{"identifier": cmd["identifier"], "message": map[string]any{"event": "hello", "data": map[string]int32{"conn": n}}})
	}
}

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") + "/cable" }

func TestIdentifier(t *testing.T) {
	id := actioncable.Identifier("RoomChannel", map[string]string{"pubsub_token": "tok"})
	var m map[string]string
	if err := json.Unmarshal([]byte(id), &m); err != nil || m["channel"] != "RoomChannel" || m["pubsub_token"] != "tok" || len(m) != 2 {
		t.Fatalf("identifier %s: %v", id, err)
	}
	var cmd map[string]string
	if err := json.Unmarshal(actioncable.Command("subscribe", id), &cmd); err != nil || cmd["identifier"] != id || cmd["command"] != "subscribe" {
		t.Fatalf("command: %v %v", cmd, err)
	}
}

// TestSubscribeAndWatchdog: a message comes after the confirmation; a
// server that stops pinging (its pongs still answering) is dropped and a
// new connection subscribes again.
func TestSubscribeAndWatchdog(t *testing.T) {
	srv := &cable{}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	msgs := make(chan string, 8)
	c := actioncable.Open(actioncable.Config{
		URL: wsURL(hs), Identifier: actioncable.Identifier("RoomChannel", map[string]string{"pubsub_token": "t"}),
		OnMessage:  func(m json.RawMessage) { msgs <- string(m) },
		StaleAfter: 150 * time.Millisecond,
		Backoff:    retry.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if m := <-msgs; !strings.Contains(m, `"conn":1`) {
		t.Fatalf("first message %s", m)
	}
	srv.silent.Store(true)
	select {
	case m := <-msgs:
		if !strings.Contains(m, `"conn":2`) {
			t.Fatalf("after the watchdog: %s", m)
		}
	case <-ctx.Done():
		t.Fatal("the silent connection was not dropped")
	}
}

func TestRejectIsFatal(t *testing.T) {
	srv := &cable{}
	srv.reject.Store(true)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	fatal := make(chan error, 1)
	c := actioncable.Open(actioncable.Config{URL: wsURL(hs), Identifier: "x", OnFatal: func(err error) { fatal <- err }})
	defer c.Close()
	select {
	case err := <-fatal:
		if !errors.Is(err, actioncable.ErrRejected) {
			t.Fatalf("fatal %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no OnFatal")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Ready(ctx); err == nil {
		t.Fatal("Ready after a rejection")
	}
}

func TestDecodeDisconnect(t *testing.T) {
	f, err := actioncable.Decode([]byte(`{"type":"disconnect","reason":"unauthorized","reconnect":false}`))
	if err != nil || f.Type != actioncable.TypeDisconn || f.Reconnect == nil || *f.Reconnect || f.Reason != "unauthorized" {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := actioncable.Decode([]byte(`{`)); err == nil {
		t.Fatal("bad JSON decoded")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"welcome"}`))
	f.Add([]byte(`{"identifier":"{\"channel\":\"RoomChannel\"}","message":{"event":"message.created","data":{}}}`))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = actioncable.Decode(b) })
}
