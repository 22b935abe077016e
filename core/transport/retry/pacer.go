package retry

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Pacer spaces calls to a desk that limits their rate (Genesys takes two
// guest messages a second; Amazon Connect throttles typing events). Each
// Wait returns at the earliest Interval after the previous one, and after
// any pause a Defer asked for (a 429's Retry-After).
type Pacer struct {
	// Interval is the least time between two calls. 0: no pacing.
	Interval time.Duration

	mu   sync.Mutex
	next time.Time
}

// Wait blocks until the next call may go, or ctx ends.
func (p *Pacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.Interval)
	p.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("retry: pacer: %w", ctx.Err())
	}
}

// Defer holds every call for at least d from now.
func (p *Pacer) Defer(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if at := time.Now().Add(d); at.After(p.next) {
		p.next = at
	}
}

// Throttle lets an action through at most once per Interval (ChatJS sends
// a typing event at most once per 10 s). It never blocks.
type Throttle struct {
	Interval time.Duration

	mu   sync.Mutex
	last time.Time
}

// Allow reports whether the action may go now, and if so starts a new
// interval.
func (t *Throttle) Allow() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if !t.last.IsZero() && now.Sub(t.last) < t.Interval {
		return false
	}
	t.last = now
	return true
}

// Reset lets the next action through at once.
func (t *Throttle) Reset() {
	t.mu.Lock()
	t.last = time.Time{}
	t.mu.Unlock()
}

// Sleep waits d, or until ctx ends; it reports whether the whole d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
