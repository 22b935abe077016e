package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrNoAnswer is returned by Call.Wait when the answer did not come in
// time: the request may or may not have been carried out.
var ErrNoAnswer = errors.New("stream: no answer")

// Calls pairs requests sent over a socket with their answers, by the
// request id the protocol echoes back (LiveChat's request_id, Genesys's
// tracingId). A connection that goes down aborts the calls waiting on it,
// since their answers can no longer come. The zero value is ready.
type Calls[T any] struct {
	mu      sync.Mutex
	pending map[string]*Call[T]
}

// Call is one request waiting for its answer.
type Call[T any] struct {
	c    *Calls[T]
	id   string
	done chan struct{}
	once sync.Once
	v    T
	err  error
}

// Begin registers a call under id before its request is sent, so that an
// answer that comes at once is not missed. End it with Done.
func (c *Calls[T]) Begin(id string) *Call[T] {
	call := &Call[T]{c: c, id: id, done: make(chan struct{})}
	c.mu.Lock()
	if c.pending == nil {
		c.pending = map[string]*Call[T]{}
	}
	c.pending[id] = call
	c.mu.Unlock()
	return call
}

// Answer hands v to the call waiting under id; it reports whether one was.
func (c *Calls[T]) Answer(id string, v T) bool {
	c.mu.Lock()
	call := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if call == nil {
		return false
	}
	call.finish(v, nil)
	return true
}

// Abort ends every waiting call with err (the connection they were sent on
// is gone).
func (c *Calls[T]) Abort(err error) {
	c.mu.Lock()
	calls := c.pending
	c.pending = nil
	c.mu.Unlock()
	var zero T
	for _, call := range calls {
		call.finish(zero, err)
	}
}

func (call *Call[T]) finish(v T, err error) {
	call.once.Do(func() {
		call.v, call.err = v, err
		close(call.done)
	})
}

// Wait returns the answer, the Abort error, ErrNoAnswer after timeout, or
// the context's error.
func (call *Call[T]) Wait(ctx context.Context, timeout time.Duration) (T, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	var zero T
	select {
	case <-call.done:
		return call.v, call.err
	case <-t.C:
		return zero, fmt.Errorf("%w in %v", ErrNoAnswer, timeout)
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Done forgets the call; an answer that comes later is not waited for.
func (call *Call[T]) Done() {
	call.c.mu.Lock()
	if call.c.pending[call.id] == call {
		delete(call.c.pending, call.id)
	}
	call.c.mu.Unlock()
}

// Gate tells whether the current connection is ready for requests (its
// login or session handshake answered): Open when it is, Reset when the
// connection is lost, Wait to wait for the next ready one. The zero value
// is closed (not ready).
type Gate struct {
	mu    sync.Mutex
	ch    chan struct{}
	open  bool
	shut  bool
	cause error
}

func (g *Gate) chanLocked() chan struct{} {
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}

// Open lets waiters through until the next Reset.
func (g *Gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open && !g.shut {
		g.open = true
		close(g.chanLocked())
	}
}

// Reset makes waiters wait for the next Open.
func (g *Gate) Reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		g.open, g.ch = false, nil
	}
}

// Shut fails every Wait, now and later, with cause (the chat is over), until
// Renew.
func (g *Gate) Shut(cause error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.shut {
		g.shut, g.cause = true, cause
		if !g.open {
			close(g.chanLocked())
		}
	}
}

// Renew makes a shut gate a fresh closed one (a new chat).
func (g *Gate) Renew() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ch, g.open, g.shut, g.cause = nil, false, false, nil
}

// Wait returns nil once the gate is open, the Shut cause once it is shut,
// or the context's error.
func (g *Gate) Wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		if g.shut {
			err := g.cause
			g.mu.Unlock()
			return err
		}
		if g.open {
			g.mu.Unlock()
			return nil
		}
		ch := g.chanLocked()
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
