package flow

import (
	"context"
	"fmt"
	"slices"
)

// Subscription reads a session's events from a cursor on. It holds no
// goroutine and no buffer: Next reads the session's log, so a slow reader
// never slows the session. Only one goroutine may call Next at a time.
type Subscription struct {
	s      *Session
	cursor uint64
	done   chan struct{}
	closed bool
	// AfterNext's function, and whether it waits in the session's wakers;
	// guarded by the session's mu.
	wake  func()
	armed bool
}

// maxBatch bounds the events one Next returns.
const maxBatch = 256

// Subscribe returns a subscription to the events after Seq from (0: all).
func (s *Session) Subscribe(from uint64) *Subscription {
	return &Subscription{s: s, cursor: from, done: make(chan struct{})}
}

// Cursor returns the Seq of the last event Next returned.
func (sub *Subscription) Cursor() uint64 { return sub.cursor }

// Close ends the subscription; a blocked Next returns ErrClosed.
func (sub *Subscription) Close() {
	sub.s.mu.Lock()
	defer sub.s.mu.Unlock()
	if !sub.closed {
		sub.closed = true
		close(sub.done)
		if sub.disarm() {
			go sub.wake()
		}
	}
}

// TryNext is Next without the wait: the events after the cursor (at most
// 256, none when there are none yet), advancing the cursor; ErrClosed
// once the subscription or the session is closed and nothing is left.
func (sub *Subscription) TryNext(ctx context.Context) ([]Event, error) {
	s := sub.s
	evs, err := s.eventsSince(ctx, sub.cursor, maxBatch)
	if err != nil {
		return nil, err
	}
	if len(evs) > 0 {
		sub.cursor = evs[len(evs)-1].Seq
		return evs, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub.closed || s.closed {
		return nil, fmt.Errorf("flow: session %s: subscription: %w", s.id, ErrClosed)
	}
	return nil, nil
}

// AfterNext arranges for f to run, once, on a goroutine of its own, when
// there are events after the cursor or the subscription or session is
// closed: at once if that is so already. It is how a reader that holds
// no goroutine while idle (the gateway's event writer) learns that
// TryNext has something. A subscription has one such f at a time: a
// second AfterNext before the first ran replaces it.
func (sub *Subscription) AfterNext(f func()) {
	s := sub.s
	s.mu.Lock()
	if sub.closed || s.closed || s.events.last > sub.cursor {
		s.mu.Unlock()
		go f()
		return
	}
	sub.wake = f
	if !sub.armed {
		sub.armed = true
		s.wakers = append(s.wakers, sub)
	}
	s.mu.Unlock()
}

// StopAfterNext cancels AfterNext's f if it has not started, and reports
// whether it did so.
func (sub *Subscription) StopAfterNext() bool {
	sub.s.mu.Lock()
	defer sub.s.mu.Unlock()
	return sub.disarm()
}

// disarm takes the subscription off its session's wakers; s.mu is held.
func (sub *Subscription) disarm() bool {
	if !sub.armed {
		return false
	}
	sub.armed = false
	if i := slices.Index(sub.s.wakers, sub); i >= 0 {
		sub.s.wakers = slices.Delete(sub.s.wakers, i, i+1)
	}
	return true
}

// wake wakes the readers waiting for events: Next's channel, AfterNext's
// functions. s.mu is held.
func (s *Session) wake() {
	if s.notify != nil {
		close(s.notify)
		s.notify = nil
	}
	for _, sub := range s.wakers {
		sub.armed = false
		go sub.wake()
	}
	clear(s.wakers)
	s.wakers = s.wakers[:0]
}

// Next blocks until there are events after the cursor and returns them in
// order (at most 256), advancing the cursor. Errors: ctx's, ErrClosed, or
// ErrEventsTrimmed when the events after the cursor are no longer kept in
// memory nor in the Store.
func (sub *Subscription) Next(ctx context.Context) ([]Event, error) {
	s := sub.s
	for {
		evs, err := sub.TryNext(ctx)
		if err != nil || len(evs) > 0 {
			return evs, err
		}
		s.mu.Lock()
		if sub.closed || s.closed || s.events.last > sub.cursor { // changed while we looked
			s.mu.Unlock()
			continue
		}
		if s.notify == nil {
			s.notify = make(chan struct{})
		}
		ch := s.notify
		s.mu.Unlock()
		select {
		case <-ch:
		case <-sub.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// EventsSince returns the events after seq (at most limit; 0: all kept), from
// memory or, for older ones, from the Store.
func (s *Session) EventsSince(ctx context.Context, seq uint64, limit int) ([]Event, error) {
	return s.eventsSince(ctx, seq, limit)
}

func (s *Session) eventsSince(ctx context.Context, seq uint64, limit int) ([]Event, error) {
	s.mu.Lock()
	last := s.events.last
	evs, ok := s.events.since(seq, limit)
	s.mu.Unlock()
	if seq > last {
		return nil, fmt.Errorf("flow: session %s: events after %d: %w: the newest event is %d", s.id, seq, ErrInvalid, last)
	}
	if ok {
		return evs, nil
	}
	evs, err := s.opts.Store.Events(ctx, s.id, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("flow: session %s: events after %d: %w", s.id, seq, err)
	}
	// The Store may hold a batch saved but not published yet (flush
	// appends it to the session's log right after the save): what is past
	// last is not the reader's yet, or its next read would start after
	// the newest published event.
	if i := slices.IndexFunc(evs, func(ev Event) bool { return ev.Seq > last }); i >= 0 {
		evs = evs[:i]
	}
	return evs, nil
}
