package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"

	bolt "go.etcd.io/bbolt"

	"github.com/deskbridge/deskbridge/core/flow"
)

// hold occupies the committer: it hands it an op that blocks inside the
// transaction until release is called. The ops submitted meanwhile queue.
func hold(t *testing.T, s *Store) (release func()) {
	t.Helper()
	taken, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.submit(context.Background(), func(tx *bolt.Tx) error {
			close(taken)
			<-gate
			return nil
		})
	}()
	<-taken
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Errorf("the holding op: %v", err)
		}
	}
}

func event(seq uint64) []*flow.Event {
	return []*flow.Event{{Seq: seq, Type: flow.EventAgentMessage, Time: int64(seq)}}
}

func rec(id string) *flow.Record { return &flow.Record{ID: id, State: flow.StateConnected} }

// The saves that queue while a commit runs go in the next one, all at
// once, up to maxBatch a commit.
func TestGroupCommitTakesAllQueued(t *testing.T) {
	for _, n := range []int{1, 100, maxBatch + 88} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := openTest(t, filepath.Join(t.TempDir(), "flow.db"), Options{})
				defer s.Close()
				release := hold(t, s)
				before := s.commits.Load()
				errs := make(chan error, n)
				for i := range n {
					go func() {
						id := fmt.Sprintf("s%04d", i)
						errs <- s.Save(context.Background(), id, rec(id), event(1))
					}()
				}
				synctest.Wait() // every save is queued
				release()
				for range n {
					if err := <-errs; err != nil {
						t.Fatal(err)
					}
				}
				batches := (n + maxBatch - 1) / maxBatch
				if got := s.commits.Load() - before; got != int64(1+batches) {
					t.Fatalf("%d queued saves took %d commits after the holding one, want %d", n, got-1, batches)
				}
				if ids, _ := s.List(context.Background()); len(ids) != n {
					t.Fatalf("%d sessions stored, want %d", len(ids), n)
				}
			})
		})
	}
}

// Saving from many goroutines at once, with real fsyncs, commits far less
// often than it saves.
func TestGroupCommitUnderLoad(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "flow.db"), Options{})
	defer s.Close()
	const writers, saves = 32, 40
	before := s.commits.Load()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("w%02d", w)
			for seq := uint64(1); seq <= saves; seq++ {
				if err := s.Save(context.Background(), id, rec(id), event(seq)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	commits := s.commits.Load() - before
	t.Logf("%d saves in %d commits (%.1f saves a commit)", writers*saves, commits, float64(writers*saves)/float64(commits))
	if commits*4 > writers*saves {
		t.Fatalf("%d saves took %d commits: not grouped", writers*saves, commits)
	}
}

// A refused save in a group fails alone; so does one whose write failed,
// and what it wrote is rolled back.
func TestGroupCommitFailsOnlyTheFailing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openTest(t, filepath.Join(t.TempDir(), "flow.db"), Options{})
		defer s.Close()
		ctx := context.Background()
		if err := s.Save(ctx, "gap", rec("gap"), event(1)); err != nil {
			t.Fatal(err)
		}
		release := hold(t, s)
		before := s.commits.Load()
		results := make(map[string]chan error)
		run := func(id string, f func() error) {
			c := make(chan error, 1)
			results[id] = c
			go func() { c <- f() }()
			synctest.Wait() // queue in this order
		}
		run("a", func() error { return s.Save(ctx, "a", rec("a"), event(1)) })
		run("gap", func() error { return s.Save(ctx, "gap", rec("gap"), event(3)) })
		boom := errors.New("boom")
		run("poison", func() error {
			return s.submit(ctx, func(tx *bolt.Tx) error {
				if err := tx.Bucket(bucketRecords).Put([]byte("poison"), []byte(`{"id":"poison"}`)); err != nil {
					return err
				}
				return boom // after writing: the group must roll it back
			})
		})
		run("c", func() error { return s.Save(ctx, "c", rec("c"), event(1)) })
		release()
		for id, want := range map[string]error{"a": nil, "gap": flow.ErrSeqGap, "poison": boom, "c": nil} {
			if err := <-results[id]; !errors.Is(err, want) || (want == nil && err != nil) {
				t.Errorf("%s: %v, want %v", id, err, want)
			}
		}
		// The hold, then the group without the poison (its first try rolled back).
		if got := s.commits.Load() - before; got != 2 {
			t.Errorf("%d commits, want 2", got)
		}
		if _, err := s.Load(ctx, "poison"); !errors.Is(err, flow.ErrNotFound) {
			t.Errorf("the failed op's write: %v, want ErrNotFound", err)
		}
		if r, err := s.Load(ctx, "gap"); err != nil || r.LastSeq != 1 {
			t.Errorf("the refused session: %+v, %v", r, err)
		}
		for _, id := range []string{"a", "c"} {
			if r, err := s.Load(ctx, id); err != nil || r.LastSeq != 1 {
				t.Errorf("session %s: %+v, %v", id, r, err)
			}
		}
	})
}

// A save whose ctx ends while it queues is not written; one already taken
// by the committer is, whatever its ctx does.
func TestSaveContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openTest(t, filepath.Join(t.TempDir(), "flow.db"), Options{})
		defer s.Close()
		bg := context.Background()

		done, cancel := context.WithCancel(bg)
		cancel()
		if err := s.Save(done, "early", rec("early"), event(1)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Save with a done ctx: %v", err)
		}

		release := hold(t, s)
		queued, cancelQueued := context.WithCancel(bg)
		errc := make(chan error, 1)
		go func() { errc <- s.Save(queued, "late", rec("late"), event(1)) }()
		synctest.Wait()
		cancelQueued()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Save cancelled while queued: %v", err)
		}

		// "taken" and a second hold queue behind the first hold; the
		// committer takes both in one group, and the second hold blocks
		// inside it with "taken" applied.
		taken, cancelTaken := context.WithCancel(bg)
		go func() { errc <- s.Save(taken, "taken", rec("taken"), event(1)) }()
		synctest.Wait()
		inside, gate := make(chan struct{}), make(chan struct{})
		go func() {
			_ = s.submit(bg, func(*bolt.Tx) error { close(inside); <-gate; return nil })
		}()
		synctest.Wait()
		release()
		<-inside
		cancelTaken()
		close(gate)
		if err := <-errc; err != nil {
			t.Fatalf("Save cancelled after it was taken: %v, want its commit's nil", err)
		}

		for id, want := range map[string]error{"early": flow.ErrNotFound, "late": flow.ErrNotFound, "taken": nil} {
			if _, err := s.Load(bg, id); !errors.Is(err, want) || (want == nil && err != nil) {
				t.Errorf("Load(%s): %v, want %v", id, err, want)
			}
		}
	})
}

// Close lets the commit in progress finish, refuses what queues, and
// every call after it fails with ErrStoreUnavailable.
func TestClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	synctest.Test(t, func(t *testing.T) {
		s := openTest(t, path, Options{})
		ctx := context.Background()
		inside, gate := make(chan struct{}), make(chan struct{})
		inflight := make(chan error, 1)
		go func() {
			inflight <- s.submit(ctx, func(tx *bolt.Tx) error {
				close(inside)
				<-gate
				return tx.Bucket(bucketRecords).Put([]byte("inflight"), []byte(`{"id":"inflight"}`))
			})
		}()
		<-inside
		queued := make(chan error, 1)
		go func() { queued <- s.Save(ctx, "queued", rec("queued"), event(1)) }()
		synctest.Wait()
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		synctest.Wait()
		if err := <-queued; !errors.Is(err, flow.ErrStoreUnavailable) {
			t.Errorf("a save queued at Close: %v, want ErrStoreUnavailable", err)
		}
		select {
		case err := <-closed:
			t.Fatalf("Close returned (%v) before the commit in progress ended", err)
		default:
		}
		close(gate)
		if err := <-inflight; err != nil {
			t.Errorf("the commit in progress at Close: %v", err)
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("a second Close: %v", err)
		}
		fs := flow.FileStore(s)
		_, _, openErr := fs.OpenFile(ctx, "s", "f")
		_, loadErr := s.Load(ctx, "inflight")
		_, evErr := s.Events(ctx, "inflight", 0, 0)
		_, listErr := s.List(ctx)
		for name, err := range map[string]error{
			"Save":        s.Save(ctx, "s", rec("s"), event(1)),
			"Load":        loadErr,
			"Events":      evErr,
			"List":        listErr,
			"Delete":      s.Delete(ctx, "s"),
			"PutFile":     fs.PutFile(ctx, "s", flow.FileInfo{ID: "f"}, []byte("x")),
			"OpenFile":    openErr,
			"DeleteFiles": fs.DeleteFiles(ctx, "s"),
			"Ping":        s.Ping(ctx),
		} {
			if !errors.Is(err, flow.ErrStoreUnavailable) {
				t.Errorf("%s after Close: %v, want ErrStoreUnavailable", name, err)
			}
		}
	})
	s := openTest(t, path, Options{})
	defer s.Close()
	if _, err := s.Load(context.Background(), "inflight"); err != nil {
		t.Errorf("the commit that ran at Close: %v", err)
	}
	if _, err := s.Load(context.Background(), "queued"); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("the save refused at Close: %v, want ErrNotFound", err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
