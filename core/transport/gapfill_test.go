package transport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
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

func TestPacerSpacesCalls(t *testing.T) {
	p := &Pacer{Interval: 40 * time.Millisecond}
	ctx := context.Background()
	start := time.Now()
	for range 4 {
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 110*time.Millisecond {
		t.Fatalf("4 paced calls took %v, want ≥ 120ms", el)
	}
	p.Defer(150 * time.Millisecond)
	start = time.Now()
	_ = p.Wait(ctx)
	if el := time.Since(start); el < 140*time.Millisecond {
		t.Fatalf("after Defer(150ms) waited %v", el)
	}
	p.Defer(time.Hour)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := p.Wait(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait past ctx: %v", err)
	}
}

func TestThrottle(t *testing.T) {
	th := &Throttle{Interval: 50 * time.Millisecond}
	if !th.Allow() || th.Allow() {
		t.Fatal("want the first through and the second held")
	}
	time.Sleep(60 * time.Millisecond)
	if !th.Allow() {
		t.Fatal("want through after the interval")
	}
	th.Reset()
	if !th.Allow() {
		t.Fatal("want through after Reset")
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
		Backoff: Backoff{Min: 5 * time.Millisecond, Max: 10 * time.Millisecond},
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

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("Sleep cut short without a reason")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep outlived its context")
	}
}
