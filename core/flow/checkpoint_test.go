package flow

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// recordCounter counts the saves that write the record.
type recordCounter struct {
	*MemoryStore
	mu            sync.Mutex
	saves, writes int
}

func (c *recordCounter) Save(ctx context.Context, id string, rec *Record, evs []*Event) error {
	c.mu.Lock()
	c.saves++
	if rec != nil {
		c.writes++
	}
	c.mu.Unlock()
	return c.MemoryStore.Save(ctx, id, rec, evs)
}

func (c *recordCounter) counts() (saves, writes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saves, c.writes
}

// A message's way through the outbox is saved as its events: the record
// is written every checkpointEvery events, not on every message. After a
// restart the outbox and the recent ids are what they were: a message that
// waited goes out once, a resend of one the desk took does not.
func TestMessagesAreSavedAsEvents(t *testing.T) {
	store := &recordCounter{MemoryStore: NewMemoryStore(0)}
	bubble(t, Options{Store: store}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		saves0, writes0 := store.counts()
		const n = 40
		for i := range n {
			m := servicedesk.NewTextRequest(fmt.Sprint("message ", i))
			m.ID = fmt.Sprint("m", i)
			_, err := s.SendMessage(bgCtx, m, nil)
			must(t, err)
			synctest.Wait()
		}
		saves, writes := store.counts()
		saves, writes = saves-saves0, writes-writes0
		// Two events a message (user_message, message_status sent).
		if want := 2*n/checkpointEvery + 1; writes > want || saves < n {
			t.Fatalf("%d messages: %d saves, %d of them wrote the record (want at most %d)", n, saves, writes, want)
		}
		if len(d.Sent()) != n {
			t.Fatalf("the desk got %d of %d", len(d.Sent()), n)
		}
		// One more, which the desk does not answer before the restart.
		block := d.Block("SendMessageToAgent")
		defer close(block)
		waiting := servicedesk.NewTextRequest("waits in the outbox")
		waiting.ID = "m-wait"
		_, err := s.SendMessage(bgCtx, waiting, nil)
		must(t, err)
		synctest.Wait()

		r.restart(Options{})
		_, err = r.engine.ResumeAll(bgCtx)
		must(t, err)
		synctest.Wait()
		s2, d2 := r.session("s"), r.desk("s")
		if sent := d2.Sent(); len(sent) != 1 || sent[0].ID != "m-wait" {
			t.Fatalf("after the restart the desk got %+v, want only m-wait", sent)
		}
		// The desk took all 40; the newest 32 ids are remembered.
		for _, id := range []string{"m10", "m17", fmt.Sprint("m", n-1), "m-wait"} {
			again := servicedesk.NewTextRequest("resent")
			again.ID = id
			_, err := s2.SendMessage(bgCtx, again, nil)
			must(t, err)
		}
		synctest.Wait()
		if sent := d2.Sent(); len(sent) != 1 {
			t.Fatalf("resends after the restart reached the desk: %+v", sent)
		}
	})
}

// A store that keeps fewer events than the record is behind by still
// loads the session: its outbox is the record's, and a warning says so.
func TestRecordBehindATrimmedLog(t *testing.T) {
	store := NewMemoryStore(2)
	bubble(t, Options{Store: store}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		block := d.Block("SendMessageToAgent")
		defer close(block)
		for i := range 5 {
			_, err := s.SendText(bgCtx, fmt.Sprint("held ", i))
			must(t, err)
		}
		synctest.Wait()
		r.restart(Options{})
		s2, err := r.engine.Session(bgCtx, "s")
		must(t, err)
		synctest.Wait()
		if st := s2.State(); st != StateConnected && st != StateReconnecting {
			t.Fatalf("state after the restart %s", st)
		}
	})
}

// Replay applies user messages and statuses in order and ignores what the
// record already had.
func TestReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, Options{})
		s := r.session("s")
		msg := func(id string) Event {
			m := servicedesk.NewTextRequest(id)
			return Event{Type: EventUserMessage, MessageID: id, UserMessage: &m}
		}
		status := func(id string) Event { return Event{Type: EventMessageStatus, MessageID: id, Status: MessageSent} }
		s.outbox = []PendingMessage{{ID: "a"}}
		s.recentSent.add("z")
		s.replay([]Event{msg("a"), msg("b"), msg("z"), status("a"), msg("c"), {Type: EventAgentMessage}, status("b")})
		var ids []string
		for _, p := range s.outbox {
			ids = append(ids, p.ID)
		}
		if !slices.Equal(ids, []string{"c"}) {
			t.Fatalf("outbox %v, want [c]", ids)
		}
		if !s.recentSent.has("a") || !s.recentSent.has("b") || s.recentSent.has("c") {
			t.Fatalf("recent ids %v", s.recentSent.list())
		}
		if !s.dirty {
			t.Fatal("a replay must make the next save write the record")
		}
	})
}
