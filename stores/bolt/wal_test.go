package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/deskbridge/deskbridge/core/flow"
)

// neverApply keeps every write in the log until a read or Close needs it.
var neverApply = applyBounds{every: time.Hour, entries: 1 << 30, bytes: 1 << 30}

// writeLog writes a log file of generation gen holding entries, then tail
// (a torn write, say).
func writeLog(t *testing.T, path string, gen uint64, tail []byte, entries ...*entry) {
	t.Helper()
	b := binary.BigEndian.AppendUint64(slices.Clip(logMagic), gen)
	for _, e := range entries {
		b = e.appendTo(b)
	}
	if err := os.WriteFile(logName(path, gen), append(b, tail...), 0o600); err != nil {
		t.Fatal(err)
	}
}

func saveEntry(t *testing.T, id string, r *flow.Record, seqs ...uint64) *entry {
	t.Helper()
	e := &entry{kind: entrySave, id: id}
	if r != nil {
		b, err := flow.RecordJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		e.rec = b
	}
	for _, seq := range seqs {
		e.events = append(e.events, &flow.Event{Seq: seq})
		e.evJSON = append(e.evJSON, fmt.Appendf(nil, `{"seq":%d,"type":"agent_message","time":0,"text":"%s %d"}`, seq, id, seq))
	}
	return e
}

func logFiles(t *testing.T, path string) []uint64 {
	t.Helper()
	gens, err := logGenerations(path)
	if err != nil {
		t.Fatal(err)
	}
	return gens
}

// What a crash leaves in the log is replayed at Open, in order: saves,
// a delete, a record-only save; a torn last write is dropped, not an error.
func TestOpenReplaysTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	s := openTest(t, path, Options{})
	if err := s.Save(context.Background(), "gone", rec("gone"), event(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if gens := logFiles(t, path); len(gens) != 0 {
		t.Fatalf("logs %v after Close, want none: Close applies and removes them", gens)
	}
	torn := saveEntry(t, "a", &flow.Record{ID: "a", State: flow.StateConnected, Chat: 9}, 4).appendTo(nil)
	writeLog(t, path, 2, torn[:len(torn)-3],
		saveEntry(t, "a", &flow.Record{ID: "a", State: flow.StateConnected, Chat: 1}, 1, 2),
		&entry{kind: entryDelete, id: "gone"},
		saveEntry(t, "a", nil, 3),
		saveEntry(t, "b", &flow.Record{ID: "b", State: flow.StateWaiting, Chat: 2}),
	)
	s = openTest(t, path, Options{})
	defer s.Close()
	ctx := context.Background()
	if gens := logFiles(t, path); len(gens) != 1 || gens[0] != 3 {
		t.Errorf("logs %v after the replay, want only the new generation 3", gens)
	}
	a, err := s.Load(ctx, "a")
	if err != nil || a.Chat != 1 || a.LastSeq != 3 {
		t.Fatalf("a after the replay: %+v, %v; want the record of chat 1 and events up to 3 (the torn save dropped)", a, err)
	}
	evs, err := s.Events(ctx, "a", 0, 0)
	if err != nil || len(evs) != 3 || evs[2].Text != "a 3" {
		t.Fatalf("a's events: %+v, %v", evs, err)
	}
	if b, err := s.Load(ctx, "b"); err != nil || b.State != flow.StateWaiting || b.LastSeq != 0 {
		t.Errorf("b: %+v, %v", b, err)
	}
	if _, err := s.Load(ctx, "gone"); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("the deleted session: %v, want ErrNotFound", err)
	}
	if err := s.Save(ctx, "a", nil, event(4)); err != nil {
		t.Errorf("a save after the replayed ones: %v", err)
	}
}

// A log whose generation bbolt already applied (a crash between an apply's
// commit and the log's removal) is removed at Open, not replayed again.
func TestOpenSkipsAnAppliedLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	s := openTest(t, path, Options{})
	if err := s.Save(context.Background(), "kept", rec("kept"), event(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // applies generation 1
		t.Fatal(err)
	}
	writeLog(t, path, 1, nil, &entry{kind: entryDelete, id: "kept"})
	s = openTest(t, path, Options{})
	defer s.Close()
	if r, err := s.Load(context.Background(), "kept"); err != nil || r.LastSeq != 1 {
		t.Fatalf("kept: %+v, %v; the applied log was replayed again", r, err)
	}
	if gens := logFiles(t, path); slices.Contains(gens, 1) {
		t.Errorf("logs %v: the applied generation 1 is still there", gens)
	}
}

// A log with a header that is not this store's is an error naming it.
func TestOpenRefusesACorruptLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	s := openTest(t, path, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	bad := make([]byte, logHeaderLen+20)
	copy(bad, "some other program's file")
	if err := os.WriteFile(logName(path, 7), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, Options{Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), logName(path, 7)) || !strings.Contains(err.Error(), "header") {
		t.Fatalf("Open with a corrupt log: %v; want an error naming it", err)
	}
}

// Reads see writes the log holds and bbolt does not yet: Load, Events and
// List apply the log first; saves go on being checked against it.
func TestReadsSeeTheLog(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "flow.db"), Options{})
	defer s.Close()
	s.bounds = neverApply
	ctx := context.Background()
	for seq := uint64(1); seq <= 3; seq++ {
		if err := s.Save(ctx, "a", rec("a"), event(seq)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(ctx, "a", nil, event(5)); !errors.Is(err, flow.ErrSeqGap) {
		t.Fatalf("a save with a gap after logged events: %v, want ErrSeqGap", err)
	}
	if n := s.applies.Load(); n != 0 {
		t.Fatalf("%d applies before any read", n)
	}
	if r, err := s.Load(ctx, "a"); err != nil || r.LastSeq != 3 {
		t.Fatalf("Load: %+v, %v", r, err)
	}
	if n := s.applies.Load(); n != 1 {
		t.Errorf("%d applies after a Load of a logged session, want 1", n)
	}
	if err := s.Save(ctx, "b", rec("b"), event(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.List(ctx); err != nil || !slices.Equal(ids, []string{"b"}) {
		t.Errorf("List: %v, %v; want [b]", ids, err)
	}
	if _, err := s.Events(ctx, "a", 0, 0); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("Events of the deleted session: %v, want ErrNotFound", err)
	}
	// A read of a session the log does not hold applies nothing.
	if err := s.Save(ctx, "c", rec("c"), event(1)); err != nil {
		t.Fatal(err)
	}
	before := s.applies.Load()
	if _, err := s.Load(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if n := s.applies.Load(); n != before {
		t.Errorf("a Load of a session not in the log applied it")
	}
}

// The log is applied in the background once a generation is full, and
// saves during the apply go to the next generation.
func TestApplyInTheBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	s := openTest(t, path, Options{Tail: 1 << 20})
	defer s.Close()
	s.bounds = applyBounds{every: time.Hour, entries: 10, bytes: 1 << 30}
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			id := fmt.Sprint("w", w)
			for seq := uint64(1); seq <= 50; seq++ {
				if err := s.Save(ctx, id, rec(id), event(seq)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for s.applies.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := s.applies.Load(); n < 5 {
		t.Fatalf("%d applies of 200 saves at 10 a generation", n)
	}
	for w := range 4 {
		id := fmt.Sprint("w", w)
		evs, err := s.Events(ctx, id, 0, 0)
		if err != nil || len(evs) != 50 || evs[49].Seq != 50 {
			t.Fatalf("%s: %d events, %v", id, len(evs), err)
		}
	}
}

// A lone save commits at once; after a group of several, the next waits
// up to groupLinger for company.
func TestGroupLinger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openTest(t, filepath.Join(t.TempDir(), "flow.db"), Options{})
		defer s.Close()
		ctx := context.Background()
		start := time.Now()
		if err := s.Save(ctx, "lone", rec("lone"), event(1)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("a lone save waited %v", d)
		}
		release := hold(t, s)
		errs := make(chan error, 2)
		for _, id := range []string{"x", "y"} {
			go func() { errs <- s.Save(ctx, id, rec(id), event(1)) }()
		}
		synctest.Wait()
		release()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		// The group of x and y had company: the next one lingers.
		start = time.Now()
		if err := s.Save(ctx, "next", rec("next"), event(1)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != groupLinger {
			t.Fatalf("the save after a busy group waited %v, want %v", d, groupLinger)
		}
		start = time.Now()
		if err := s.Save(ctx, "after", rec("after"), event(1)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("a save after a lone one waited %v", d)
		}
	})
}

// A format 2 file (no log) opens with its data and becomes format 3, which
// an older store refuses rather than ignore the log.
func TestOpenMovesFormat2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	s := openTest(t, path, Options{})
	if err := s.Save(context.Background(), "s", rec("s"), event(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	setFormat(t, path, formatV2)
	s = openTest(t, path, Options{})
	defer s.Close()
	if r, err := s.Load(context.Background(), "s"); err != nil || r.LastSeq != 1 {
		t.Fatalf("Load after the move: %+v, %v", r, err)
	}
	if f := formatOf(t, s); f != string(formatV3) {
		t.Errorf("format %q after Open, want %q", f, formatV3)
	}
}

func setFormat(t *testing.T, path string, format []byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, format) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

func formatOf(t *testing.T, s *Store) string {
	t.Helper()
	var f string
	if err := s.view(func(tx *bolt.Tx) error {
		f = string(tx.Bucket(bucketMeta).Get(keyFormat))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return f
}
