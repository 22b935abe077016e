package boltstore

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/goleak"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/flow/storetest"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	goleak.VerifyTestMain(m)
}

const testTail = 16

// quiet is the logger of stores under test.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openTest(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestStore(t *testing.T) {
	const maxFiles = 1 << 20
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		path := filepath.Join(t.TempDir(), "flow.db")
		return storetest.HarnessFunc(func(t *testing.T) flow.Store {
			return openTest(t, path, Options{Tail: testTail, MaxFileBytes: maxFiles})
		})
	}, storetest.Options{Tail: testTail, MaxFileBytes: maxFiles})
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) flow.Store {
		s := openTest(b, filepath.Join(b.TempDir(), "flow.db"), Options{Tail: 256})
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// A session saved before the store counted its event bytes (a file of an
// older version: no count) is counted once, at its next save, and bounded
// from then on.
func TestEventBytesOfAnUncountedSession(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	s := openTest(t, path, Options{MaxEventBytes: 10 << 10})
	defer s.Close()
	ctx := t.Context()
	big := func(seq uint64) *flow.Event {
		msg := servicedesk.TextResponse(strings.Repeat("x", 3<<10))
		return &flow.Event{Seq: seq, Type: flow.EventAgentMessage, Message: &msg}
	}
	if err := s.Save(ctx, "s", &flow.Record{ID: "s"}, []*flow.Event{big(1), big(2), big(3)}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketEvBytes).Delete([]byte("s")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "s", nil, []*flow.Event{big(4)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Events(ctx, "s", 0, 0); !errors.Is(err, flow.ErrEventsTrimmed) {
		t.Fatalf("Events after 0 with 4 events of 3 KiB and a bound of 10 KiB: %v, want ErrEventsTrimmed", err)
	}
	if evs, err := s.Events(ctx, "s", 1, 0); err != nil || len(evs) != 3 {
		t.Fatalf("Events after 1: %d events, %v; want seqs 2 to 4", len(evs), err)
	}
}
