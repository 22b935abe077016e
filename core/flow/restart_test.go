package flow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Every record and event any test here saves is encoded by RecordJSON
	// and EventJSON byte for byte as encoding/json encodes it.
	testHookSave = checkEncodings
	goleak.VerifyTestMain(m)
}

func TestRestartResumesConnectedChat(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		must(t, d.CB().UpdatePersistedState(map[string]string{"chat_token": "tok-1"}))
		d.CB().SetErrorStatus(servicedesk.DisconnectedError(true))
		id, err := s.SendText(bgCtx, "sent while the desk was away")
		must(t, err)
		synctest.Wait()
		last := s.LastSeq()

		var persisted string
		r.setup = func(d *fakeDesk) { persisted = string(d.params.PersistedState) }
		resumeAfterRestart(t, r, Options{}, 1)
		s2 := r.session("s")
		d2 := r.desk("s")
		if persisted != `{"chat_token":"tok-1"}` {
			t.Errorf("factory got persisted state %q", persisted)
		}
		if d2.Count("Reconnect") != 1 {
			t.Fatalf("Reconnect calls %d", d2.Count("Reconnect"))
		}
		if s2.State() != StateConnected {
			t.Fatalf("state %s", s2.State())
		}
		// The message that was waiting in the outbox goes out with its id.
		if sent := d2.Sent(); len(sent) != 1 || sent[0].ID != id {
			t.Errorf("resent %+v", sent)
		}
		// A front end that saw everything before the restart gets exactly
		// what came after.
		evs, err := s2.EventsSince(bgCtx, last, 0)
		must(t, err)
		if len(evs) == 0 || evs[0].Seq != last+1 {
			t.Fatalf("events after %d: %v", last, types(evs))
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq != evs[i-1].Seq+1 {
				t.Fatalf("gap: %d then %d", evs[i-1].Seq, evs[i].Seq)
			}
		}
		// And one that saw nothing gets the whole log, from the store.
		all, err := s2.EventsSince(bgCtx, 0, 0)
		must(t, err)
		if all[0].Seq != 1 || all[len(all)-1].Seq != s2.LastSeq() {
			t.Errorf("full log %d..%d, last %d", all[0].Seq, all[len(all)-1].Seq, s2.LastSeq())
		}
		if p := mustSnapshot(t, s2).Profile; p == nil || p.ID != "ada" {
			t.Errorf("profile after restart %+v", p)
		}
	})
}

func mustSnapshot(t *testing.T, s *Session) Snapshot {
	t.Helper()
	snap, err := s.Snapshot(bgCtx)
	must(t, err)
	return snap
}

// Carbon bug 10: a reload while waiting silently drops the queue request.
func TestRestartResumesWaitingChat(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s := r.session("s")
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
		synctest.Wait()
		r.restart(Options{})
		s2 := r.session("s")
		synctest.Wait()
		if s2.State() != StateWaiting {
			t.Fatalf("state %s", s2.State())
		}
		r.desk("s").CB().AgentJoined(ada)
		synctest.Wait()
		if s2.State() != StateConnected {
			t.Fatalf("state %s after join", s2.State())
		}
	})
}

// Carbon bug 8/9: a failed reconnect ends the chat without telling the desk
// and, without history, shows nothing.
func TestRestartWithFailedReconnectEndsAndTellsDesk(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*rig, *fakeDesk)
	}{
		{"reconnect false", func(_ *rig, d *fakeDesk) { d.reconnectOK = false }},
		{"reconnect error", func(_ *rig, d *fakeDesk) { d.reconnectErr = servicedesk.ErrChatNotFound }},
		{"reconnect hangs", func(_ *rig, d *fakeDesk) { d.block["Reconnect"] = make(chan struct{}) }},
		{"no reconnect", func(r *rig, _ *fakeDesk) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, Options{}, func(t *testing.T, r *rig) {
				_, _ = connected(t, r, "s")
				r.setup = func(d *fakeDesk) { tc.setup(r, d) }
				if tc.name == "no reconnect" {
					r.bare = true
				}
				r.restart(Options{})
				s := r.session("s")
				time.Sleep(20 * time.Second) // past the reconnect timeout
				synctest.Wait()
				if s.State() != StateEnded {
					t.Fatalf("state %s", s.State())
				}
				if n := r.desk("s").Count("EndChat"); n != 1 {
					t.Errorf("desk EndChat calls %d", n)
				}
				ended := ofType(logOf(t, s), EventChatEnded)
				if len(ended) != 1 || ended[0].Reason != EndReconnectFailed || ended[0].Text != DefaultTexts.ReconnectFailed {
					t.Errorf("chat_ended %+v", ended)
				}
			})
		})
	}
}

func TestRestartMidStartAndMidEnd(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		_, d := connected(t, r, "ending")
		d.Block("EndChat")
		must(t, r.session("ending").EndChat(bgCtx, EndOptions{}))
		hold := make(chan struct{})
		r.restart(Options{PreStartChat: func(context.Context, *PreStartChat) error { <-hold; return nil }})
		starting := r.session("starting")
		go func() { _ = starting.StartChat(bgCtx, connectMsg, StartOptions{}) }()
		synctest.Wait()
		r.restart(Options{})
		close(hold)
		for _, id := range []string{"ending", "starting"} {
			s := r.session(id)
			synctest.Wait()
			if s.State() != StateEnded {
				t.Errorf("%s: state %s after restart", id, s.State())
			}
		}
		if d := r.desk("starting"); d != nil && d.Count("StartChat") != 0 {
			t.Error("a chat cut short while starting reached the desk")
		}
	})
}

func TestSubscriptionFromSeqGetsExactlyTheMissedEvents(t *testing.T) {
	r := newRig(t, Options{EventLogSize: 16})
	s := r.session("s")
	must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
	eventually(t, "desk", func() bool { return r.desk("s") != nil })
	cb := r.desk("s").CB()
	cb.AgentJoined(ada)
	for i := range 40 {
		cb.SendTextToUser(fmt.Sprint(i), "")
	}
	// A command goes through the session's queue behind the callbacks:
	// once it returns, all 40 messages are in the log.
	if _, err := s.Snapshot(bgCtx); err != nil {
		t.Fatal(err)
	}
	last := s.LastSeq()
	for _, from := range []uint64{0, 1, 17, last - 3, last} {
		sub := s.Subscribe(from)
		var got []uint64
		ctx, cancel := context.WithTimeout(bgCtx, 50*time.Millisecond)
		for {
			evs, err := sub.Next(ctx)
			if err != nil {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("from %d: %v", from, err)
				}
				break
			}
			for _, ev := range evs {
				got = append(got, ev.Seq)
			}
		}
		cancel()
		want := make([]uint64, 0)
		for q := from + 1; q <= last; q++ {
			want = append(want, q)
		}
		if !slices.Equal(got, want) {
			t.Errorf("from %d: got %d events %v..., want %d", from, len(got), head(got), len(want))
		}
	}
	if _, err := s.EventsSince(bgCtx, last+5, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("cursor ahead of the log: %v", err)
	}
}

func head(v []uint64) []uint64 {
	if len(v) > 5 {
		return v[:5]
	}
	return v
}

func TestTrimmedEventsAreReported(t *testing.T) {
	store := NewMemoryStore(8)
	r := newRig(t, Options{Store: store, EventLogSize: 8})
	s := r.session("s")
	must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
	eventually(t, "desk", func() bool { return r.desk("s") != nil })
	for range 20 {
		must(t, s.SetSuspended(bgCtx, true))
		must(t, s.SetSuspended(bgCtx, false))
	}
	if _, err := s.Subscribe(0).Next(bgCtx); !errors.Is(err, ErrEventsTrimmed) {
		t.Fatalf("err %v", err)
	}
}

func TestSubscriptionCloseAndEngineCloseWakeReaders(t *testing.T) {
	r := newRig(t, Options{})
	s := r.session("s")
	sub := s.Subscribe(0)
	errc := make(chan error, 2)
	go func() { _, err := sub.Next(bgCtx); errc <- err }()
	time.Sleep(5 * time.Millisecond)
	sub.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	sub2 := s.Subscribe(0)
	go func() { _, err := sub2.Next(bgCtx); errc <- err }()
	time.Sleep(5 * time.Millisecond)
	must(t, r.engine.Close(bgCtx))
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("after engine Close: %v", err)
	}
	if _, err := s.SendText(bgCtx, "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("command after close: %v", err)
	}
	must(t, r.engine.Close(bgCtx)) // idempotent
	if _, err := r.engine.Session(bgCtx, "new"); !errors.Is(err, ErrClosed) {
		t.Errorf("new session after close: %v", err)
	}
}

func TestCloseWhileDeskCallBlocks(t *testing.T) {
	r := newRig(t, Options{StartChatTimeout: time.Hour})
	r.setup = func(d *fakeDesk) { d.Block("StartChat") }
	s := r.session("s")
	must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
	eventually(t, "StartChat running", func() bool { d := r.desk("s"); return d != nil && d.Count("StartChat") == 1 })
	ctx, cancel := context.WithTimeout(bgCtx, 2*time.Second)
	defer cancel()
	must(t, r.engine.Close(ctx))
}

// Callbacks from many goroutines: each goroutine's calls are applied in the
// order it made them, and none is lost.
func TestConcurrentCallbacksKeepOrderAndLoseNothing(t *testing.T) {
	r := newRig(t, Options{EventLogSize: 100000, EventLogBytes: -1})
	s, d := connectedReal(t, r, "s")
	const writers, each = 16, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := servicedesk.TextResponse(fmt.Sprintf("%d/%d", w, i))
				m.ID = fmt.Sprintf("w%d-%d", w, i)
				d.CB().SendMessageToUser(m, "")
				if i%50 == 0 {
					_, _ = s.SendText(bgCtx, fmt.Sprintf("user %d/%d", w, i))
				}
			}
		}()
	}
	wg.Wait()
	eventually(t, "all applied", func() bool {
		evs, _ := s.EventsSince(bgCtx, 0, 0)
		return len(ofType(evs, EventAgentMessage)) == writers*each
	})
	evs, err := s.EventsSince(bgCtx, 0, 0)
	must(t, err)
	next := make([]int, writers)
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("seq %d at %d", ev.Seq, i)
		}
		if ev.Type != EventAgentMessage {
			continue
		}
		var w, n int
		if _, err := fmt.Sscanf(ev.Message.PlainText(), "%d/%d", &w, &n); err != nil {
			t.Fatal(err)
		}
		if n != next[w] {
			t.Fatalf("writer %d: message %d after %d", w, n, next[w]-1)
		}
		next[w]++
	}
	eventually(t, "user messages delivered", func() bool { return len(d.Sent()) == writers*each/50 })
}

// connectedReal is connected() outside a synctest bubble.
func connectedReal(t *testing.T, r *rig, id string) (*Session, *fakeDesk) {
	t.Helper()
	s := r.session(id)
	must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
	eventually(t, "desk", func() bool { d := r.desk(id); return d != nil && d.Count("StartChat") == 1 })
	d := r.desk(id)
	d.CB().AgentJoined(ada)
	eventually(t, "connected", func() bool { return s.State() == StateConnected })
	return s, d
}

func TestManySessionsConcurrently(t *testing.T) {
	r := newRig(t, Options{})
	const sessions = 200
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("s%d", i)
			s, err := r.engine.Session(bgCtx, id)
			if err != nil {
				errs <- err
				return
			}
			if err := s.StartChat(bgCtx, connectMsg, StartOptions{}); err != nil {
				errs <- err
				return
			}
			for {
				if d := r.desk(id); d != nil {
					d.CB().AgentJoined(ada)
					d.CB().SendTextToUser("hi", "")
					break
				}
				time.Sleep(time.Millisecond)
			}
			for range 5 {
				if _, err := s.SendText(bgCtx, "x"); err != nil && !errors.Is(err, ErrNoChat) {
					errs <- err
				}
			}
			if err := s.EndChat(bgCtx, EndOptions{}); err != nil && !errors.Is(err, ErrNoChat) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	eventually(t, "all ended", func() bool {
		for i := range sessions {
			s, _ := r.engine.Lookup(fmt.Sprintf("s%d", i))
			if s.State() != StateEnded {
				return false
			}
		}
		return true
	})
	if r.engine.Len() != sessions {
		t.Errorf("sessions %d", r.engine.Len())
	}
	must(t, r.engine.Forget(bgCtx, "s0"))
	if _, ok := r.engine.Lookup("s0"); ok {
		t.Error("forgotten session still live")
	}
}

func TestSessionIDValidation(t *testing.T) {
	r := newRig(t, Options{})
	for _, id := range []string{"", string(make([]byte, MaxSessionIDLen+1))} {
		if _, err := r.engine.Session(bgCtx, id); !errors.Is(err, ErrInvalid) {
			t.Errorf("id of %d bytes: %v", len(id), err)
		}
	}
	if _, err := NewEngine(nil, Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil factory: %v", err)
	}
}

func TestFactoryFailureIsAConnectingError(t *testing.T) {
	e, err := NewEngine(func(context.Context, servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		return nil, errors.New("no credentials")
	}, Options{})
	must(t, err)
	defer e.Close(bgCtx)
	s, err := e.Session(bgCtx, "s")
	must(t, err)
	if err := s.StartChat(bgCtx, connectMsg, StartOptions{}); err == nil {
		t.Fatal("start with a failing factory succeeded")
	}
	if s.State() != StateEnded {
		t.Errorf("state %s", s.State())
	}
	evs, _ := s.EventsSince(bgCtx, 0, 0)
	if e := ofType(evs, EventError); len(e) != 1 {
		t.Errorf("errors %+v", e)
	}
}

// The agent's last words survive a restart, whether the record has them or
// only the events after it: the chat's end after the restart still gives
// them to the host.
func TestRestartKeepsTheAgentsLastWords(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		d.CB().SendMessageToUser(servicedesk.TextResponse("first words"), "ada")
		must(t, d.CB().UpdatePersistedState(map[string]string{"k": "v"})) // the record is written
		synctest.Wait()
		d.CB().SendMessageToUser(servicedesk.TextResponse("last words before the restart"), "ada")
		synctest.Wait()
		_ = s

		resumeAfterRestart(t, r, Options{}, 1)
		s2 := r.session("s")
		r.desk("s").CB().AgentEndedChat()
		synctest.Wait()
		evs, err := s2.EventsSince(bgCtx, 0, 0)
		must(t, err)
		var end *Event
		for i := range evs {
			if evs[i].Type == EventChatEnded {
				end = &evs[i]
			}
		}
		if end == nil || end.LastAgentText != "last words before the restart" {
			t.Fatalf("chat_ended after the restart: %+v", end)
		}
		if o := mustSnapshot(t, s2).Owner; o != OwnerEnded {
			t.Errorf("owner %s", o)
		}
	})
}

// TryNext and AfterNext, the goroutine-free way to read a subscription:
// TryNext returns what there is without waiting; AfterNext's function runs
// once when events come (at once when they are there already), or when
// the subscription or the session closes; a stopped or replaced one never
// runs, and stopped or fired ones are not kept by the session.
func TestSubscriptionTryNextAndAfterNext(t *testing.T) {
	r := newRig(t, Options{})
	s := r.session("s")
	must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
	eventually(t, "desk", func() bool { return r.desk("s") != nil })
	if _, err := s.Snapshot(bgCtx); err != nil { // the start's events are in
		t.Fatal(err)
	}
	sub := s.Subscribe(s.LastSeq())
	evs, err := sub.TryNext(bgCtx)
	if err != nil || len(evs) != 0 {
		t.Fatalf("nothing yet: %v %v", evs, err)
	}
	woke := make(chan string, 8)
	sub.AfterNext(func() { woke <- "replaced" })
	if !sub.StopAfterNext() {
		t.Fatal("a waiting AfterNext could not be stopped")
	}
	if sub.StopAfterNext() {
		t.Fatal("stopped twice")
	}
	sub.AfterNext(func() { woke <- "replaced" })
	sub.AfterNext(func() { woke <- "first" })
	must(t, s.SetSuspended(bgCtx, true))
	if got := <-woke; got != "first" {
		t.Fatalf("woke %q", got)
	}
	if sub.StopAfterNext() {
		t.Error("a fired AfterNext was stopped after it ran")
	}
	evs, err = sub.TryNext(bgCtx)
	if err != nil || len(evs) == 0 || sub.Cursor() != s.LastSeq() {
		t.Fatalf("after the wake: %d events, cursor %d of %d, %v", len(evs), sub.Cursor(), s.LastSeq(), err)
	}
	// Events already there: at once.
	must(t, s.SetSuspended(bgCtx, false))
	sub.AfterNext(func() { woke <- "already" })
	if got := <-woke; got != "already" {
		t.Fatalf("woke %q", got)
	}
	if _, err := sub.TryNext(bgCtx); err != nil {
		t.Fatal(err)
	}
	// Close wakes the one waiting; TryNext then reports the end.
	sub.AfterNext(func() { woke <- "closed" })
	sub.Close()
	if got := <-woke; got != "closed" {
		t.Fatalf("woke %q", got)
	}
	if _, err := sub.TryNext(bgCtx); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	// The session's close wakes another subscription's.
	sub2 := s.Subscribe(s.LastSeq())
	sub2.AfterNext(func() { woke <- "engine closed" })
	must(t, r.engine.Close(bgCtx))
	if got := <-woke; got != "engine closed" {
		t.Fatalf("woke %q", got)
	}
	s.mu.Lock()
	kept := len(s.wakers)
	s.mu.Unlock()
	if kept != 0 {
		t.Errorf("%d wakers kept after they fired or were stopped", kept)
	}
	select {
	case got := <-woke:
		t.Errorf("an extra wake: %q", got)
	case <-time.After(50 * time.Millisecond):
	}
}
