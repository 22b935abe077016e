package vendorkit

import (
	"context"
	"log/slog"

	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
)

// Replay describes how a chat's live stream is made whole after a
// reconnection, for a vendor that replays nothing (or not all) on a new
// connection: the items missed are read back with Fetch and merged with
// the live ones by ID.
type Replay[T any] struct {
	// ID names an item: an item read back and also pushed live is
	// delivered once.
	ID func(T) string
	// Deliver receives each new item, in order, from one goroutine at a
	// time.
	Deliver func(T)
	// Seen, when set, tells an item a cursor already covers (across a
	// restart) as not new.
	Seen func(T) bool
	// Fetch reads the items since the last one delivered, oldest first.
	Fetch func(ctx context.Context) ([]T, error)
	// Ready, when set, waits until a new connection can serve Fetch (a
	// session handshake on it).
	Ready func(ctx context.Context) error
	// Gone, when set, tells an error after which reading back is
	// pointless (the chat is over); Over, when set, then acts on it.
	Gone func(error) bool
	Over func(error)
}

// Recover returns the gap filler and the recovery of chat c's stream
// from r: items delivered once and in order across reconnections, an
// outage reported to the customer (DISCONNECTED) while an agent is in and
// cleared once the gap is filled, fills retried with backoff. Offer live
// items to the gap filler; use the recovery's Handle as the socket's
// OnState.
func Recover[T any](c *Chat, r Replay[T], backoff retry.Backoff, log *slog.Logger) (*stream.GapFiller[T], *stream.Recovery[T]) {
	gap := &stream.GapFiller[T]{ID: r.ID, Deliver: r.Deliver, Seen: r.Seen}
	return gap, &stream.Recovery[T]{
		Gap:        gap,
		Fetch:      r.Fetch,
		Ready:      r.Ready,
		Fatal:      r.Gone,
		OnFatal:    r.Over,
		Reportable: c.AgentIn,
		Report:     c.ReportOutage,
		Backoff:    backoff,
		Logger:     log,
	}
}
