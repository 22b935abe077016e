package lifetime

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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
