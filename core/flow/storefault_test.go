package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// faultyStore wraps a MemoryStore: while down, every Save fails with
// ErrStoreUnavailable and writes nothing; lose drops the newest saved
// events, as a Redis restarted from an AOF synced every second would.
type faultyStore struct {
	*MemoryStore
	mu    sync.Mutex
	down  bool
	saves int
}

func (f *faultyStore) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *faultyStore) Save(ctx context.Context, id string, rec *Record, evs []*Event) error {
	f.mu.Lock()
	down := f.down
	f.saves++
	f.mu.Unlock()
	if down {
		return fmt.Errorf("faulty store: save %s: %w", id, ErrStoreUnavailable)
	}
	return f.MemoryStore.Save(ctx, id, rec, evs)
}

func TestNothingIsAnsweredOrPublishedBeforeItIsSaved(t *testing.T) {
	store := &faultyStore{MemoryStore: NewMemoryStore(0)}
	bubble(t, Options{Store: store}, func(t *testing.T, r *rig) {
		s, _ := connected(t, r, "s")
		before := s.LastSeq()
		store.setDown(true)

		sent := make(chan error, 1)
		go func() {
			_, err := s.SendText(bgCtx, "while the store is down")
			sent <- err
		}()
		time.Sleep(10 * time.Second) // many retries, all failing
		synctest.Wait()
		select {
		case err := <-sent:
			t.Fatalf("SendText answered (%v) while nothing could be saved", err)
		default:
		}
		if got := s.LastSeq(); got != before {
			t.Fatalf("events published while the store was down: last seq %d, was %d", got, before)
		}
		if err := r.engine.StoreError(); !errors.Is(err, ErrStoreUnavailable) {
			t.Fatalf("StoreError while down: %v", err)
		}
		// A short ctx gives up waiting; the message is still taken once.
		short, cancel := context.WithTimeout(bgCtx, time.Second)
		_, err := s.SendText(short, "second, given up on")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("SendText with a short ctx while down: %v", err)
		}

		store.setDown(false)
		time.Sleep(3 * time.Second) // the next retry
		synctest.Wait()
		select {
		case err := <-sent:
			must(t, err)
		default:
			t.Fatal("SendText still waiting after the store came back")
		}
		if err := r.engine.StoreError(); err != nil {
			t.Fatalf("StoreError after recovery: %v", err)
		}
		// What was published is exactly what the store holds, in order.
		evs, err := store.MemoryStore.Events(bgCtx, "s", before, 0)
		must(t, err)
		if len(evs) == 0 || evs[0].Seq != before+1 || evs[len(evs)-1].Seq != s.LastSeq() {
			t.Fatalf("stored %v, last published %d", types(evs), s.LastSeq())
		}
		if n := len(ofType(evs, EventUserMessage)); n != 2 {
			t.Fatalf("user messages stored %d, want 2 (%v)", n, types(evs))
		}
	})
}

func TestStoreThatLostItsNewestEventsIsRepaired(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		kept := s.LastSeq()
		d.CB().SendMessageToUser(textMsg("one"), "")
		d.CB().SendMessageToUser(textMsg("two"), "")
		synctest.Wait()
		lost := s.LastSeq()
		// The store comes back from a backup taken at kept: every event
		// after it is gone.
		mem := r.store.(*MemoryStore)
		evs, err := mem.Events(bgCtx, "s", 0, 0)
		must(t, err)
		rec, err := mem.Load(bgCtx, "s")
		must(t, err)
		must(t, mem.Delete(bgCtx, "s"))
		var back []*Event
		for i := range evs {
			if evs[i].Seq <= kept {
				back = append(back, &evs[i])
			}
		}
		must(t, mem.Save(bgCtx, "s", &rec, back))

		d.CB().SendMessageToUser(textMsg("three"), "")
		synctest.Wait()
		if err := r.engine.StoreError(); err != nil {
			t.Fatalf("StoreError: %v", err)
		}
		all, err := mem.Events(bgCtx, "s", 0, 0)
		must(t, err)
		for i, ev := range all {
			if ev.Seq != uint64(i+1) {
				t.Fatalf("stored seqs have a gap at %d: %v", i, types(all))
			}
		}
		if last := all[len(all)-1].Seq; last != s.LastSeq() || last <= lost {
			t.Fatalf("stored up to %d, session at %d (lost ones were up to %d)", last, s.LastSeq(), lost)
		}
		if n := len(ofType(all, EventAgentMessage)); n != 3 {
			t.Fatalf("agent messages stored %d, want 3", n)
		}
	})
}

func textMsg(text string) servicedesk.MessageResponse {
	m := servicedesk.TextResponse(text)
	m.ID = "agent-" + text
	return m
}

func TestResumeAllBoundsConcurrentReconnects(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		const chats, slots = 20, 3
		for i := range chats {
			connected(t, r, fmt.Sprintf("s%02d", i))
		}
		gate := make(chan struct{})
		var mu sync.Mutex
		inFlight, most := 0, 0
		r.setup = func(d *fakeDesk) {
			d.block["Reconnect"] = gate
			d.onCall = func(call string) {
				if call != "Reconnect" {
					return
				}
				mu.Lock()
				inFlight++
				most = max(most, inFlight)
				mu.Unlock()
			}
		}
		r.restart(Options{MaxConcurrentReconnects: slots, ReconnectTimeout: time.Minute})
		n, err := r.engine.ResumeAll(bgCtx)
		must(t, err)
		if n != chats {
			t.Fatalf("resumed %d sessions, want %d", n, chats)
		}
		synctest.Wait()
		mu.Lock()
		if inFlight != slots {
			t.Fatalf("%d Reconnect calls in flight, want %d (the bound)", inFlight, slots)
		}
		mu.Unlock()
		// Each waits its turn with its full timeout; all get through. The
		// count stops here: calls after the gate opens are not in flight
		// together.
		for i := range chats {
			d := r.desk(fmt.Sprintf("s%02d", i))
			d.mu.Lock()
			d.onCall = nil
			d.mu.Unlock()
		}
		time.Sleep(50 * time.Second) // under the timeout for every one of them
		close(gate)
		synctest.Wait()
		for i := range chats {
			if st := r.session(fmt.Sprintf("s%02d", i)).State(); st != StateConnected {
				t.Fatalf("session %d: %s after the reconnects", i, st)
			}
		}
		if most != slots {
			t.Fatalf("at most %d Reconnect calls at once, want %d", most, slots)
		}
	})
}

func TestFilesOfAPendingMessageSurviveARestartAndGoAfterTheChat(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		mem := r.store.(*MemoryStore)
		s, d := connected(t, r, "s")
		data := []byte("%PDF-1.7 the invoice")
		must(t, mem.PutFile(bgCtx, "s", FileInfo{ID: "f1", Name: "invoice.pdf", Type: "application/pdf"}, data))
		d.CB().SetErrorStatus(servicedesk.DisconnectedError(true)) // the message waits in the outbox
		synctest.Wait()
		up := servicedesk.FileUpload{ID: "f1", File: servicedesk.File{Name: "invoice.pdf", Size: int64(len(data)), Type: "application/pdf"}}
		id, err := s.SendMessage(bgCtx, servicedesk.NewTextRequest("see attached"), []servicedesk.FileUpload{up})
		must(t, err)
		synctest.Wait()

		r.restart(Options{}) // Files and OpenFile default to the store
		_, err = r.engine.ResumeAll(bgCtx)
		must(t, err)
		synctest.Wait()
		d2 := r.desk("s")
		sent := d2.Sent()
		if len(sent) != 1 || sent[0].ID != id || len(sent[0].Files) != 1 {
			t.Fatalf("resent after the restart: %+v", sent)
		}
		rc, err := sent[0].Files[0].File.Open(bgCtx)
		must(t, err)
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != string(data) {
			t.Fatalf("the desk read %q from the resent file", got)
		}

		must(t, r.session("s").EndChat(bgCtx, EndOptions{}))
		synctest.Wait()
		if _, _, err := mem.OpenFile(bgCtx, "s", "f1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the file after its chat ended: %v, want ErrNotFound", err)
		}
	})
}

// A browser that resends a message the desk already took, after a
// restart of the server, does not make the desk get it twice.
func TestResendAfterRestartIsKnown(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		msg := servicedesk.NewTextRequest("taken once")
		msg.ID = "m1"
		_, err := s.SendMessage(bgCtx, msg, nil)
		must(t, err)
		synctest.Wait()
		if len(d.Sent()) != 1 {
			t.Fatalf("sent %v", d.Sent())
		}
		r.restart(Options{})
		_, err = r.engine.ResumeAll(bgCtx)
		must(t, err)
		synctest.Wait()
		again := servicedesk.NewTextRequest("taken once")
		again.ID = "m1"
		id, err := r.session("s").SendMessage(bgCtx, again, nil)
		must(t, err)
		synctest.Wait()
		if id != "m1" || len(r.desk("s").Sent()) != 0 {
			t.Fatalf("the resend after the restart reached the desk again: %v", r.desk("s").Sent())
		}
	})
}

// The desk gets a user message only once the store has it: a crash between
// the two then leaves nothing the browser's resend would make anew.
func TestDeskGetsAMessageOnlyOnceSaved(t *testing.T) {
	store := &faultyStore{MemoryStore: NewMemoryStore(0)}
	bubble(t, Options{Store: store}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		store.setDown(true)
		go func() { _, _ = s.SendText(bgCtx, "saved first") }()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := len(d.Sent()); n != 0 {
			t.Fatalf("the desk got %d messages the store never had", n)
		}
		store.setDown(false)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if sent := d.Sent(); len(sent) != 1 || sent[0].Text != "saved first" {
			t.Fatalf("after the store came back the desk got %+v", sent)
		}
	})
}

// gatedStore wraps a MemoryStore: while held, a Save stores its batch and
// then waits to be let go, as a slow store's answer would after the write.
type gatedStore struct {
	*MemoryStore
	mu   sync.Mutex
	gate chan struct{} // nil: not held
}

func (g *gatedStore) hold() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedStore) release() {
	g.mu.Lock()
	close(g.gate)
	g.gate = nil
	g.mu.Unlock()
}

func (g *gatedStore) Save(ctx context.Context, id string, rec *Record, evs []*Event) error {
	err := g.MemoryStore.Save(ctx, id, rec, evs)
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return err
}

// TestReaderNeverSeesABatchBeforeItIsPublished: a reader whose events come
// from the Store (the ended chat's are no longer in memory) is not given a
// batch the Store has but the session has not published yet; before, it
// was, and its next read failed (its cursor past the newest published
// event), which closed a browser's socket during a new chat's start.
func TestReaderNeverSeesABatchBeforeItIsPublished(t *testing.T) {
	store := &gatedStore{MemoryStore: NewMemoryStore(0)}
	bubble(t, Options{Store: store}, func(t *testing.T, r *rig) {
		s, _ := connected(t, r, "s")
		must(t, s.EndChat(bgCtx, EndOptions{}))
		synctest.Wait()
		published := s.LastSeq()
		sub := s.Subscribe(1)
		defer sub.Close()

		store.hold()
		started := make(chan error, 1)
		go func() { started <- s.StartChat(bgCtx, connectMsg, StartOptions{}) }()
		synctest.Wait() // the new chat's first batch is in the Store, not published
		// Errorf, not Fatalf: the store must be let go for the engine to close.
		evs, err := sub.TryNext(bgCtx)
		if err != nil || len(evs) == 0 || evs[len(evs)-1].Seq != published {
			t.Errorf("read %v (%v), want the events up to %d (the last published)", types(evs), err, published)
		}
		if evs, err := sub.TryNext(bgCtx); err != nil || len(evs) != 0 {
			t.Errorf("the next read: %v, %v; want nothing yet and no error", types(evs), err)
		}

		store.release()
		must(t, <-started)
		synctest.Wait()
		evs, err = sub.TryNext(bgCtx)
		if err != nil {
			return // told above
		}
		if len(evs) == 0 || evs[0].Seq != published+1 {
			t.Fatalf("after the batch was published: %v", types(evs))
		}
	})
}
