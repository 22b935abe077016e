package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
)

// tryHello sends a hello and returns the answer (welcome or error).
func (c *client) tryHello(token string) frame {
	c.t.Helper()
	c.send(map[string]any{"op": "hello", "id": "h", "token": token, "mode": modeFlow})
	return c.next("hello answer", func(f frame) bool { return f.Re == "h" })
}

// flood opens and closes n sockets with a fresh hello from src, the way
// the lock-out attack did, and returns how many got a session.
func (e *env) flood(src string, n int) (welcomed int) {
	e.t.Helper()
	for range n {
		c, _, err := e.dialFrom(src, nil)
		if err != nil {
			continue
		}
		if f := c.tryHello(""); f.Type == typeWelcome {
			welcomed++
		}
		c.ws.Close()
		<-c.done
	}
	return welcomed
}

// settle waits until the gateway saw every closed socket go.
func (e *env) settle() {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.gw.Stats().Connections > 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d sockets still open", e.gw.Stats().Connections)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFloodDoesNotLockOthersOut: one address opening sockets with hello as
// fast as it can gets a bounded number of sessions, cannot hold more than
// MaxConnsPerAddr sockets, and a visitor from another address still chats.
// Before admission control, the flood filled MaxSessions and the visitor
// got too_many_sessions.
func TestFloodDoesNotLockOthersOut(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Flow.MaxSessions = 40
		o.NewSessionsPerMinute = 10
		o.MaxConnsPerAddr = 5
	})
	got := e.flood("127.0.0.1", 100)
	if got > 12 { // the burst of 10, and what refills while the flood runs
		t.Errorf("one address made %d sessions; want about 10", got)
	}
	e.settle()
	// Sockets held open: the sixth from the address is refused with 429.
	for i := range 5 {
		if _, _, err := e.dialFrom("127.0.0.1", nil); err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
	}
	_, resp, err := e.dialFrom("127.0.0.1", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sixth socket from one address: err %v, resp %v: want 429", err, resp)
	}
	// A visitor from another address connects and chats.
	v, _, err := e.dialFrom("127.0.0.2", nil)
	mustf(t, err, "visitor dial")
	if f := v.tryHello(""); f.Type != typeWelcome {
		t.Fatalf("visitor hello: %+v", f.Error)
	}
	e.startAndJoin(v)
	st := e.gw.Stats()
	if st.Limited[limitNewSessionsAddr] == 0 || st.Limited[limitConnsPerAddr] == 0 {
		t.Errorf("limits bit but were not counted: %v", st.Limited)
	}
}

// TestEvictOldestChatless: at MaxSessions a new visitor takes the place of
// the oldest session that never started a chat; a session with a chat is
// never evicted. Before, the visitor was refused.
func TestEvictOldestChatless(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Flow.MaxSessions = 10
		o.NewSessionsPerMinute = -1
	})
	a := e.connect("", modeFlow, 0)
	e.startAndJoin(a)
	a.ws.Close()
	<-a.done
	if got := e.flood("127.0.0.1", 30); got != 30 {
		t.Fatalf("%d of 30 hellos welcomed at the cap; want all (evicting)", got)
	}
	if st := e.gw.Stats(); st.Sessions != 10 || st.Evicted < 20 {
		t.Fatalf("sessions %d, evicted %d: want 10 and at least 20", st.Sessions, st.Evicted)
	}
	back := e.connect(a.welcome.Token, modeFlow, 0)
	if back.welcome.Snapshot.State != flow.StateConnected || back.welcome.Snapshot.Chat != 1 {
		t.Fatalf("the session with a chat was evicted: %+v", back.welcome.Snapshot)
	}
}

// TestChatlessTTL: a session that never started a chat is forgotten after
// ChatlessTTL without a socket, long before IdleTTL; one with a chat is
// kept.
func TestChatlessTTL(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Flow.ChatlessTTL = 50 * time.Millisecond; o.Flow.IdleTTL = time.Hour })
	a := e.connect("", modeFlow, 0)
	e.startAndJoin(a)
	a.mustCall(opEndChat, nil)
	a.ws.Close()
	for range 5 {
		c := e.connect("", modeFlow, 0)
		c.ws.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.gw.Stats().Sessions != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions kept; want the one that chatted", e.gw.Stats().Sessions)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok := e.gw.Engine().Lookup(a.welcome.Session); !ok {
		t.Fatal("the session that chatted was forgotten")
	}
}

// TestTrustedProxy: behind a trusted proxy the limits count the forwarded
// address; a client cannot pick its address by writing X-Forwarded-For
// itself.
func TestTrustedProxy(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.MaxConnsPerAddr = 2
		o.TrustedProxies = []string{"127.0.0.1"}
	})
	xff := func(v string) http.Header { return http.Header{"X-Forwarded-For": {v}} }
	for _, ip := range []string{"203.0.113.7", "203.0.113.7"} {
		if _, _, err := e.dialFrom("127.0.0.1", xff(ip)); err != nil {
			t.Fatal(err)
		}
	}
	if _, resp, err := e.dialFrom("127.0.0.1", xff("203.0.113.7")); err == nil || resp.StatusCode != 429 {
		t.Fatalf("third socket of 203.0.113.7 through the proxy: %v", err)
	}
	// The client wrote a left part; the proxy appended the real address.
	if _, resp, err := e.dialFrom("127.0.0.1", xff("198.51.100.1, 203.0.113.7")); err == nil || resp.StatusCode != 429 {
		t.Fatalf("a spoofed left part changed the address: %v", err)
	}
	if _, _, err := e.dialFrom("127.0.0.1", xff("203.0.113.8")); err != nil {
		t.Fatalf("another client through the proxy: %v", err)
	}
	// 127.0.0.2 is no trusted proxy: its header is ignored.
	for range 2 {
		if _, _, err := e.dialFrom("127.0.0.2", xff("192.0.2.1")); err != nil {
			t.Fatal(err)
		}
	}
	if _, resp, err := e.dialFrom("127.0.0.2", xff("192.0.2.2")); err == nil || resp.StatusCode != 429 {
		t.Fatalf("an untrusted peer chose its address with X-Forwarded-For: %v", err)
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":               "192.0.2.1",
		"::ffff:192.0.2.1":        "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":    "2001:db8:1:2::/64",
		"2001:db8:1:3::1":         "2001:db8:1:3::/64",
		"fe80::1%eth0":            "fe80::/64",
		"2001:0db8:0001:0002::99": "2001:db8:1:2::/64",
	} {
		if got := addrKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("addrKey(%s) = %s, want %s", in, got, want)
		}
	}
}

// lockedBuffer is a log sink for tests.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// TestLimitLogsSampled: a client hammering a limit makes one log line per
// interval, not one per refused frame, and every refusal is counted.
// Before, each rate-limited frame was logged.
func TestLimitLogsSampled(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, func(o *Options) {
		o.RatePerSecond, o.Burst = 1, 1
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	c := e.connect("", modeFlow, 0)
	const n = 300
	for i := range n {
		c.send(map[string]any{"op": opPing, "id": strconv.Itoa(i)})
	}
	last := strconv.Itoa(n - 1)
	c.next("the last answer", func(f frame) bool { return f.Re == last })
	refused := e.gw.Stats().Limited[limitFrameRate]
	if refused < n-5 {
		t.Fatalf("%d of %d frames counted as rate-limited", refused, n)
	}
	if lines := logs.count("limit=" + limitFrameRate); lines != 1 {
		t.Fatalf("%d log lines for %d rate-limited frames; want 1", lines, refused)
	}
}
