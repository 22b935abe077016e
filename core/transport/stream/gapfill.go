package stream

import (
	"context"
	"sync"
)

// GapFiller delivers a desk's items exactly once and in order when they
// come from two sources: a live stream (a WebSocket) and a history call
// made after the stream was down (Amazon Connect's GetTranscript, Genesys's
// message history). Items are deduplicated by id. While a fill runs, live
// items are held back and delivered after the history, so an item that
// happened during the outage never comes after one that happened later.
//
// Deliver is called from one goroutine at a time, in delivery order.
type GapFiller[T any] struct {
	// ID names an item; items with the same id are delivered once.
	ID func(T) string
	// Deliver receives each new item.
	Deliver func(T)
	// Seen, when set, has the last say on whether an item is new (for
	// items a cursor already covers across a restart). It is asked only
	// about ids the dedupe window has not seen.
	Seen func(T) bool

	once    sync.Once
	dedupe  *Deduper
	mu      sync.Mutex // held while delivering
	filling int
	held    []T
}

func (g *GapFiller[T]) init() { g.once.Do(func() { g.dedupe = NewDeduper(0) }) }

// Live offers an item from the live stream: delivered now, or held while a
// fill runs.
func (g *GapFiller[T]) Live(item T) {
	g.init()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.filling > 0 {
		g.held = append(g.held, item)
		return
	}
	g.deliverLocked(item)
}

// Fill fetches the history with fetch, oldest first, and delivers the
// items not seen yet, then the live items held meanwhile. On error nothing
// of this fetch is delivered, the held items are released, and the error
// is returned; the caller retries with a new Fill. Fill is Hold, Run, and
// Release on error.
func (g *GapFiller[T]) Fill(ctx context.Context, fetch func(ctx context.Context) ([]T, error)) error {
	h := g.Hold()
	err := h.Run(ctx, fetch)
	if err != nil {
		h.Release()
	}
	return err
}

// Hold starts holding live items back at once, for a history fetch that
// will run later (call it where the new connection comes up, before the
// connection reads anything, so no live item slips ahead of the history).
func (g *GapFiller[T]) Hold() *GapFill[T] {
	g.init()
	g.mu.Lock()
	g.filling++
	g.mu.Unlock()
	return &GapFill[T]{g: g}
}

// GapFill is one pending history fetch; live items stay held until it
// has run successfully or is released.
type GapFill[T any] struct {
	g    *GapFiller[T]
	done bool
}

// Run fetches the history and, on success, delivers the new items, then
// the held live items (when no other fill still holds them), and ends the
// hold. On error nothing is delivered and the hold goes on: Run again, or
// Release. Run after success or Release does nothing.
func (f *GapFill[T]) Run(ctx context.Context, fetch func(ctx context.Context) ([]T, error)) error {
	g := f.g
	g.mu.Lock()
	done := f.done
	g.mu.Unlock()
	if done {
		return nil
	}
	items, err := fetch(ctx)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if f.done {
		return nil
	}
	for _, it := range items {
		g.deliverLocked(it)
	}
	f.endLocked()
	return nil
}

// Release ends the hold without a history (the fetch gave up): the held
// live items are delivered. It is idempotent.
func (f *GapFill[T]) Release() {
	f.g.mu.Lock()
	defer f.g.mu.Unlock()
	if !f.done {
		f.endLocked()
	}
}

func (f *GapFill[T]) endLocked() {
	g := f.g
	f.done = true
	g.filling--
	if g.filling > 0 {
		return
	}
	held := g.held
	g.held = nil
	for _, it := range held {
		g.deliverLocked(it)
	}
}

// MarkSeen records ids as delivered without delivering anything (items the
// caller produced itself, or knew from before a restart).
func (g *GapFiller[T]) MarkSeen(ids ...string) {
	g.init()
	for _, id := range ids {
		g.dedupe.First(id)
	}
}

func (g *GapFiller[T]) deliverLocked(it T) {
	if !g.dedupe.First(g.ID(it)) {
		return
	}
	if g.Seen != nil && g.Seen(it) {
		return
	}
	g.Deliver(it)
}
