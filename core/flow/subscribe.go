package flow

import (
	"context"
	"fmt"
)

// Subscription reads a session's events from a cursor on. It holds no
// goroutine and no buffer: Next reads the session's log, so a slow reader
// never slows the session. Only one goroutine may call Next at a time.
type Subscription struct {
	s      *Session
	cursor uint64
	done   chan struct{}
	closed bool
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
	}
}

// Next blocks until there are events after the cursor and returns them in
// order (at most 256), advancing the cursor. Errors: ctx's, ErrClosed, or
// ErrEventsTrimmed when the events after the cursor are no longer kept in
// memory nor in the Store.
func (sub *Subscription) Next(ctx context.Context) ([]Event, error) {
	s := sub.s
	for {
		evs, err := s.eventsSince(ctx, sub.cursor, maxBatch)
		if err != nil {
			return nil, err
		}
		if len(evs) > 0 {
			sub.cursor = evs[len(evs)-1].Seq
			return evs, nil
		}
		s.mu.Lock()
		if sub.closed || s.closed {
			s.mu.Unlock()
			return nil, fmt.Errorf("flow: session %s: subscription: %w", s.id, ErrClosed)
		}
		if s.events.last > sub.cursor { // published while we looked
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
	return evs, nil
}
