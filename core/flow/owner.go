package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Owners is implemented by a Store that several engines share, one per
// server instance (stores/redis with an instance name): each session is
// driven by one engine at a time, its owner, which holds the session's
// desk connection. Ownership is a lease the store renews; a store write
// from an engine whose lease was taken over is refused by the store itself
// (fencing), so two engines never both drive one chat.
type Owners interface {
	// Claim makes this engine the owner of session id, or fails with an
	// error matching ErrOwnedElsewhere while another live engine owns it.
	// Claiming a session this engine owns already is a no-op.
	Claim(ctx context.Context, id string) error
	// Release gives the session up at once, so that another engine may
	// take it over without waiting for the lease to expire (a drain).
	Release(ctx context.Context, id string) error
	// Owns reports whether this engine's lease on id still holds by its
	// own clock; false once it may have expired. Desk calls wait on it.
	Owns(id string) bool
	// OnLost registers fn, called from any goroutine with each session
	// whose lease this engine lost (taken over while this process was
	// paused or cut off from the store).
	OnLost(fn func(id string))
	// Orphans returns up to limit sessions whose chat is running and whose
	// owner is gone (its lease expired or was released).
	Orphans(ctx context.Context, limit int) ([]string, error)
}

// Errors of shared stores.
var (
	// ErrOwnedElsewhere: another engine owns the session now; send its
	// commands there.
	ErrOwnedElsewhere = errors.New("flow: session owned by another instance")
	// ErrNotOwner: this engine does not own the session (any more): the
	// store refused its write, or its lease may have expired.
	ErrNotOwner = errors.New("flow: this instance does not own the session")
)

// lost stops a session whose lease this engine lost: another engine drives
// its chat now. Nothing is ended and nothing is released; the session's
// desk connection closes, and sockets on it see the session close.
func (e *Engine) lost(id string) {
	e.mu.Lock()
	s, ok := e.sessions[id]
	if ok {
		delete(e.sessions, id)
	}
	e.mu.Unlock()
	if !ok {
		return
	}
	e.gone(s)
	e.lostCount.Add(1)
	e.opts.Logger.Warn("flow: lost the ownership of a session; another instance drives it now", "session", id)
	s.close()
	e.spawn(func() {
		if c, ok := s.desk.(io.Closer); ok {
			if err := c.Close(); err != nil {
				e.opts.Logger.Warn("flow: close the desk of a lost session", "session", id, "err", err)
			}
		}
	})
}

// Adopt takes over chats whose owner is gone (a crashed or paused
// instance): up to limit of them are claimed and resumed through their
// desks' Reconnect, as after a restart. Servers sharing a store call it
// now and then; it returns how many it took. With a store that is not
// shared it does nothing.
func (e *Engine) Adopt(ctx context.Context, limit int) (int, error) {
	owners, ok := e.opts.Store.(Owners)
	if !ok {
		return 0, nil
	}
	ids, err := owners.Orphans(ctx, limit)
	if err != nil {
		return 0, fmt.Errorf("flow: adopt: %w", err)
	}
	todo := ids[:0]
	for _, id := range ids {
		if _, live := e.Lookup(id); !live {
			todo = append(todo, id)
		}
	}
	n, errs := e.loadMany(ctx, todo, func(err error) bool {
		return errors.Is(err, ErrOwnedElsewhere) // another instance was quicker
	})
	if len(errs) > 0 {
		return n, fmt.Errorf("flow: adopt (%d taken): %w", n, errors.Join(errs...))
	}
	return n, nil
}

// OwnershipStats counts what a shared store's ownership did, for metrics.
type OwnershipStats struct {
	// Adopted counts running chats this engine took over: from an
	// instance that is gone, or from its own previous run.
	Adopted uint64
	// Lost counts sessions whose lease this engine lost.
	Lost uint64
}

// OwnershipStats returns the engine's ownership counters.
func (e *Engine) OwnershipStats() OwnershipStats {
	return OwnershipStats{Adopted: e.adopted.Load(), Lost: e.lostCount.Load()}
}

// releaseAll gives up every session this engine owns, at Close.
func (e *Engine) releaseAll(ctx context.Context, sessions []*Session) error {
	owners, ok := e.opts.Store.(Owners)
	if !ok {
		return nil
	}
	var errs []error
	for _, s := range sessions {
		if err := owners.Release(ctx, s.id); err != nil {
			errs = append(errs, fmt.Errorf("flow: release session %s: %w", s.id, err))
		}
	}
	return errors.Join(errs...)
}

// Forwarder is implemented by a Store several instances share that also
// carries requests between them (stores/redis, over pub/sub): a browser's
// socket may reach any instance, which forwards what the browser asks to
// the session's owner and reads the session's events from the store.
type Forwarder interface {
	// Forward sends req to the instance that owns session id and returns
	// its answer. It fails with ErrNotOwner when no live instance owns the
	// session (claim it), and with ErrStoreUnavailable when the owner does
	// not answer.
	Forward(ctx context.Context, id string, req []byte) ([]byte, error)
	// HandleForwarded sets the function that answers requests other
	// instances forward to this one.
	HandleForwarded(fn func(ctx context.Context, id string, req []byte) []byte)
	// WatchEvents signals on the channel when the session's owner saved
	// events (a hint: read them from the store); stop ends the watch.
	WatchEvents(id string) (signal <-chan struct{}, stop func())
}

// Store returns the engine's Store.
func (e *Engine) Store() Store { return e.opts.Store }
