package stream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// TestHandshakeStatus: a handshake the server refuses reaches OnState as
// a *HandshakeError with its status (and the same text as before); other
// errors have none.
func TestHandshakeStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no such session", http.StatusUnauthorized)
	}))
	defer srv.Close()
	errs := make(chan error, 4)
	s := OpenSocket(SocketConfig{
		URL:     "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?token=secret",
		OnState: func(up bool, err error) { errs <- err },
		Backoff: retry.Backoff{Min: time.Second, Max: time.Second},
		Dialer:  &websocket.Dialer{HandshakeTimeout: time.Second},
	})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	select {
	case err = <-errs:
	case <-ctx.Done():
		t.Fatal("no OnState")
	}
	status, ok := HandshakeStatus(err)
	if !ok || status != http.StatusUnauthorized {
		t.Fatalf("HandshakeStatus(%v) = %d, %v", err, status, ok)
	}
	if msg := err.Error(); !strings.Contains(msg, "(HTTP 401)") || strings.Contains(msg, "secret") {
		t.Fatalf("error text %q: want the status, not the query", msg)
	}
	if _, ok := HandshakeStatus(context.Canceled); ok {
		t.Fatal("a status for an error that has none")
	}
}
