package boltstore

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/flow/storetest"
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
