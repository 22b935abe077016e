package retry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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

// TestZeroBackoff: the zero value is the usual desk policy, 100ms doubling
// up to 5s.
func TestZeroBackoff(t *testing.T) {
	var b Backoff
	for range 200 {
		if d := b.Delay(0); d < 50*time.Millisecond || d > 100*time.Millisecond {
			t.Fatalf("first delay %v outside [50ms, 100ms]", d)
		}
		if d := b.Delay(20); d > 5*time.Second {
			t.Fatalf("delay %v past the 5s cap", d)
		}
	}
}

type laterErr time.Duration

func (e laterErr) Error() string             { return "later" }
func (e laterErr) RetryDelay() time.Duration { return time.Duration(e) }
func (e laterErr) Unwrap() error             { return servicedesk.ErrRateLimited }

func TestPolicyDo(t *testing.T) {
	ctx := context.Background()
	fast := Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}

	// Temporary errors are retried until the call works.
	n := 0
	err := Policy{Backoff: fast}.Do(ctx, func(attempt int) error {
		if attempt != n {
			t.Fatalf("attempt %d, want %d", attempt, n)
		}
		n++
		if n < 3 {
			return fmt.Errorf("send: %w", servicedesk.ErrUnavailable)
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("Do = %v after %d calls, want nil after 3", err, n)
	}

	// A permanent error ends it at once, unchanged.
	n = 0
	refused := fmt.Errorf("send: %w", servicedesk.ErrRejected)
	if err := (Policy{Backoff: fast}).Do(ctx, func(int) error { n++; return refused }); err != refused || n != 1 {
		t.Fatalf("Do = %v after %d calls, want the refusal after 1", err, n)
	}

	// Retries bound the tries after the first; the last error comes back.
	n = 0
	if err := (Policy{Backoff: fast, Retries: 2}).Do(ctx, func(int) error { n++; return servicedesk.ErrUnavailable }); !errors.Is(err, servicedesk.ErrUnavailable) || n != 3 {
		t.Fatalf("Do = %v after %d calls, want unavailable after 3", err, n)
	}

	// Retryable decides what is worth another try.
	n = 0
	boom := errors.New("boom")
	if err := (Policy{Backoff: fast, Retries: 1, Retryable: func(err error) bool { return err == boom }}).Do(ctx, func(int) error { n++; return boom }); err != boom || n != 2 {
		t.Fatalf("Do = %v after %d calls", err, n)
	}

	// An error's own RetryDelay replaces the backoff (capped at MaxRetryAfter).
	start := time.Now()
	n = 0
	_ = Policy{Backoff: Backoff{Min: time.Millisecond, Max: time.Millisecond, MaxRetryAfter: time.Second}}.Do(ctx, func(int) error {
		n++
		if n == 1 {
			return laterErr(80 * time.Millisecond)
		}
		return nil
	})
	if el := time.Since(start); el < 80*time.Millisecond {
		t.Fatalf("retried after %v, before the error's RetryDelay of 80ms", el)
	}

	// The context ending during a wait ends it, with both errors.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	err = Policy{Backoff: Backoff{Min: time.Hour, Max: time.Hour}}.Do(cctx, func(int) error { return servicedesk.ErrUnavailable })
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, servicedesk.ErrUnavailable) {
		t.Fatalf("Do past its context = %v", err)
	}
}

// NotSent: a connection never made is a request never sent; an error on a
// connection that was made, or any other, is not.
func TestNotSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	_, dialErr := net.Dial("tcp", addr)
	if dialErr == nil {
		t.Fatal("dialled a closed port")
	}
	if !NotSent(fmt.Errorf("post: %w", dialErr)) {
		t.Errorf("a refused dial: %v", dialErr)
	}
	read := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	for _, err := range []error{read, errors.New("boom"), nil} {
		if NotSent(err) {
			t.Errorf("%v counted as never sent", err)
		}
	}
}
