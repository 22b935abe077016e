package flow

import (
	"container/list"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Engine runs the hand-off for many sessions. It is safe for concurrent use.
type Engine struct {
	factory servicedesk.Factory
	opts    Options

	// ctx lives until Close; desk calls derive from it.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.RWMutex // guards sessions, closed, and wg.Add against Close
	sessions map[string]*Session
	closed   bool
	wg       sync.WaitGroup

	reconnects chan struct{} // slots for desk Reconnect calls
	eventBytes *ByteBudget   // the bytes of all sessions' event memory; nil: no bound

	adopted, lostCount atomic.Uint64 // OwnershipStats

	lifeMu                                 sync.Mutex // guards every session's life, and chatless
	chatless                               list.List  // of *Session, oldest first
	sweepTimer                             *time.Timer
	evicted, forgotten, abandoned, expired atomic.Uint64 // SessionStats

	storeMu      sync.Mutex
	failingSaves int // sessions whose last save failed
	storeErr     error
}

// NewEngine returns an engine whose sessions get their desks from factory.
func NewEngine(factory servicedesk.Factory, opts Options) (*Engine, error) {
	if factory == nil {
		return nil, fmt.Errorf("flow: new engine: %w: nil factory", ErrInvalid)
	}
	ctx, cancel := context.WithCancel(context.Background())
	opts = opts.withDefaults()
	e := &Engine{
		factory:    factory,
		opts:       opts,
		reconnects: make(chan struct{}, opts.MaxConcurrentReconnects),
		ctx:        ctx,
		cancel:     cancel,
		sessions:   make(map[string]*Session),
	}
	if opts.EventLogTotalBytes > 0 {
		e.eventBytes = NewByteBudget(opts.EventLogTotalBytes)
	}
	if owners, ok := opts.Store.(Owners); ok {
		owners.OnLost(e.lost)
	}
	e.startSweep()
	return e, nil
}

// MaxSessionIDLen bounds session ids.
const MaxSessionIDLen = 256

// Session returns the session with this id: the live one, else the one in
// the Store (whose chat, if one was running, is resumed through the desk's
// Reconnect), else a new idle session.
func (e *Engine) Session(ctx context.Context, id string) (*Session, error) {
	if id == "" || len(id) > MaxSessionIDLen {
		return nil, fmt.Errorf("flow: session %q: %w: id must be 1 to %d bytes", id, ErrInvalid, MaxSessionIDLen)
	}
	e.mu.RLock()
	s, ok := e.sessions[id]
	closed := e.closed
	e.mu.RUnlock()
	if ok {
		return s, nil
	}
	if closed {
		return nil, fmt.Errorf("flow: session %s: %w", id, ErrClosed)
	}
	e.mu.RLock()
	_, noRoom := e.atCapLocked()
	e.mu.RUnlock()
	if noRoom {
		return nil, fmt.Errorf("flow: session %s: %w (%d)", id, ErrTooManySessions, e.opts.MaxSessions)
	}
	if owners, ok := e.opts.Store.(Owners); ok {
		// Only the owner drives a session; the others forward to it.
		if err := owners.Claim(ctx, id); err != nil {
			return nil, fmt.Errorf("flow: session %s: %w", id, err)
		}
	}
	rec, err := e.opts.Store.Load(ctx, id)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("flow: session %s: %w", id, err)
	}
	var since []Event // what the record does not have yet (see Record.AsOf)
	if found && rec.AsOf != nil && rec.LastSeq > *rec.AsOf {
		since, err = e.opts.Store.Events(ctx, id, *rec.AsOf, 0)
		switch {
		case errors.Is(err, ErrEventsTrimmed):
			// A store that keeps fewer events than the engine writes its
			// record in: the outbox is as the record has it, and a message
			// it still holds may reach the desk again.
			e.opts.Logger.Warn("flow: the store no longer has the events after the session's record; its outbox may be behind", "session", id, "as_of", *rec.AsOf, "last_seq", rec.LastSeq)
		case err != nil:
			return nil, fmt.Errorf("flow: session %s: events after its record: %w", id, err)
		}
	}

	e.mu.Lock()
	if s, ok := e.sessions[id]; ok { // another caller won the race
		e.mu.Unlock()
		return s, nil
	}
	if e.closed {
		e.mu.Unlock()
		return nil, fmt.Errorf("flow: session %s: %w", id, ErrClosed)
	}
	var evicted *Session
	if full, _ := e.atCapLocked(); full {
		if evicted = e.evictLocked(); evicted == nil {
			e.mu.Unlock()
			if owners, ok := e.opts.Store.(Owners); ok {
				_ = owners.Release(ctx, id)
			}
			return nil, fmt.Errorf("flow: session %s: %w (%d)", id, ErrTooManySessions, e.opts.MaxSessions)
		}
	}
	s = newSession(e, id)
	if found {
		s.restore(rec)
		s.replay(since)
	}
	e.sessions[id] = s
	e.born(s, rec.Chat, found && rec.State.Active())
	e.mu.Unlock()
	if evicted != nil {
		e.evicted.Add(1)
		e.drop(ctx, evicted, "evicted at MaxSessions")
	}
	if found && rec.State.Active() {
		if _, shared := e.opts.Store.(Owners); shared {
			e.adopted.Add(1)
		}
		s.enqueue(s.resume)
	}
	return s, nil
}

// Lookup returns a live session without touching the Store.
func (e *Engine) Lookup(id string) (*Session, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, ok := e.sessions[id]
	return s, ok
}

// IDs returns the ids of the live sessions, in no order.
func (e *Engine) IDs() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ids := make([]string, 0, len(e.sessions))
	for id := range e.sessions {
		ids = append(ids, id)
	}
	return ids
}

// Len returns the number of live sessions.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.sessions)
}

// ResumeAll loads every session in the Store, so that chats that were
// running when the process stopped reconnect now rather than when their user
// comes back. Sessions load on a few goroutines at once, and their desks'
// Reconnect calls run at most Options.MaxConcurrentReconnects at a time.
// It returns how many sessions it loaded; a session that fails to load is
// reported in the error and the others still load. With a store several
// instances share (Owners) it adopts the running chats nobody owns.
func (e *Engine) ResumeAll(ctx context.Context) (int, error) {
	if _, shared := e.opts.Store.(Owners); shared {
		// Other instances run the rest: take the chats nobody owns.
		return e.Adopt(ctx, 0)
	}
	ids, err := e.opts.Store.List(ctx)
	if err != nil {
		return 0, fmt.Errorf("flow: resume all: %w", err)
	}
	n, errs := e.loadMany(ctx, ids, nil)
	if len(errs) > 0 {
		return n, fmt.Errorf("flow: resume all (%d of %d loaded): %w", n, len(ids), errors.Join(errs...))
	}
	return n, nil
}

// loadMany loads sessions on a few goroutines at once; it returns how many
// loaded and the errors that skip does not excuse.
func (e *Engine) loadMany(ctx context.Context, ids []string, skip func(error) bool) (int, []error) {
	const loaders = 16
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		loaded int
		errs   []error
		next   = make(chan string)
	)
	for range min(loaders, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				_, err := e.Session(ctx, id)
				mu.Lock()
				switch {
				case err == nil:
					loaded++
				case skip == nil || !skip(err):
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, id := range ids {
		select {
		case next <- id:
		case <-ctx.Done():
			errs = append(errs, ctx.Err())
			break feed
		}
	}
	close(next)
	wg.Wait()
	return loaded, errs
}

// reconnectSlot waits for one of the slots that bound concurrent desk
// Reconnect calls; release gives it back.
func (e *Engine) reconnectSlot(ctx context.Context) (release func(), err error) {
	select {
	case e.reconnects <- struct{}{}:
		return func() { <-e.reconnects }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Forget removes an idle or ended session from memory and from the Store.
// A session with a running chat is kept: end it first.
func (e *Engine) Forget(ctx context.Context, id string) error {
	s, ok := e.Lookup(id)
	if ok {
		if st := s.State(); st.Active() {
			return fmt.Errorf("flow: forget %s: %w (state %s)", id, ErrChatRunning, st)
		}
		s.close()
		e.mu.Lock()
		delete(e.sessions, id)
		e.mu.Unlock()
		e.gone(s)
	}
	if owners, ok := e.opts.Store.(Owners); ok {
		if err := owners.Release(ctx, id); err != nil {
			return fmt.Errorf("flow: forget %s: %w", id, err)
		}
	}
	if err := e.opts.Store.Delete(ctx, id); err != nil {
		return fmt.Errorf("flow: forget %s: %w", id, err)
	}
	return nil
}

// Close stops every session: queued work is applied and saved, desk calls
// in flight are cancelled, timers stop, and desks that implement io.Closer
// are closed. Chats are not ended: a new Engine over the same Store resumes
// them. With a shared Store (Owners), the sessions are released, so that
// another instance takes them over at once. Close is idempotent; it
// returns ctx's error if ctx ends first.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	first := !e.closed
	e.closed = true
	e.sweepTimer.Stop()
	sessions := make([]*Session, 0, len(e.sessions))
	for _, s := range e.sessions {
		sessions = append(sessions, s)
	}
	e.mu.Unlock()
	if first {
		for _, s := range sessions {
			s.close()
		}
		e.cancel()
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("flow: close: %w", ctx.Err())
	}
	if first {
		var errs []error
		for _, s := range sessions {
			if c, ok := s.desk.(io.Closer); ok {
				if err := c.Close(); err != nil {
					errs = append(errs, fmt.Errorf("flow: close desk of session %s: %w", s.id, err))
				}
			}
		}
		// Saved and disconnected: another instance may take them now.
		errs = append(errs, e.releaseAll(ctx, sessions))
		return errors.Join(errs...)
	}
	return nil
}

// storeFailing counts sessions that cannot save: failing is true when one
// starts failing (err says why), false when it saved again.
func (e *Engine) storeFailing(err error, failing bool) {
	e.storeMu.Lock()
	defer e.storeMu.Unlock()
	if failing {
		e.failingSaves++
		e.storeErr = err
		return
	}
	e.failingSaves--
	if e.failingSaves == 0 {
		e.storeErr = nil
	}
}

// StoreError returns the newest save error while any session cannot save
// (its events and answers wait for the store), else nil. Health checks use
// it.
func (e *Engine) StoreError() error {
	e.storeMu.Lock()
	defer e.storeMu.Unlock()
	if e.failingSaves == 0 {
		return nil
	}
	return fmt.Errorf("flow: %d sessions cannot save: %w", e.failingSaves, e.storeErr)
}

// spawn runs fn on a tracked goroutine; false once the engine is closed.
func (e *Engine) spawn(fn func()) bool {
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return false
	}
	e.wg.Add(1)
	e.mu.RUnlock()
	go func() {
		defer e.wg.Done()
		fn()
	}()
	return true
}

func randomID() string { return rand.Text() }
