package flow

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Session lifetime: the engine forgets sessions nobody uses and ends chats
// whose user is gone, so that a host embedding it (the gateway, or a Go
// chat backend) does not keep every session it ever made. A front end that
// shows a session to its user (the gateway's socket) attaches to it while
// it does; the user's commands count as presence too. A session that never
// started a chat is cheap to lose (the front end makes a new one): it goes
// after ChatlessTTL, and the oldest of them makes room at MaxSessions.
//
// Only sessions this engine holds are swept: with a store several
// instances share (Owners) they are the ones it owns, and one whose lease
// may have lapsed is left to the store's new owner.

// life is what the sweep knows of a session (under Engine.lifeMu).
type life struct {
	attached    int
	lastSeen    time.Time     // when the user was last there
	chatless    *list.Element // on Engine.chatless while no chat was started
	chatStarted time.Time     // for MaxChatDuration
}

// SessionStats counts what the engine's session lifetime did, for metrics.
type SessionStats struct {
	// Evicted counts sessions without a chat forgotten to make room at
	// MaxSessions.
	Evicted uint64
	// Forgotten counts sessions forgotten after ChatlessTTL or IdleTTL.
	Forgotten uint64
	// Abandoned counts chats ended after AbandonAfter without the user.
	Abandoned uint64
	// Expired counts chats ended at MaxChatDuration.
	Expired uint64
}

// SessionStats returns the engine's lifetime counters.
func (e *Engine) SessionStats() SessionStats {
	return SessionStats{Evicted: e.evicted.Load(), Forgotten: e.forgotten.Load(), Abandoned: e.abandoned.Load(), Expired: e.expired.Load()}
}

// Attach marks the session as shown to its user until detach is called
// (detach is idempotent): an attached session is never forgotten, evicted
// or abandoned. An attachment that lasted PresenceAfter counts, when it
// ends, as the user's presence; a shorter one does not, so that a tab
// that comes back for a moment now and then does not keep an abandoned
// chat for ever.
func (s *Session) Attach() (detach func()) {
	e := s.e
	e.lifeMu.Lock()
	s.life.attached++
	e.lifeMu.Unlock()
	at := e.opts.Now()
	var once sync.Once
	return func() {
		once.Do(func() {
			now := e.opts.Now()
			e.lifeMu.Lock()
			defer e.lifeMu.Unlock()
			s.life.attached--
			if now.Sub(at) >= e.opts.PresenceAfter {
				s.life.lastSeen = now
			}
		})
	}
}

// Touch counts as the user's presence now: a request made for the user
// that holds no attachment (an HTTP call; a socket on another instance).
// The user's commands (StartChat, SendMessage, UserTyping, …) touch the
// session themselves.
func (s *Session) Touch() {
	now := s.e.opts.Now()
	s.e.lifeMu.Lock()
	s.life.lastSeen = now
	s.e.lifeMu.Unlock()
}

// born starts a new live session's clocks: chat is the chats it had (from
// the Store), active whether one is running. Under e.mu.
func (e *Engine) born(s *Session, chats uint64, active bool) {
	now := e.opts.Now()
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	s.life.lastSeen = now
	if active {
		s.life.chatStarted = now
	}
	if chats == 0 {
		s.life.chatless = e.chatless.PushBack(s)
	}
}

// chatBegan takes s off the chat-less list and starts its chat's clock.
func (e *Engine) chatBegan(s *Session) {
	now := e.opts.Now()
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	e.unlistLocked(s)
	s.life.chatStarted, s.life.lastSeen = now, now
}

// unlistLocked takes s off the chat-less list (under lifeMu).
func (e *Engine) unlistLocked(s *Session) {
	if s.life.chatless != nil {
		e.chatless.Remove(s.life.chatless)
		s.life.chatless = nil
	}
}

// gone takes a session the engine dropped off the chat-less list.
func (e *Engine) gone(s *Session) {
	e.lifeMu.Lock()
	e.unlistLocked(s)
	e.lifeMu.Unlock()
}

// owned reports whether this engine may drop session id: always, unless
// the store is shared and the lease may have lapsed.
func (e *Engine) owned(id string) bool {
	owners, ok := e.opts.Store.(Owners)
	return !ok || owners.Owns(id)
}

// evictLocked takes the oldest session that never started a chat and is
// not attached out of the table, to make room for a new one; nil when
// there is none. Under e.mu; the caller drops it after the lock.
func (e *Engine) evictLocked() *Session {
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	for el := e.chatless.Front(); el != nil; el = el.Next() {
		s := el.Value.(*Session)
		if s.life.attached > 0 || s.State().Active() || e.sessions[s.id] != s || !e.owned(s.id) {
			continue
		}
		e.unlistLocked(s)
		delete(e.sessions, s.id)
		return s
	}
	return nil
}

// atCapLocked reports whether a new session needs room, and whether there
// is none to make (under e.mu, read or write).
func (e *Engine) atCapLocked() (full, noRoom bool) {
	if e.opts.MaxSessions <= 0 || len(e.sessions) < e.opts.MaxSessions {
		return false, false
	}
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	for el := e.chatless.Front(); el != nil; el = el.Next() {
		if s := el.Value.(*Session); s.life.attached == 0 && !s.State().Active() {
			return true, false
		}
	}
	return true, true
}

// drop forgets a session already out of the table: it closes, and its
// record, lease and files go.
func (e *Engine) drop(ctx context.Context, s *Session, why string) {
	s.close()
	if owners, ok := e.opts.Store.(Owners); ok {
		if err := owners.Release(ctx, s.id); err != nil {
			e.opts.Logger.Debug("flow: release a forgotten session", "session", s.id, "err", err)
		}
	}
	if err := e.opts.Store.Delete(ctx, s.id); err != nil {
		e.opts.Logger.Warn("flow: delete a forgotten session", "session", s.id, "why", why, "err", err)
	}
	if e.opts.Files != nil {
		if err := e.opts.Files.DeleteFiles(ctx, s.id); err != nil {
			e.opts.Logger.Warn("flow: delete the files of a forgotten session", "session", s.id, "err", err)
		}
	}
	e.opts.Logger.Debug("flow: forgot a session", "session", s.id, "why", why)
}

// sweepEvery is the interval of the lifetime sweep: half the shortest
// timeout, at most 30s.
func (o *Options) sweepEvery() time.Duration {
	every := time.Minute
	for _, d := range []time.Duration{o.ChatlessTTL, o.IdleTTL, o.AbandonAfter, o.MaxChatDuration} {
		if d > 0 {
			every = min(every, d)
		}
	}
	return max(every/2, 10*time.Millisecond)
}

// sweepOpTimeout bounds the store calls and the end of one swept session.
const sweepOpTimeout = 30 * time.Second

// startSweep arms the lifetime sweep; it runs on a tracked goroutine, so
// that Close waits for it, and holds none between runs.
func (e *Engine) startSweep() {
	every := e.opts.sweepEvery()
	e.mu.Lock() // the timer's func reads sweepTimer under e.mu
	defer e.mu.Unlock()
	e.sweepTimer = time.AfterFunc(every, func() {
		e.spawn(func() {
			e.sweep()
			e.mu.RLock()
			if !e.closed {
				e.sweepTimer.Reset(every)
			}
			e.mu.RUnlock()
		})
	})
}

// sweep ends chats past MaxChatDuration and those whose user is gone, and
// forgets sessions nobody uses.
func (e *Engine) sweep() {
	o := &e.opts
	now := o.Now()
	type todo struct {
		s    *Session
		end  bool
		why  string
		seen time.Time
	}
	var work []todo
	e.mu.RLock()
	sessions := make([]*Session, 0, len(e.sessions))
	for _, s := range e.sessions {
		sessions = append(sessions, s)
	}
	e.mu.RUnlock()
	e.lifeMu.Lock()
	for _, s := range sessions {
		l := &s.life
		active := s.State().Active()
		if active && o.MaxChatDuration > 0 && !l.chatStarted.IsZero() && now.Sub(l.chatStarted) > o.MaxChatDuration {
			l.chatStarted = now // once; a chat that will not end is not asked again at once
			work = append(work, todo{s: s, end: true, why: "it reached MaxChatDuration"})
			continue
		}
		if l.attached > 0 {
			continue
		}
		idle := now.Sub(l.lastSeen)
		switch {
		case l.chatless != nil && !active && o.ChatlessTTL > 0 && idle > o.ChatlessTTL:
			work = append(work, todo{s: s, why: "no chat, unused for ChatlessTTL", seen: l.lastSeen})
		case active && o.AbandonAfter > 0 && idle > o.AbandonAfter:
			work = append(work, todo{s: s, end: true, why: "abandoned"})
		case !active && o.IdleTTL > 0 && idle > o.IdleTTL:
			work = append(work, todo{s: s, why: "unused for IdleTTL", seen: l.lastSeen})
		}
	}
	e.lifeMu.Unlock()
	for _, w := range work {
		if e.ctx.Err() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(e.ctx, sweepOpTimeout)
		if w.end {
			if w.why == "abandoned" {
				e.abandoned.Add(1)
			} else {
				e.expired.Add(1)
			}
			o.Logger.Info("flow: ending a chat", "session", w.s.id, "why", w.why)
			_ = w.s.EndChat(ctx, EndOptions{})
		} else if e.unlink(w.s, w.seen) {
			e.forgotten.Add(1)
			e.drop(ctx, w.s, w.why)
		}
		cancel()
	}
}

// unlink takes s out of the table if it is still unused there: not
// attached, not seen since seen, no chat running, owned.
func (e *Engine) unlink(s *Session, seen time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	if e.sessions[s.id] != s || s.life.attached > 0 || !s.life.lastSeen.Equal(seen) || s.State().Active() || !e.owned(s.id) {
		return false
	}
	e.unlistLocked(s)
	delete(e.sessions, s.id)
	return true
}
