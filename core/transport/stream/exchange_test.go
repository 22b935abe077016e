package stream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// echoAnswers is a WebSocket server that answers every frame with the
// frame itself (its text is the id) unless it is "silent".
func echoAnswers(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			if string(b) != "silent" {
				_ = c.WriteMessage(websocket.TextMessage, b)
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestExchange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var calls Calls[string]
	s := OpenSocket(SocketConfig{URL: echoAnswers(t), OnMessage: func(b []byte) { calls.Answer(string(b), "answer to "+string(b)) }})
	defer s.Close()
	var g Gate

	// The gate holds the request until the connection is ready.
	held, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := Exchange(held, &g, s, &calls, "r1", []byte("r1"), time.Second)
	stop()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("before Open: %v, want the context's deadline", err)
	}
	g.Open()
	got, err := Exchange(ctx, &g, s, &calls, "r1", []byte("r1"), 5*time.Second)
	if err != nil || got != "answer to r1" {
		t.Fatalf("Exchange = %q, %v", got, err)
	}
	// No answer in time: ErrNoAnswer.
	if _, err := Exchange(ctx, &g, s, &calls, "silent", []byte("silent"), 100*time.Millisecond); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("silent: %v, want ErrNoAnswer", err)
	}
	// No socket, or a shut gate.
	if _, err := Exchange[string](ctx, &g, nil, &calls, "x", []byte("x"), time.Second); !errors.Is(err, ErrSocketClosed) {
		t.Fatalf("no socket: %v", err)
	}
	over := errors.New("over")
	g.Shut(over)
	if _, err := Exchange(ctx, &g, s, &calls, "x", []byte("x"), time.Second); !errors.Is(err, over) {
		t.Fatalf("shut gate: %v", err)
	}
}

func TestGenerations(t *testing.T) {
	var g Generations
	first := g.Next()
	if !first() {
		t.Fatal("the first generation is not current")
	}
	second := g.Next()
	if first() || !second() {
		t.Fatalf("after Next: first %v, second %v; want false, true", first(), second())
	}
}
