package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackoffDelayGrowsWithJitterAndCap(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for attempt := range 10 {
		ceiling := min(100*time.Millisecond<<attempt, time.Second)
		for range 200 {
			d := b.Delay(attempt)
			if d < 50*time.Millisecond || d > ceiling {
				t.Fatalf("attempt %d: delay %v outside [50ms, %v]", attempt, d, ceiling)
			}
		}
	}
	// Jitter: delays at one attempt are not all equal.
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[b.Delay(5)] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct delays: no jitter?", len(seen))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	resp := func(v string) *http.Response {
		return &http.Response{Header: http.Header{"Retry-After": {v}}}
	}
	cases := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
		{"-1", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		got, ok := RetryAfter(resp(c.v), now)
		if got != c.want || ok != c.ok {
			t.Errorf("Retry-After %q = %v, %v; want %v, %v", c.v, got, ok, c.want, c.ok)
		}
	}
	b := Backoff{Min: time.Millisecond, Max: time.Second, MaxRetryAfter: 2 * time.Second}
	if got := b.After(0, resp("3600"), now); got != 2*time.Second {
		t.Errorf("Retry-After not capped: %v", got)
	}
	if got := b.After(0, resp("1"), now); got != time.Second {
		t.Errorf("Retry-After not honoured: %v", got)
	}
}

func TestWebhookSignatures(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"event":"agent_joined"}`)
	old, cur := []byte("old-secret"), []byte("new-secret")
	v := Verifier{Secrets: [][]byte{cur, old}, Now: func() time.Time { return now }}
	if err := v.Verify(Sign(cur, now, body), body); err != nil {
		t.Errorf("current secret: %v", err)
	}
	if err := v.Verify(Sign(old, now.Add(-4*time.Minute), body), body); err != nil {
		t.Errorf("old secret during rotation, 4 minutes old: %v", err)
	}
	bad := []struct {
		name   string
		header string
		body   []byte
		want   error
	}{
		{"tampered body", Sign(cur, now, body), []byte(`{"event":"agent_left"}`), ErrBadSignature},
		{"unknown secret", Sign([]byte("x"), now, body), body, ErrBadSignature},
		{"stale", Sign(cur, now.Add(-6*time.Minute), body), body, ErrStaleSignature},
		{"future", Sign(cur, now.Add(6*time.Minute), body), body, ErrStaleSignature},
		{"empty", "", body, ErrBadSignature},
		{"no v1", "t=1800000000", body, ErrBadSignature},
		{"bad hex", "t=1800000000,v1=zz", body, ErrBadSignature},
		{"bad time", "t=abc,v1=00", body, ErrBadSignature},
	}
	for _, c := range bad {
		if err := v.Verify(c.header, c.body); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("t=1800000000,v1=abcd", []byte("{}"))
	f.Add("v1=,t=", []byte(""))
	v := Verifier{Secrets: [][]byte{[]byte("s")}, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if v.Verify(header, body) == nil && header != Sign([]byte("s"), time.Unix(1_800_000_000, 0), body) {
			// Only a real signature may pass; any other header that passes
			// must carry the right v1 among others.
			if !strings.Contains(header, Sign([]byte("s"), time.Unix(1_800_000_000, 0), body)[len("t=1800000000,"):]) {
				t.Fatalf("forged header accepted: %q", header)
			}
		}
	})
}

func TestDeduper(t *testing.T) {
	d := NewDeduper(3)
	for _, id := range []string{"a", "b", "c"} {
		if !d.First(id) {
			t.Fatalf("%s not new", id)
		}
	}
	if d.First("a") || d.First("c") {
		t.Fatal("repeat passed")
	}
	d.First("d") // pushes "a" out
	if !d.First("a") {
		t.Fatal("forgotten id still remembered beyond capacity")
	}
	if !d.First("") || !d.First("") {
		t.Fatal("empty ids must always pass")
	}
}

func TestSequencerOrdersAndFindsGaps(t *testing.T) {
	s := NewSequencer[string](0, 0)
	var got []string
	push := func(seq uint64) bool {
		ready, gap := s.Push(seq, fmt.Sprint(seq))
		got = append(got, ready...)
		return gap
	}
	if push(1) {
		t.Fatal("gap after 1")
	}
	if !push(3) || !push(4) {
		t.Fatal("no gap reported with 2 missing")
	}
	if push(2) {
		t.Fatal("gap still open after 2")
	}
	push(2) // duplicate
	push(4) // duplicate
	push(5)
	if strings.Join(got, ",") != "1,2,3,4,5" || s.Last() != 5 {
		t.Fatalf("got %v, last %d", got, s.Last())
	}
}

func TestSequencerBoundsWaitingItems(t *testing.T) {
	s := NewSequencer[int](0, 2)
	s.Push(3, 3)
	s.Push(4, 4)
	ready, gap := s.Push(5, 5)
	if len(ready) != 3 || gap || s.Last() != 5 {
		t.Fatalf("ready %v gap %v last %d", ready, gap, s.Last())
	}
}

// wsServer is a loopback WebSocket server whose behaviour tests steer.
type wsServer struct {
	*httptest.Server
	conns    atomic.Int32
	closes   chan int
	received chan string
	mu       sync.Mutex
	onConn   func(c *websocket.Conn, n int32)
	live     []*websocket.Conn
}

// dropAll cuts every live connection without a close frame, as a network
// failure would. (httptest's CloseClientConnections does not see hijacked
// connections.)
func (s *wsServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.live {
		_ = c.UnderlyingConn().Close()
	}
	s.live = nil
}

func newWSServer(t *testing.T) *wsServer {
	s := &wsServer{closes: make(chan int, 16), received: make(chan string, 256)}
	up := websocket.Upgrader{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		n := s.conns.Add(1)
		s.mu.Lock()
		s.live = append(s.live, c)
		s.mu.Unlock()
		c.SetCloseHandler(func(code int, text string) error {
			s.closes <- code
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
			return nil
		})
		s.mu.Lock()
		on := s.onConn
		s.mu.Unlock()
		if on != nil {
			on(c, n)
			return
		}
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				c.Close()
				return
			}
			s.received <- string(data)
			_ = c.WriteMessage(websocket.TextMessage, append([]byte("echo:"), data...))
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

func TestSocketEchoReconnectAndResume(t *testing.T) {
	srv := newWSServer(t)
	var opens []bool
	var mu sync.Mutex
	msgs := make(chan string, 64)
	states := make(chan bool, 16)
	sock := OpenSocket(SocketConfig{
		URL: wsURL(srv.Server),
		OnOpen: func(_ context.Context, first bool, send func([]byte) error) error {
			mu.Lock()
			opens = append(opens, first)
			mu.Unlock()
			return send([]byte(fmt.Sprintf("resume first=%v", first)))
		},
		OnMessage: func(b []byte) { msgs <- string(b) },
		OnState:   func(up bool, _ error) { states <- up },
		Backoff:   Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond},
	})
	defer sock.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got := <-msgs; got != "echo:resume first=true" {
		t.Fatalf("first frame %q", got)
	}
	if err := sock.Send(ctx, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got := <-msgs; got != "echo:hello" {
		t.Fatalf("echo %q", got)
	}
	// The server drops every connection: the socket comes back and resumes.
	srv.dropAll()
	if got := <-msgs; got != "echo:resume first=false" {
		t.Fatalf("after reconnect %q", got)
	}
	if err := sock.Send(ctx, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if got := <-msgs; got != "echo:again" {
		t.Fatalf("echo after reconnect %q", got)
	}
	var seq []bool
	for len(seq) < 3 {
		seq = append(seq, <-states)
	}
	if !seq[0] || seq[1] || !seq[2] {
		t.Errorf("states %v, want up, down, up", seq)
	}
	must(t, sock.Close())
	select {
	case code := <-srv.closes:
		if code != websocket.CloseNormalClosure {
			t.Errorf("close code %d", code)
		}
	case <-time.After(2 * time.Second):
		t.Error("server saw no close frame: no clean close handshake")
	}
	if err := sock.Send(ctx, []byte("late")); !errors.Is(err, ErrSocketClosed) {
		t.Errorf("send after close: %v", err)
	}
	must(t, sock.Close()) // idempotent
}

func TestSocketDetectsSilentPeer(t *testing.T) {
	srv := newWSServer(t)
	block := make(chan struct{})
	defer close(block)
	srv.onConn = func(c *websocket.Conn, n int32) {
		if n == 1 {
			// Never reads, so never answers pings: a dead peer.
			<-block
			c.Close()
			return
		}
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}
	downs := make(chan error, 4)
	sock := OpenSocket(SocketConfig{
		URL:          wsURL(srv.Server),
		PingInterval: 20 * time.Millisecond,
		PongWait:     60 * time.Millisecond,
		OnState: func(up bool, err error) {
			if !up {
				downs <- err
			}
		},
		Backoff: Backoff{Min: 5 * time.Millisecond, Max: 10 * time.Millisecond},
	})
	defer sock.Close()
	select {
	case err := <-downs:
		if err == nil {
			t.Fatal("down without a cause")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("silent peer never detected")
	}
	deadline := time.Now().Add(3 * time.Second)
	for srv.conns.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no reconnect after the silent peer")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSocketReadLimit(t *testing.T) {
	srv := newWSServer(t)
	srv.onConn = func(c *websocket.Conn, n int32) {
		_ = c.WriteMessage(websocket.TextMessage, make([]byte, 2048))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}
	downs := make(chan error, 4)
	got := make(chan int, 4)
	sock := OpenSocket(SocketConfig{
		URL:       wsURL(srv.Server),
		ReadLimit: 1024,
		OnMessage: func(b []byte) { got <- len(b) },
		OnState: func(up bool, err error) {
			if !up && err != nil {
				downs <- err
			}
		},
		Backoff: Backoff{Min: time.Second, Max: time.Second},
	})
	defer sock.Close()
	select {
	case err := <-downs:
		if !strings.Contains(err.Error(), "read limit") {
			t.Errorf("cause %v", err)
		}
	case n := <-got:
		t.Fatalf("oversized frame of %d bytes delivered", n)
	case <-time.After(3 * time.Second):
		t.Fatal("oversized frame not refused")
	}
}

func TestSocketCloseWhileDialling(t *testing.T) {
	sock := OpenSocket(SocketConfig{
		URL:     "ws://127.0.0.1:1/unreachable",
		Backoff: Backoff{Min: time.Hour, Max: time.Hour},
	})
	time.Sleep(20 * time.Millisecond)
	done := make(chan struct{})
	go func() { sock.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close blocked while the socket was backing off")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := sock.Send(ctx, []byte("x")); !errors.Is(err, ErrSocketClosed) {
		t.Errorf("send: %v", err)
	}
}

func TestSocketSendWaitsForConnection(t *testing.T) {
	srv := newWSServer(t)
	var allow atomic.Bool
	srv.Config.Handler = wrapGate(srv.Config.Handler, &allow)
	sock := OpenSocket(SocketConfig{URL: wsURL(srv.Server), Backoff: Backoff{Min: 5 * time.Millisecond, Max: 10 * time.Millisecond}})
	defer sock.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	err := sock.Send(ctx, []byte("early"))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send while the server refuses: %v", err)
	}
	allow.Store(true)
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	must(t, sock.Send(ctx, []byte("later")))
	if got := <-srv.received; got != "later" {
		t.Fatalf("server got %q", got)
	}
}

func wrapGate(h http.Handler, allow *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allow.Load() {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
