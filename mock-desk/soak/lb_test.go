package soak

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeBackend serves /healthz (200 or 503 as health says) and, on any
// other path, answers its own name, so a test sees where a connection went.
type fakeBackend struct {
	name   string
	health atomic.Bool
	srv    *http.Server
	ln     net.Listener
}

func startBackend(t *testing.T, name string) *fakeBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &fakeBackend{name: name, ln: ln}
	b.health.Store(true)
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			if !b.health.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		}
		// A long-lived stream: its name, then whatever comes.
		w.Header().Set("Connection", "close")
		fmt.Fprintln(w, b.name)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		<-r.Context().Done()
	})}
	go func() { _ = b.srv.Serve(ln) }()
	t.Cleanup(func() { _ = b.srv.Close() })
	return b
}

func (b *fakeBackend) addr() string { return b.ln.Addr().String() }

// kill closes the backend's listener and its connections, as a process
// killed with -9 does.
func (b *fakeBackend) kill() { _ = b.srv.Close() }

// open opens a connection through the balancer and returns it with the
// name of the backend that answered ("" when the balancer cut it).
func open(t *testing.T, lb *LB) (net.Conn, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", lb.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return c, ""
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return c, ""
	}
	_ = c.SetDeadline(time.Time{})
	return c, strings.TrimSpace(line)
}

func newTestLB(t *testing.T, bs ...*fakeBackend) *LB {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var addrs []string
	for _, b := range bs {
		addrs = append(addrs, b.addr())
	}
	lb, err := NewLB(ctx, "127.0.0.1:0", addrs, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = lb.Close() })
	return lb
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLBRoundRobin(t *testing.T) {
	a, b, c := startBackend(t, "a"), startBackend(t, "b"), startBackend(t, "c")
	lb := newTestLB(t, a, b, c)
	got := map[string]int{}
	for range 9 {
		_, name := open(t, lb)
		got[name]++
	}
	if got["a"] != 3 || got["b"] != 3 || got["c"] != 3 {
		t.Fatalf("9 connections over 3 backends went %v, want 3 each", got)
	}
	waitFor(t, "9 active connections", func() bool {
		act := lb.Active()
		return act[0] == 3 && act[1] == 3 && act[2] == 3
	})
}

func TestLBSkipsUnhealthy(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	lb := newTestLB(t, a, b)
	b.health.Store(false)
	waitFor(t, "b unhealthy", func() bool { return !lb.Healthy()[1] })
	for range 4 {
		if _, name := open(t, lb); name != "a" {
			t.Fatalf("a connection went to %q while b was unhealthy", name)
		}
	}
	b.health.Store(true)
	waitFor(t, "b healthy again", func() bool { return lb.Healthy()[1] })
	got := map[string]int{}
	for range 4 {
		_, name := open(t, lb)
		got[name]++
	}
	if got["b"] == 0 {
		t.Fatalf("b healthy again but got no connection: %v", got)
	}
}

func TestLBDeadBackend(t *testing.T) {
	a, b := startBackend(t, "a"), startBackend(t, "b")
	lb := newTestLB(t, a, b)
	var onB net.Conn
	for onB == nil {
		c, name := open(t, lb)
		if name == "b" {
			onB = c
		}
	}
	b.kill()
	// The connection through the dead backend is cut.
	_ = onB.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadAll(onB); err != nil {
		t.Fatalf("the connection to the killed backend was not closed: %v", err)
	}
	// Before health notices, a dial failure skips it; after, it is out.
	for range 4 {
		if _, name := open(t, lb); name != "a" {
			t.Fatalf("a connection went to %q after b died", name)
		}
	}
	waitFor(t, "b unhealthy", func() bool { return !lb.Healthy()[1] })
	// Nobody healthy: the connection is refused (closed at once).
	a.kill()
	waitFor(t, "a unhealthy", func() bool { return !lb.Healthy()[0] })
	if _, name := open(t, lb); name != "" {
		t.Fatalf("with no backend alive a connection reached %q", name)
	}
	if _, refused := lb.Stats(); refused == 0 {
		t.Fatal("no refused connection counted")
	}
}

func TestLBCloseCutsConnections(t *testing.T) {
	a := startBackend(t, "a")
	lb := newTestLB(t, a)
	c, name := open(t, lb)
	if name != "a" {
		t.Fatalf("went to %q", name)
	}
	if err := lb.Close(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("the connection outlived the balancer: %v", err)
	}
}

func TestPlanFaults(t *testing.T) {
	kinds := FaultKindsFor("websocket")
	plan := func(seed uint64, n int) []string { return planFaults(rand.New(rand.NewPCG(seed, 1)), kinds, n) }
	p := plan(7, 50)
	if len(p) != 50 {
		t.Fatalf("%d faults planned, want 50", len(p))
	}
	for _, k := range kinds {
		if !slices.Contains(p, k) {
			t.Fatalf("no %s in the plan", k)
		}
	}
	if !slices.Equal(p, plan(7, 50)) {
		t.Fatal("the same seed planned different faults")
	}
	if slices.Equal(p, plan(8, 50)) {
		t.Fatal("another seed planned the same faults")
	}
}
