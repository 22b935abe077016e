package transport

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLifecycle(t *testing.T) {
	var l Lifecycle
	ctx, cancel := l.Bind(context.Background())
	defer cancel()
	started := make(chan struct{})
	var stopped atomic.Bool
	if !l.Go(func() { close(started); <-l.Context().Done(); stopped.Store(true) }) {
		t.Fatal("Go refused before Close")
	}
	<-started
	if !l.Close() || !stopped.Load() {
		t.Fatal("Close did not wait for the goroutine")
	}
	select { // AfterFunc cancels on a goroutine of its own: soon, not at once
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("a bound context outlived Close")
	}
	if l.Close() || l.Go(func() {}) || !l.Closed() {
		t.Fatal("after Close: second Close, Go or Closed wrong")
	}
}

type closer struct{ n *atomic.Int32 }

func (c *closer) Close() error { c.n.Add(1); return nil }

func TestSet(t *testing.T) {
	var n atomic.Int32
	var s Set[*closer]
	a, b := &closer{&n}, &closer{&n}
	_ = s.Add(a)
	_ = s.Add(b)
	s.Remove(b)
	if err := s.Close(); err != nil || n.Load() != 1 {
		t.Fatalf("Close: %v, %d closed", err, n.Load())
	}
	if err := s.Add(b); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close: %v", err)
	}
}

func TestIndicator(t *testing.T) {
	var mu sync.Mutex
	var got []bool
	i := &Indicator{Set: func(on bool) { mu.Lock(); got = append(got, on); mu.Unlock() }}
	i.On(30 * time.Millisecond)
	i.On(30 * time.Millisecond) // renewed
	time.Sleep(80 * time.Millisecond)
	i.Off() // already off
	i.On(time.Hour)
	i.Off()
	i.On(time.Hour)
	if !i.Stop() {
		t.Fatal("Stop of an on indicator reported off")
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []bool{true, true, false, true, false, true}; !slices.Equal(got, want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
}

// TestRecovery: a lost connection is reported once; the fill retries until
// it works; the end of the outage is reported after the history.
func TestRecovery(t *testing.T) {
	var l Lifecycle
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
		Backoff: Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond},
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
	var l Lifecycle
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
