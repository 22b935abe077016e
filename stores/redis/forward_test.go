package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/stores/redis/redistest"
)

func TestForward(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	a, b := instances(t, srv, time.Minute)
	a.HandleForwarded(func(_ context.Context, id string, req []byte) []byte {
		return []byte(`"` + id + ` answered ` + string(req) + `"`)
	})
	if _, err := b.Forward(ctx, "s", []byte("1")); !errors.Is(err, flow.ErrNotOwner) {
		t.Fatalf("forward for a session nobody owns: %v, want ErrNotOwner", err)
	}
	if err := a.Claim(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	got, err := b.Forward(ctx, "s", []byte("1"))
	if err != nil || string(got) != `"s answered 1"` {
		t.Fatalf("forward to the owner: %s, %v", got, err)
	}

	// b watches the session's events; a's saves signal them.
	signal, stop := b.WatchEvents("s")
	defer stop()
	time.Sleep(50 * time.Millisecond) // the subscription reaches Redis
	rec, evs := batch("s", 1)
	if err := a.Save(ctx, "s", rec, evs); err != nil {
		t.Fatal(err)
	}
	select {
	case <-signal:
	case <-time.After(2 * time.Second):
		t.Fatal("no signal of a's save")
	}

	// An owner that is gone (closed, its lease not yet expired) does not
	// answer: the forward fails at once, not after a timeout.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := b.Forward(ctx, "s", []byte("2")); !errors.Is(err, flow.ErrStoreUnavailable) || time.Since(start) > time.Second {
		t.Fatalf("forward to a closed owner: %v after %v, want ErrStoreUnavailable at once", err, time.Since(start))
	}
}
