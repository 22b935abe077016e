package stream

import (
	"context"
	"sync/atomic"
	"time"
)

// Exchange sends a request over a socket once its connection is ready and
// waits for the answer paired with it by id: Gate, Calls and the socket
// together, as a request/answer protocol over one WebSocket (CXone's
// eventId, LiveChat's request_id) uses them.
//
// Send fails with the Gate's Wait error (the context's, or its Shut cause),
// with ErrSocketClosed when there is no socket or it closed, with the
// socket's Send error, or with Call.Wait's: ErrNoAnswer when the answer did
// not come within timeout (the request was written: it may have been
// carried out), the Calls' Abort error when the connection went.
func Exchange[T any](ctx context.Context, g *Gate, s *Socket, calls *Calls[T], id string, frame []byte, timeout time.Duration) (T, error) {
	var zero T
	if err := g.Wait(ctx); err != nil {
		return zero, err
	}
	if s == nil {
		return zero, ErrSocketClosed
	}
	c := calls.Begin(id)
	defer c.Done()
	if err := s.Send(ctx, frame); err != nil {
		return zero, err
	}
	return c.Wait(ctx, timeout)
}

// Generations numbers a desk's successive sockets, so that the callbacks of
// one it stopped (a socket outlives its chat a little: it is stopped off
// the caller's goroutine) are told from the next one's. The zero value is
// ready; it is safe for concurrent use.
type Generations struct{ n atomic.Uint64 }

// Next starts a new generation and returns the test of being current: true
// until the next call of Next.
func (g *Generations) Next() (current func() bool) {
	n := g.n.Add(1)
	return func() bool { return g.n.Load() == n }
}
