package stream

import (
	"context"
	"log/slog"
	"sync"

	"github.com/deskbridge/deskbridge/core/transport/lifetime"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// Recovery keeps a desk's live stream whole across reconnections: it
// reports an outage once, fills the gap after every connection (retrying
// with backoff), and reports the end of the outage when the fill is done.
// Use Handle as a SocketConfig.OnState.
type Recovery[T any] struct {
	// Gap delivers the stream; Fetch reads the history since the last item.
	Gap   *GapFiller[T]
	Fetch func(ctx context.Context) ([]T, error)
	// Ready, when set, waits until a new connection can serve the fetch
	// (a session handshake on it).
	Ready func(ctx context.Context) error
	// Fatal, when set, tells errors after which retrying is pointless (the
	// chat is gone); OnFatal then runs instead of more tries.
	Fatal   func(error) bool
	OnFatal func(error)
	// Reportable tells whether an outage is worth reporting now (an agent
	// was in the chat and it is not over).
	Reportable func() bool
	// Report is told true when a connection is lost, false when it is back
	// and the gap is filled.
	Report  func(down bool)
	Backoff retry.Backoff
	Logger  *slog.Logger

	// mu guards down and conns, and is held while Report runs, so that
	// reports come in the order of the changes they tell: a fill that
	// ends as the connection drops again cannot have its "back" told
	// after the drop's "down" (which would leave DISCONNECTED up for good).
	mu    sync.Mutex
	down  bool   // an outage is reported and not yet over
	conns uint64 // connections up so far: only the newest one's fill ends an outage
}

// Handle returns the OnState handler for a socket whose goroutines live in
// l.
func (r *Recovery[T]) Handle(l *lifetime.Lifecycle) func(up bool, err error) {
	return func(up bool, err error) {
		if !up {
			if err == nil {
				return
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if !r.down && r.Reportable() {
				r.down = true
				r.Report(true)
			}
			return
		}
		r.mu.Lock()
		r.conns++
		conn := r.conns
		r.mu.Unlock()
		// Hold live items from now, before the connection reads a frame.
		h := r.Gap.Hold()
		if !l.Go(func() { r.run(l.Context(), h, conn) }) {
			h.Release()
		}
	}
}

func (r *Recovery[T]) run(ctx context.Context, h *GapFill[T], conn uint64) {
	fatal := func(err error) bool { return r.Fatal != nil && r.Fatal(err) }
	// Anything but a fatal error is worth another try: the desk will come
	// back, and the chat's history with it.
	policy := retry.Policy{Backoff: r.Backoff, Retryable: func(err error) bool { return !fatal(err) }}
	err := policy.Do(ctx, func(attempt int) error {
		var err error
		if r.Ready != nil {
			err = r.Ready(ctx)
		}
		if err == nil {
			err = h.Run(ctx, r.Fetch)
		}
		if err != nil && ctx.Err() == nil && !fatal(err) && r.Logger != nil {
			r.Logger.Warn("stream: gap fill failed", "err", err, "attempt", attempt)
		}
		return err
	})
	if err != nil {
		h.Release()
		if ctx.Err() == nil && fatal(err) && r.OnFatal != nil {
			r.OnFatal(err)
		}
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// An older connection's fill does not end the outage: the newest
	// connection's fill, which follows it, will.
	if r.down && conn == r.conns {
		r.down = false
		if r.Reportable() {
			r.Report(false)
		}
	}
}
