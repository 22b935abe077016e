package stream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/deskbridge/deskbridge/core/transport/lifetime"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

type item struct{ id, text string }

func newFiller(got *[]string, mu *sync.Mutex) *GapFiller[item] {
	return &GapFiller[item]{
		ID: func(it item) string { return it.id },
		Deliver: func(it item) {
			mu.Lock()
			*got = append(*got, it.text)
			mu.Unlock()
		},
	}
}

// TestGapFillerOrdersHistoryBeforeHeldLive: items that arrive live while
// the history is fetched come after the history, and overlaps are dropped.
func TestGapFillerOrdersHistoryBeforeHeldLive(t *testing.T) {
	var got []string
	var mu sync.Mutex
	g := newFiller(&got, &mu)
	g.Live(item{"1", "one"})
	g.Live(item{"2", "two"})
	// The socket drops; "3" and "4" happen during the outage; "5" arrives
	// live on the new socket while the fill is running; "4" too (overlap).
	inFetch := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- g.Fill(context.Background(), func(context.Context) ([]item, error) {
			close(inFetch)
			<-release
			return []item{{"2", "two"}, {"3", "three"}, {"4", "four"}}, nil
		})
	}()
	<-inFetch
	g.Live(item{"4", "four"})
	g.Live(item{"5", "five"})
	mu.Lock()
	if len(got) != 2 {
		t.Fatalf("live items delivered during the fill: %v", got)
	}
	mu.Unlock()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	g.Live(item{"5", "five"}) // a duplicate frame
	g.Live(item{"6", "six"})
	want := []string{"one", "two", "three", "four", "five", "six"}
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

func TestGapFillerFailedFillReleasesHeldItems(t *testing.T) {
	var got []string
	var mu sync.Mutex
	g := newFiller(&got, &mu)
	boom := errors.New("boom")
	err := g.Fill(context.Background(), func(context.Context) ([]item, error) {
		g.Live(item{"a", "a"})
		return []item{{"x", "never"}}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if !slices.Equal(got, []string{"a"}) {
		t.Fatalf("delivered %v", got)
	}
	// A retry delivers what the failed one did not.
	if err := g.Fill(context.Background(), func(context.Context) ([]item, error) {
		return []item{{"a", "a"}, {"x", "x"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"a", "x"}) {
		t.Fatalf("delivered %v", got)
	}
}

func TestGapFillerSeenAndMarkSeen(t *testing.T) {
	var got []string
	var mu sync.Mutex
	g := newFiller(&got, &mu)
	g.Seen = func(it item) bool { return it.id < "c" } // a cursor from before a restart
	g.MarkSeen("d")
	for _, id := range []string{"a", "b", "c", "d", "e", "e"} {
		g.Live(item{id, id})
	}
	if !slices.Equal(got, []string{"c", "e"}) {
		t.Fatalf("delivered %v", got)
	}
}

// TestGapFillerConcurrent: many live items racing with fills are delivered
// once each (run with -race).
func TestGapFillerConcurrent(t *testing.T) {
	var got []string
	var mu sync.Mutex
	g := newFiller(&got, &mu)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				id := fmt.Sprint(i)
				if i%10 == w {
					_ = g.Fill(context.Background(), func(context.Context) ([]item, error) {
						return []item{{id, id}}, nil
					})
					continue
				}
				g.Live(item{id, id})
			}
		}()
	}
	wg.Wait()
	if len(got) != 100 {
		t.Fatalf("%d items delivered, want 100 once each", len(got))
	}
}

// TestSocketLifetimeFunc: a per-connection lifetime recycles the
// connection (a new dial, OnOpen with first=false).
func TestSocketLifetimeFunc(t *testing.T) {
	srv := newWSServer(t)
	opens := make(chan bool, 8)
	var calls sync.Mutex
	n := 0
	sock := OpenSocket(SocketConfig{
		URL: wsURL(srv.Server),
		OnOpen: func(_ context.Context, first bool, _ func([]byte) error) error {
			opens <- first
			return nil
		},
		Lifetime: func() time.Duration {
			calls.Lock()
			defer calls.Unlock()
			n++
			if n == 1 {
				return 50 * time.Millisecond
			}
			return time.Hour
		},
		Backoff: retry.Backoff{Min: 5 * time.Millisecond, Max: 10 * time.Millisecond},
	})
	defer sock.Close()
	for i, want := range []bool{true, false} {
		select {
		case got := <-opens:
			if got != want {
				t.Fatalf("open %d first=%v", i, got)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("open %d never came: the lifetime did not recycle", i)
		}
	}
}

// TestGapFillHoldRunRetry: a hold taken when the connection comes up keeps
// live items back through a failed fetch until a retry succeeds.
func TestGapFillHoldRunRetry(t *testing.T) {
	var got []string
	var mu sync.Mutex
	g := newFiller(&got, &mu)
	g.Live(item{"1", "one"})
	h := g.Hold()
	g.Live(item{"4", "four"}) // live on the new connection
	if err := h.Run(context.Background(), func(context.Context) ([]item, error) { return nil, errors.New("503") }); err == nil {
		t.Fatal("want the fetch error")
	}
	if len(got) != 1 {
		t.Fatalf("delivered %v during a failed fill", got)
	}
	if err := h.Run(context.Background(), func(context.Context) ([]item, error) {
		return []item{{"1", "one"}, {"2", "two"}, {"3", "three"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	h.Release() // no effect after success
	g.Live(item{"5", "five"})
	if want := []string{"one", "two", "three", "four", "five"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

// TestRecovery: a lost connection is reported once; the fill retries until
// it works; the end of the outage is reported after the history.
func TestRecovery(t *testing.T) {
	var l lifetime.Lifecycle
	defer l.Close()
	var mu sync.Mutex
	var seen []string
	gap := &GapFiller[item]{ID: func(it item) string { return it.id }, Deliver: func(it item) {
		mu.Lock()
		seen = append(seen, it.text)
		mu.Unlock()
	}}
	var fetches atomic.Int32
	done := make(chan struct{})
	r := &Recovery[item]{
		Gap: gap,
		Fetch: func(context.Context) ([]item, error) {
			if fetches.Add(1) == 1 {
				return nil, errors.New("503")
			}
			return []item{{"2", "two"}}, nil
		},
		Reportable: func() bool { return true },
		Report: func(down bool) {
			mu.Lock()
			seen = append(seen, map[bool]string{true: "down", false: "up"}[down])
			mu.Unlock()
			if !down {
				close(done)
			}
		},
		Backoff: retry.Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond},
	}
	h := r.Handle(&l)
	gap.Live(item{"1", "one"})
	h(false, errors.New("read: EOF"))
	h(false, errors.New("dial: refused")) // reported once
	h(true, nil)
	gap.Live(item{"3", "three"}) // held until the fill is done
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the outage never ended")
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"one", "down", "two", "three", "up"}; !slices.Equal(seen, want) {
		t.Fatalf("saw %v, want %v", seen, want)
	}
}

func TestSocketSlot(t *testing.T) {
	srv := newWSServer(t)
	var l lifetime.Lifecycle
	var h SocketSlot
	open := func() *Socket { return OpenSocket(SocketConfig{URL: wsURL(srv.Server)}) }
	if !h.Open(open) || h.Open(open) || h.Get() == nil {
		t.Fatal("Open: want one socket, the second refused")
	}
	h.Stop(&l)
	if h.Get() != nil {
		t.Fatal("Stop left the socket in")
	}
	l.Close() // waits for the stop
	if !h.Open(open) {
		t.Fatal("Open after Stop refused")
	}
	h.Stop(&l) // l is closed: stopped on a goroutine of its own
	if !h.Open(open) {
		t.Fatal("Open after the second Stop refused")
	}
	h.Close()
	h.Close()
	time.Sleep(50 * time.Millisecond) // the untracked stop above ends too (goleak checks)
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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
		Backoff:   retry.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond},
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
		Backoff: retry.Backoff{Min: 5 * time.Millisecond, Max: 10 * time.Millisecond},
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
		Backoff: retry.Backoff{Min: time.Second, Max: time.Second},
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
		Backoff: retry.Backoff{Min: time.Hour, Max: time.Hour},
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
	sock := OpenSocket(SocketConfig{URL: wsURL(srv.Server), Backoff: retry.Backoff{Min: 5 * time.Millisecond, Max: 10 * time.Millisecond}})
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

// TestRecoveryOnlyTheNewestFillEndsTheOutage: the connection drops again
// while its fill runs, and comes back: the first fill finishing does not
// end the outage (the newer connection's gap is not filled yet); the
// newer one's does, once.
func TestRecoveryOnlyTheNewestFillEndsTheOutage(t *testing.T) {
	var l lifetime.Lifecycle
	defer l.Close()
	gap := &GapFiller[item]{ID: func(it item) string { return it.id }, Deliver: func(item) {}}
	release := []chan struct{}{make(chan struct{}), make(chan struct{})}
	var released [2]sync.Once
	let := func(i int) { released[i].Do(func() { close(release[i]) }) }
	defer func() { let(0); let(1) }() // before l.Close waits for the fills
	var fetches atomic.Int32
	reports := make(chan bool, 8)
	r := &Recovery[item]{
		Gap: gap,
		Fetch: func(ctx context.Context) ([]item, error) {
			n := fetches.Add(1)
			<-release[n-1]
			return nil, nil
		},
		Reportable: func() bool { return true },
		Report:     func(down bool) { reports <- down },
		Backoff:    retry.Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond},
	}
	h := r.Handle(&l)
	h(false, errors.New("read: EOF"))
	h(true, nil)
	for fetches.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	h(false, errors.New("read: EOF")) // dropped again during the first fill
	h(true, nil)
	for fetches.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	if down := <-reports; !down {
		t.Fatal("first report is not the outage")
	}
	let(0)
	select {
	case down := <-reports:
		t.Fatalf("the older connection's fill reported %v while the newer one's was still running", down)
	case <-time.After(50 * time.Millisecond):
	}
	let(1)
	select {
	case down := <-reports:
		if down {
			t.Fatal("a second outage reported")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the outage never ended")
	}
	select {
	case down := <-reports:
		t.Fatalf("one more report: %v", down)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestSocketStoppedIsMuted: a socket taken out of its slot says nothing
// more to its owner, though it closes later, off the owner's goroutine:
// not a last frame, not its end.
func TestSocketStoppedIsMuted(t *testing.T) {
	srv := newWSServer(t)
	speak := make(chan struct{})
	srv.onConn = func(c *websocket.Conn, _ int32) {
		<-speak
		_ = c.WriteMessage(websocket.TextMessage, []byte("late"))
		_ = c.Close()
	}
	var mu sync.Mutex
	var heard []string
	up := make(chan struct{}, 1)
	var h SocketSlot
	h.Open(func() *Socket {
		return OpenSocket(SocketConfig{URL: wsURL(srv.Server),
			OnMessage: func(b []byte) { mu.Lock(); heard = append(heard, string(b)); mu.Unlock() },
			OnState: func(isUp bool, _ error) {
				mu.Lock()
				heard = append(heard, fmt.Sprint("up=", isUp))
				mu.Unlock()
				if isUp {
					up <- struct{}{}
				}
			}})
	})
	select {
	case <-up:
	case <-time.After(5 * time.Second):
		t.Fatal("never connected")
	}
	var l lifetime.Lifecycle
	h.Stop(&l)
	close(speak)
	l.Close() // waits for the socket's close
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(heard, []string{"up=true"}) {
		t.Fatalf("the owner heard %q after Stop, want only the first up", heard)
	}
}
