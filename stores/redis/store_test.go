package redisstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/flow/storetest"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
	"github.com/deskbridge/deskbridge/stores/redis/redistest"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// go-redis logs each failed dial; the fault tests make many on purpose.
	redis.SetLogger(quiet{})
	// No goroutine is ignored: a closed client leaves none behind.
	goleak.VerifyTestMain(m)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var prefixes atomic.Int64

// newPrefix gives each harness its own keys on a shared server.
func newPrefix() string { return fmt.Sprintf("t%d", prefixes.Add(1)) }

// open opens a store with its own client, closed when the test ends
// (the suite closes it earlier on a reopen; a second Close is harmless).
func open(t testing.TB, srv *redistest.Server, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	st, err := redisstore.Open(context.Background(), srv.URL(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestSuite(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	for _, c := range []struct {
		name string
		opts redisstore.Options
		st   storetest.Options
	}{
		{"tail_16", redisstore.Options{Tail: 16}, storetest.Options{Tail: 16}},
		{"small_file_bound", redisstore.Options{Tail: 8, MaxFileBytes: 1 << 20}, storetest.Options{Tail: 8, MaxFileBytes: 1 << 20}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Harness {
				opts := c.opts
				opts.Prefix = newPrefix()
				return storetest.HarnessFunc(func(t *testing.T) flow.Store { return open(t, srv, opts) })
			}, c.st)
		})
	}
}
