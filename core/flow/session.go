package flow

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Session is one end user's chat: at most one agent chat at a time, and the
// event log of everything the user saw. Host commands (StartChat,
// SendMessage, ...) and desk callbacks go through one ordered queue, so they
// are applied one at a time in the order they were made, whatever goroutine
// makes them. Desk calls run off the queue and report back into it.
type Session struct {
	id   string
	e    *Engine
	opts *Options
	log  *slog.Logger
	cb   *callback

	mu      sync.Mutex // guards the fields down to notify
	mailbox []func()
	running bool
	closed  bool
	events  eventLog
	notify  chan struct{}   // closed when events are published; nil when nobody waits
	wakers  []*Subscription // their AfterNext functions run when events are published

	state atomic.Uint32 // State, for lock-free reads

	deskMu    sync.Mutex // guards deskState: UpdatePersistedState is synchronous
	deskState json.RawMessage

	dropMu  sync.Mutex
	dropped map[string]uint64
	applied atomic.Uint64

	life life // under e.lifeMu

	// Everything below belongs to the queue: only ops touch it.
	spare            []func()
	st               State
	beforeDisconnect State
	chat             uint64
	joined           bool
	started          bool
	warned           bool
	endPending       bool
	connectMsg       *servicedesk.MessageResponse
	customer         *servicedesk.Customer // the verified user, nil while anonymous; replaced, never changed in place
	handoff          *servicedesk.Handoff  // what the desk was given for this chat
	owner            ConversationOwner     // as the last owner event told ("" before any: the bot)
	lastAgentText    string                // the agent's last message of this chat
	profile          *servicedesk.AgentProfile
	profiles         map[string]servicedesk.AgentProfile
	caps             servicedesk.Capabilities
	desk             servicedesk.ServiceDesk
	ctrl             *servicedesk.Controller
	deskOpt          servicedesk.Optional
	agentTyping      bool
	userTyping       bool
	suspended        bool
	lastAvail        *servicedesk.AgentAvailability
	outbox           []PendingMessage
	sending          bool
	inflight         string          // a message in flight when its chat ended: its result still reports it
	failedInFlight   string          // the desk said this in-flight message failed: its result reports it so
	sendRetry        sendRetry       // the first outbox message's tries after temporary failures
	endWaiters       []chan struct{} // StartChat calls waiting for the previous chat's end
	recentSent       idRing
	recentAgent      idRing
	staged           map[string]servicedesk.FileUpload
	uploading        map[string]*time.Timer
	share            *shareRequest
	sharing          bool
	joinTimer        *time.Timer
	returnTimer      *time.Timer
	lastSeq          uint64
	saveRetries      int // failed saves in a row
	retryTimer       *time.Timer
	pending          []*Event
	dirty            bool                  // the record changed: the next save writes it
	recordAsOf       uint64                // the Seq the stored record was written at
	afterFlush       []func(saveErr error) // run once the batch is saved (nil), or can never be (its error)
	recEnc           *recordCache          // what RecordJSON keeps of this session's records
}

type shareRequest struct {
	waiters []chan shareResult
	timer   *time.Timer
}

type shareResult struct {
	state servicedesk.ScreenShareState
	err   error
}

func newSession(e *Engine, id string) *Session {
	s := &Session{
		id:     id,
		e:      e,
		opts:   &e.opts,
		log:    e.opts.Logger.With("session", id),
		events: eventLog{max: e.opts.EventLogSize, maxBytes: max(e.opts.EventLogBytes, 0), budget: e.eventBytes},
	}
	s.cb = &callback{s: s}
	s.recEnc = new(recordCache)
	return s
}

// ID returns the session id.
func (s *Session) ID() string { return s.id }

// State returns the current state.
func (s *Session) State() State { return State(s.state.Load()) }

// LastSeq returns the Seq of the newest published event.
func (s *Session) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events.last
}

// maxBatchOps bounds the ops applied between two saves.
const maxBatchOps = 256

// enqueue adds op to the queue; false when the session is closed.
func (s *Session) enqueue(op func()) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.mailbox = append(s.mailbox, op)
	if !s.running {
		s.running = true
		// Added under s.mu so that Engine.Close, which closes every session
		// before it waits, always sees this goroutine.
		s.e.wg.Add(1)
		go s.drain()
	}
	s.mu.Unlock()
	return true
}

// drain applies queued ops in batches until the queue is empty. No goroutine
// runs for an idle session.
func (s *Session) drain() {
	defer s.e.wg.Done()
	for {
		s.mu.Lock()
		batch := s.mailbox
		if len(batch) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		recycle := len(batch) <= maxBatchOps
		if recycle {
			s.mailbox = s.spare[:0]
		} else {
			// A burst: take a bounded batch so that one flush (and its event
			// slice) stays small and others' commands wait less.
			s.mailbox = batch[maxBatchOps:]
			batch = batch[:maxBatchOps:maxBatchOps]
		}
		s.mu.Unlock()
		for i, op := range batch {
			op()
			batch[i] = nil
		}
		s.applied.Add(uint64(len(batch)))
		if recycle {
			s.spare = batch
		}
		s.flush()
	}
}

// call runs fn on the queue and waits for its result, which is delivered
// after the batch was saved, so an accepted command survives a restart.
// fn always runs once enqueued, even if ctx ends first.
func (s *Session) call(ctx context.Context, fn func() error) error {
	done := make(chan error, 1)
	if !s.enqueue(func() {
		err := fn()
		s.afterFlush = append(s.afterFlush, func(saveErr error) { done <- cmp.Or(saveErr, err) })
	}) {
		return fmt.Errorf("flow: session %s: %w", s.id, ErrClosed)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush saves and publishes what the last batch did. Nothing is published
// and no command is answered before the Store has it: when a save fails,
// the events and answers wait, later batches add to them, and the save is
// tried again with backoff until it succeeds (or the session closes).
func (s *Session) flush() {
	s.noteOwner()
	events := s.pending
	var rec *Record
	if s.dirty || s.lastSeq-s.recordAsOf >= checkpointEvery {
		r := s.record()
		rec = &r
	}
	if rec != nil || len(events) > 0 {
		if testHookSave != nil {
			testHookSave(rec, events)
		}
		start := time.Now()
		err := s.save(rec, events)
		if s.opts.OnSave != nil {
			s.opts.OnSave(time.Since(start), len(events), err)
		}
		if err != nil && errors.Is(err, ErrSeqGap) {
			err = s.repairSeqGap(rec, events, err)
		}
		if errors.Is(err, ErrNotOwner) {
			// Fenced: another instance owns the session now. Nothing of
			// this batch is published; that instance has the truth.
			s.log.Warn("flow: save refused: the session is owned elsewhere now", "err", err)
			s.runAfterFlush(err)
			s.e.spawn(func() { s.e.lost(s.id) })
			return
		}
		if err != nil {
			s.saveFailedNow(err, len(events))
			return
		}
		if rec != nil {
			s.dirty, s.recordAsOf = false, *rec.AsOf
		}
		s.saveRecovered()
	}
	if len(events) > 0 {
		s.mu.Lock()
		for _, ev := range events {
			s.events.append(ev)
		}
		if s.st == StateEnded {
			// A finished chat's events are in the Store; memory is for live
			// chats. Readers fall back to the Store transparently.
			s.events.release()
		}
		s.wake()
		s.mu.Unlock()
		clear(events)
		s.pending = events[:0]
	}
	s.runAfterFlush(nil)
}

// checkpointEvery bounds the events a stored record is behind by (see
// Record.AsOf): the record is written at least every so many events, so
// that loading a session reads few. Stores keep far more events than this.
const checkpointEvery = 16

// testHookSave, when set by tests, sees every batch before it is saved.
var testHookSave func(rec *Record, events []*Event)

func (s *Session) runAfterFlush(saveErr error) {
	after := s.afterFlush
	s.afterFlush = nil
	for _, f := range after {
		f(saveErr)
	}
}

// saveTimeout bounds one Save. Saves do not end with Engine.Close: the last
// batches of a closing engine are saved too.
const saveTimeout = 10 * time.Second

func (s *Session) save(rec *Record, events []*Event) error {
	if m, ok := s.opts.Store.(*MemoryStore); ok {
		// It never blocks: no timer to bound it, on every batch.
		return m.Save(context.Background(), s.id, rec, events)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.e.ctx), saveTimeout)
	defer cancel()
	return s.opts.Store.Save(ctx, s.id, rec, events)
}

// saveFailedNow keeps the batch for the next try and schedules it.
func (s *Session) saveFailedNow(err error, events int) {
	if s.saveRetries == 0 {
		s.e.storeFailing(err, true)
	}
	s.saveRetries++
	s.log.Error("flow: save session; events and answers wait until it is saved", "err", err, "events", events, "try", s.saveRetries)
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		// No retry comes after Close: the callers learn it now.
		s.saveRecovered()
		s.runAfterFlush(fmt.Errorf("flow: session %s: closed before its batch was saved: %w", s.id, err))
		return
	}
	if s.retryTimer != nil {
		return
	}
	delay := min(saveRetryMin<<min(s.saveRetries-1, 8), saveRetryMax)
	s.retryTimer = time.AfterFunc(delay, func() {
		s.enqueue(func() { s.retryTimer = nil }) // the drain's flush saves again
	})
}

func (s *Session) saveRecovered() {
	if s.saveRetries > 0 {
		s.log.Info("flow: saved the session again", "after_tries", s.saveRetries)
		s.saveRetries = 0
		s.e.storeFailing(nil, false)
	}
}

// Save retries back off from saveRetryMin to saveRetryMax.
const (
	saveRetryMin = 50 * time.Millisecond
	saveRetryMax = 2 * time.Second
)

// repairSeqGap handles a store whose log ends before the batch does not
// begin: one that lost its newest writes (a Redis restarted from an AOF
// synced every second). The events it lacks are still in memory: they are
// saved again in front of the batch. A store ahead of the session (another
// writer) is not repaired: the error stands.
func (s *Session) repairSeqGap(rec *Record, events []*Event, cause error) error {
	if len(events) == 0 {
		return cause
	}
	stored, err := s.opts.Store.Load(s.e.ctx, s.id)
	var storeLast uint64
	switch {
	case err == nil:
		storeLast = stored.LastSeq
	case errors.Is(err, ErrNotFound):
	default:
		return cause
	}
	first := events[0].Seq
	if storeLast+1 >= first {
		return cause
	}
	s.mu.Lock()
	missing, ok := s.events.since(storeLast, 0)
	s.mu.Unlock()
	if !ok || len(missing) == 0 || missing[len(missing)-1].Seq+1 != first {
		return cause
	}
	batch := make([]*Event, 0, len(missing)+len(events))
	for i := range missing {
		batch = append(batch, &missing[i])
	}
	batch = append(batch, events...)
	if err := s.save(rec, batch); err != nil {
		return err
	}
	s.log.Warn("flow: the store had lost events; saved them again", "from_seq", storeLast+1, "events", len(missing))
	return nil
}

// emit appends an event to the batch being built.
func (s *Session) emit(ev Event) {
	s.lastSeq++
	ev.Seq = s.lastSeq
	ev.Time = s.opts.Now().UnixMilli()
	if ev.Chat == 0 {
		ev.Chat = s.chat
	}
	ev.enc = new(encodedEvent) // complete now: encoded once from here on
	s.pending = append(s.pending, &ev)
}

func (s *Session) setState(to State) {
	if s.st == to {
		return
	}
	s.st = to
	s.state.Store(uint32(to))
	s.dirty = true
	s.emit(Event{Type: EventState, State: to})
}

// drop records a call that did not fit the state.
func (s *Session) drop(call, why string) {
	key := call + ": " + why
	s.dropMu.Lock()
	if s.dropped == nil {
		s.dropped = make(map[string]uint64)
	}
	s.dropped[key]++
	s.dropMu.Unlock()
	s.log.Debug("flow: dropped call", "call", call, "why", why, "state", s.st.String())
}

// Stats describes what a session did; for tests and metrics.
type Stats struct {
	// Applied counts ops applied from the queue.
	Applied uint64
	// Dropped counts dropped calls by "Call: reason".
	Dropped map[string]uint64
}

// Stats returns a snapshot of the session's counters.
func (s *Session) Stats() Stats {
	s.dropMu.Lock()
	d := make(map[string]uint64, len(s.dropped))
	for k, v := range s.dropped {
		d[k] = v
	}
	s.dropMu.Unlock()
	return Stats{Applied: s.applied.Load(), Dropped: d}
}

// DroppedCount returns how many calls were dropped in all.
func (st Stats) DroppedCount() uint64 {
	var n uint64
	for _, v := range st.Dropped {
		n += v
	}
	return n
}

func (s *Session) record() Record {
	r := Record{
		ID:            s.id,
		State:         s.st,
		Chat:          s.chat,
		Joined:        s.joined,
		Started:       s.started,
		Profile:       s.profile,
		Customer:      s.customer,
		Handoff:       s.handoff,
		Capabilities:  s.caps,
		Suspended:     s.suspended,
		LastSeq:       s.lastSeq,
		LastAgentText: s.lastAgentText,
		enc:           s.recEnc,
	}
	if s.connectMsg != nil {
		r.ConnectMessage = s.connectMsg
	}
	if len(s.profiles) > 0 {
		r.Profiles = s.profiles // copy on write (setProfile): safe to share
	}
	if len(s.outbox) > 0 {
		r.Outbox = append([]PendingMessage(nil), s.outbox...)
	}
	r.RecentSent = s.recentSent.list()
	asOf := s.lastSeq
	r.AsOf = &asOf
	s.deskMu.Lock()
	r.DeskState = s.deskState
	s.deskMu.Unlock()
	return r
}

// restore loads a stored record into a new session.
func (s *Session) restore(r Record) {
	s.st = r.State
	s.state.Store(uint32(r.State))
	s.chat = r.Chat
	s.joined = r.Joined
	s.started = r.Started
	s.connectMsg = r.ConnectMessage
	s.customer = r.Customer
	s.handoff = r.Handoff
	s.owner = s.ownerNow()
	s.profile = r.Profile
	s.profiles = maps.Clone(r.Profiles)
	s.caps = r.Capabilities
	s.outbox = r.Outbox
	for _, id := range r.RecentSent {
		s.recentSent.add(id)
	}
	s.suspended = r.Suspended
	s.lastAgentText = r.LastAgentText
	s.deskState = r.DeskState
	s.lastSeq = r.LastSeq // the store's own count: Save is its authority
	s.events.last = r.LastSeq
	if r.AsOf != nil {
		s.recordAsOf = *r.AsOf
	}
}

// replay applies to the outbox, the recent ids and the agent's last words
// what the events after the record's AsOf tell: the changes the engine
// saves as events only (a user message taken, a send's status, an agent's
// message). They come in Seq order.
func (s *Session) replay(events []Event) {
	for i := range events {
		ev := &events[i]
		switch ev.Type {
		case EventUserMessage:
			if ev.UserMessage == nil || s.recentSent.has(ev.MessageID) ||
				slices.ContainsFunc(s.outbox, func(p PendingMessage) bool { return p.ID == ev.MessageID }) {
				continue
			}
			s.outbox = append(s.outbox, PendingMessage{ID: ev.MessageID, Message: *ev.UserMessage, Files: slices.Clone(ev.Files)})
		case EventMessageStatus:
			if i := slices.IndexFunc(s.outbox, func(p PendingMessage) bool { return p.ID == ev.MessageID }); i >= 0 {
				s.outbox = slices.Delete(slices.Clone(s.outbox), i, i+1)
			}
			s.recentSent.add(ev.MessageID)
		case EventAgentMessage:
			s.noteAgentText(ev.Chat, ev.Message)
		}
	}
	// The next save writes the record, which is then up to date.
	s.dirty = s.dirty || len(events) > 0
}

// close stops the session: new calls fail with ErrClosed, queued ones still
// run, waiters wake up, timers stop.
func (s *Session) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.wake()
	s.mu.Unlock()
	// The timers' ops would be refused now; stopping them frees them early.
	// They are read here without the queue, so only Stop is called.
	s.enqueueFinal()
}

// enqueueFinal runs the last op regardless of the closed flag.
func (s *Session) enqueueFinal() {
	s.mu.Lock()
	s.mailbox = append(s.mailbox, s.stopAll)
	if !s.running {
		s.running = true
		s.e.wg.Add(1)
		go s.drain()
	}
	s.mu.Unlock()
}

// stopAll stops timers and fails screen share waiters at shutdown.
func (s *Session) stopAll() {
	stop := func(t *time.Timer) {
		if t != nil {
			t.Stop()
		}
	}
	s.wakeEndWaiters()
	stop(s.joinTimer)
	stop(s.returnTimer)
	stop(s.retryTimer)
	stop(s.sendRetry.timer)
	if s.saveRetries > 0 {
		s.log.Error("flow: session closed with a batch the store never took", "events", len(s.pending))
		s.saveRecovered()
		// Nobody will save it now: its callers learn it rather than wait.
		s.runAfterFlush(fmt.Errorf("flow: session %s: closed before its batch was saved: %w", s.id, ErrStoreUnavailable))
	}
	for _, t := range s.uploading {
		stop(t)
	}
	s.mu.Lock()
	s.events.release() // its bytes leave the engine's budget
	s.mu.Unlock()
	if s.share != nil {
		stop(s.share.timer)
		for _, w := range s.share.waiters {
			w <- shareResult{err: fmt.Errorf("flow: session %s: %w", s.id, ErrClosed)}
		}
		s.share = nil
	}
}

// idRing remembers the last few ids, to spot redeliveries. It allocates on
// first use, so idle sessions stay small.
type idRing struct {
	ids []string
	n   int
}

const idRingSize = 32

func (r *idRing) add(id string) {
	if len(r.ids) < idRingSize {
		// Grown as ids come: most chats see a few, and a held chat's
		// memory is mostly what it keeps of them.
		r.ids = append(r.ids, id)
	} else {
		r.ids[r.n%idRingSize] = id
	}
	r.n++
}

// list returns the ids, oldest first; nil when none.
func (r *idRing) list() []string {
	if r.n == 0 {
		return nil
	}
	n := min(r.n, idRingSize)
	out := make([]string, 0, n)
	for i := r.n - n; i < r.n; i++ {
		out = append(out, r.ids[i%idRingSize])
	}
	return out
}

func (r *idRing) has(id string) bool {
	if id == "" {
		return false
	}
	for _, v := range r.ids {
		if v == id {
			return true
		}
	}
	return false
}
