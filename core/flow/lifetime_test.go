package flow

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// live reports whether the engine still holds session id, and whether its
// Store still has it.
func live(t *testing.T, r *rig, id string) (inMemory, stored bool) {
	t.Helper()
	_, inMemory = r.engine.Lookup(id)
	_, err := r.store.Load(bgCtx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatalf("load %s: %v", id, err)
	}
	return inMemory, err == nil
}

func ended(t *testing.T, s *Session) bool {
	t.Helper()
	return s.State() == StateEnded
}

// endsBetween checks that s's chat still runs early from now, and has
// ended late from now.
func endsBetween(t *testing.T, s *Session, early, late time.Duration, what string) {
	t.Helper()
	time.Sleep(early)
	synctest.Wait()
	if ended(t, s) {
		t.Fatalf("%s: ended within %s", what, early)
	}
	time.Sleep(late - early)
	synctest.Wait()
	if !ended(t, s) {
		t.Fatalf("%s: still running after %s", what, late)
	}
}

// resumeAfterRestart restarts r's engine with opts and resumes its
// sessions, n of them.
func resumeAfterRestart(t *testing.T, r *rig, opts Options, n int) {
	t.Helper()
	r.restart(opts)
	got, err := r.engine.ResumeAll(bgCtx)
	must(t, err)
	if got != n {
		t.Fatalf("resumed %d sessions; want %d", got, n)
	}
	synctest.Wait()
}

// TestGoHostGetsIdleEviction: an engine used from Go, without the gateway
// and with the default options, forgets a session that never started a
// chat after ChatlessTTL and one whose chat ended after IdleTTL, from
// memory and from the Store; before, it kept every session for ever.
func TestGoHostGetsIdleEviction(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		r.session("chatless")
		s, _ := connected(t, r, "chatted")
		must(t, s.EndChat(bgCtx, EndOptions{}))
		synctest.Wait()
		if !ended(t, s) {
			t.Fatalf("state %s", s.State())
		}
		time.Sleep(90 * time.Second)
		synctest.Wait()
		if mem, _ := live(t, r, "chatless"); !mem {
			t.Fatal("a chat-less session went before ChatlessTTL (2m)")
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if mem, stored := live(t, r, "chatless"); mem || stored {
			t.Fatalf("a chat-less session kept past ChatlessTTL: in memory %v, stored %v", mem, stored)
		}
		if mem, stored := live(t, r, "chatted"); !mem || !stored {
			t.Fatalf("a session that chatted went before IdleTTL (30m): in memory %v, stored %v", mem, stored)
		}
		time.Sleep(29 * time.Minute)
		synctest.Wait()
		if mem, stored := live(t, r, "chatted"); mem || stored {
			t.Fatalf("a session with an ended chat kept past IdleTTL: in memory %v, stored %v", mem, stored)
		}
		if st := r.engine.SessionStats(); st.Forgotten != 2 || st.Evicted != 0 {
			t.Fatalf("stats %+v: want 2 forgotten", st)
		}
	})
}

// TestGoHostGetsAbandon: a running chat whose user neither commands nor is
// attached is ended after AbandonAfter (default 15m) and the desk is told;
// a user who keeps writing, or a front end that stays attached, keeps it.
func TestGoHostGetsAbandon(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		gone, goneDesk := connected(t, r, "gone")
		writing, _ := connected(t, r, "writing")
		shown, _ := connected(t, r, "shown")
		detach := shown.Attach()
		for range 4 { // 40 minutes
			time.Sleep(10 * time.Minute)
			_, err := writing.SendText(bgCtx, "still here")
			must(t, err)
			synctest.Wait()
		}
		if !ended(t, gone) || goneDesk.Count("EndChat") != 1 {
			t.Fatalf("abandoned chat: state %s, desk EndChat %d times", gone.State(), goneDesk.Count("EndChat"))
		}
		if ended(t, writing) || ended(t, shown) {
			t.Fatalf("a chat with its user there was ended: writing %s, shown %s", writing.State(), shown.State())
		}
		detach()
		detach() // idempotent
		endsBetween(t, shown, 14*time.Minute, 16*time.Minute, "the front end left")
		// writing stopped writing 16 minutes ago too.
		if !ended(t, writing) {
			t.Fatal("not ended AbandonAfter after the user stopped writing")
		}
		if st := r.engine.SessionStats(); st.Abandoned != 3 {
			t.Fatalf("stats %+v: want 3 abandoned", st)
		}
	})
}

// TestBriefAttachmentsDoNotKeepAChat: attachments shorter than
// PresenceAfter, however often, do not reset the abandon clock; one that
// lasted longer does.
func TestBriefAttachmentsDoNotKeepAChat(t *testing.T) {
	bubble(t, Options{AbandonAfter: time.Minute, PresenceAfter: 5 * time.Second}, func(t *testing.T, r *rig) {
		// An attachment of 10s, 50s into the minute, starts the clock again.
		long, _ := connected(t, r, "long")
		time.Sleep(50 * time.Second)
		d := long.Attach()
		time.Sleep(10 * time.Second)
		d()
		time.Sleep(50 * time.Second)
		synctest.Wait()
		if ended(t, long) {
			t.Fatal("an attachment past PresenceAfter did not count as presence")
		}
		s, _ := connected(t, r, "s")
		start := time.Now()
		for !ended(t, s) {
			if time.Since(start) > 3*time.Minute {
				t.Fatal("brief attachments kept an abandoned chat going")
			}
			d := s.Attach()
			time.Sleep(time.Second)
			d()
			time.Sleep(9 * time.Second)
			synctest.Wait()
		}
		if took := time.Since(start); took > 90*time.Second {
			t.Fatalf("ended after %s; want about AbandonAfter", took)
		}
	})
}

// TestMaxChatDuration: a chat ends MaxChatDuration after it started,
// attached or not.
func TestMaxChatDuration(t *testing.T) {
	bubble(t, Options{MaxChatDuration: time.Hour}, func(t *testing.T, r *rig) {
		s, _ := connected(t, r, "s")
		defer s.Attach()()
		endsBetween(t, s, 59*time.Minute, 61*time.Minute, "MaxChatDuration")
		if r.engine.SessionStats().Expired != 1 {
			t.Fatalf("stats %+v: want one chat ended at MaxChatDuration", r.engine.SessionStats())
		}
	})
}

// TestEvictAtMaxSessions: at MaxSessions a new session takes the place of
// the oldest one that never started a chat and is not attached; sessions
// with a chat and attached ones stay, and with none to evict the new one
// is refused.
func TestEvictAtMaxSessions(t *testing.T) {
	bubble(t, Options{MaxSessions: 3}, func(t *testing.T, r *rig) {
		connected(t, r, "chat")
		held := r.session("held")
		defer held.Attach()()
		r.session("old")
		r.session("new") // evicts old
		if mem, stored := live(t, r, "old"); mem || stored {
			t.Fatalf("the oldest chat-less session was kept: in memory %v, stored %v", mem, stored)
		}
		r.session("newer") // evicts new
		for _, id := range []string{"chat", "held", "newer"} {
			if mem, _ := live(t, r, id); !mem {
				t.Fatalf("%s was evicted", id)
			}
		}
		if n := r.engine.Len(); n != 3 {
			t.Fatalf("%d live sessions; want 3", n)
		}
		defer r.session("newer").Attach()()
		if _, err := r.engine.Session(bgCtx, "one too many"); !errors.Is(err, ErrTooManySessions) {
			t.Fatalf("a session with none to evict: %v; want ErrTooManySessions", err)
		}
		if st := r.engine.SessionStats(); st.Evicted != 2 {
			t.Fatalf("stats %+v: want 2 evicted", st)
		}
	})
}

// TestSweepRespectsLeases: with a store several instances share, an
// instance forgets only the sessions it owns: one whose lease another
// instance holds now keeps its record.
func TestSweepRespectsLeases(t *testing.T) {
	shared := newSharedStore()
	bubble(t, Options{Store: view{shared, "a"}, IdleTTL: time.Minute}, func(t *testing.T, r *rig) {
		for _, id := range []string{"mine", "taken"} {
			s, _ := connected(t, r, id)
			must(t, s.EndChat(bgCtx, EndOptions{}))
			synctest.Wait()
		}
		if _, stored := live(t, r, "taken"); !stored {
			t.Fatal("no record to keep")
		}
		shared.mu.Lock()
		shared.owner["taken"] = "b" // a's lease lapsed; b holds it now
		shared.mu.Unlock()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if _, stored := live(t, r, "mine"); stored {
			t.Fatal("a's own session was kept past IdleTTL")
		}
		if _, stored := live(t, r, "taken"); !stored {
			t.Fatal("a deleted the record of a session b owns")
		}
	})
}

// TestResumedSessionsGetAbandon: chats loaded from the Store after a
// restart start their abandon clock at the load, and end AbandonAfter
// later if their user never comes back.
func TestResumedSessionsGetAbandon(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		connected(t, r, "s")
		resumeAfterRestart(t, r, Options{AbandonAfter: 10 * time.Minute}, 1)
		s := r.session("s")
		if s.State() != StateConnected {
			t.Fatalf("resumed state %s", s.State())
		}
		endsBetween(t, s, 9*time.Minute, 11*time.Minute, "a resumed chat nobody came back to")
	})
}
