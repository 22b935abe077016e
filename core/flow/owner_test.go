package flow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
)

// sharedStore is one MemoryStore that two engines share through their own
// views, with a lease table: what stores/redis does with Redis.
type sharedStore struct {
	*MemoryStore
	mu     sync.Mutex
	owner  map[string]string // session → instance
	lostFn map[string]func(string)
}

func newSharedStore() *sharedStore {
	return &sharedStore{MemoryStore: NewMemoryStore(0), owner: map[string]string{}, lostFn: map[string]func(string){}}
}

// view is one instance's handle on the shared store.
type view struct {
	*sharedStore
	name string
}

func (v view) Claim(_ context.Context, id string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if o, ok := v.owner[id]; ok && o != v.name {
		return fmt.Errorf("claim %s: %w", id, ErrOwnedElsewhere)
	}
	v.owner[id] = v.name
	return nil
}

func (v view) Release(_ context.Context, id string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.owner[id] == v.name {
		delete(v.owner, id)
	}
	return nil
}

func (v view) Owns(id string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.owner[id] == v.name
}

func (v view) OnLost(fn func(string)) {
	v.mu.Lock()
	v.lostFn[v.name] = fn
	v.mu.Unlock()
}

func (v view) Orphans(ctx context.Context, limit int) ([]string, error) {
	ids, _ := v.MemoryStore.List(ctx)
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for _, id := range ids {
		rec, err := v.MemoryStore.Load(ctx, id)
		if _, owned := v.owner[id]; err == nil && !owned && rec.State.Active() {
			out = append(out, id)
		}
	}
	return out, nil
}

// Save is fenced: only the owner writes.
func (v view) Save(ctx context.Context, id string, rec *Record, evs []*Event) error {
	if !v.Owns(id) {
		return fmt.Errorf("save %s: %w", id, ErrNotOwner)
	}
	return v.MemoryStore.Save(ctx, id, rec, evs)
}

// takeOver moves a session's lease to another instance behind the owner's
// back, as an expired lease claimed elsewhere does.
func (s *sharedStore) takeOver(id, to string) {
	s.mu.Lock()
	s.owner[id] = to
	s.mu.Unlock()
}

func TestOwnershipFencesTheOldOwnerAndTheNewOneTakesOver(t *testing.T) {
	shared := newSharedStore()
	bubble(t, Options{Store: view{shared, "a"}}, func(t *testing.T, a *rig) {
		s, _ := connected(t, a, "s")
		if err := (view{shared, "b"}).Claim(bgCtx, "s"); err == nil {
			t.Fatal("the shared table let a second claim through")
		}
		b := newRig(t, Options{Store: view{shared, "b"}})
		if _, err := b.engine.Session(bgCtx, "s"); !errors.Is(err, ErrOwnedElsewhere) {
			t.Fatalf("b opened a session a owns: %v", err)
		}

		// a is paused past its lease; b takes the chat over.
		shared.takeOver("s", "b")
		sent := a.desk("s").Count("SendMessageToAgent")
		if _, err := s.SendText(bgCtx, "typed into a after it lost the lease"); err == nil {
			t.Fatal("a acknowledged a message it could not save")
		}
		synctest.Wait()
		if n := a.desk("s").Count("SendMessageToAgent"); n != sent {
			t.Fatalf("a called the desk %d more times after it lost the lease", n-sent)
		}
		if _, live := a.engine.Lookup("s"); live {
			t.Fatal("a still drives the session after its save was fenced")
		}

		s2, err := b.engine.Session(bgCtx, "s")
		must(t, err)
		synctest.Wait()
		if b.desk("s").Count("Reconnect") != 1 || b.desk("s").Count("StartChat") != 0 {
			t.Fatalf("b's desk calls %v: want one Reconnect and no StartChat", b.desk("s").Calls())
		}
		if s2.State() != StateConnected {
			t.Fatalf("state on b: %s", s2.State())
		}
		must(t, b.engine.Close(bgCtx))
	})
}

func TestAdoptTakesOrphansAndCloseReleases(t *testing.T) {
	shared := newSharedStore()
	bubble(t, Options{Store: view{shared, "a"}}, func(t *testing.T, a *rig) {
		connected(t, a, "s1")
		connected(t, a, "s2")
		a.session("idle") // no chat: never an orphan
		synctest.Wait()
		must(t, a.engine.Close(bgCtx)) // a drains: every lease released
		if shared.owner["s1"] != "" || shared.owner["s2"] != "" {
			t.Fatalf("leases after a's Close: %v", shared.owner)
		}
		b := newRig(t, Options{Store: view{shared, "b"}})
		n, err := b.engine.Adopt(bgCtx, 10)
		must(t, err)
		synctest.Wait()
		if n != 2 {
			t.Fatalf("b adopted %d chats, want 2", n)
		}
		for _, id := range []string{"s1", "s2"} {
			if st := b.session(id).State(); st != StateConnected {
				t.Fatalf("%s on b: %s", id, st)
			}
		}
		must(t, b.engine.Close(bgCtx))
	})
}
