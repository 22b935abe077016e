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

// After a Redis restart the instances listen again soon: forwarding works
// within a few seconds, not a lease later.
func TestForwardAfterRedisRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	a, b := instances(t, srv, time.Minute)
	a.HandleForwarded(func(context.Context, string, []byte) []byte { return []byte(`"ok"`) })
	if err := a.Claim(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Forward(ctx, "s", []byte("1")); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	srv.Start()
	start := time.Now()
	for {
		_, err := b.Forward(ctx, "s", []byte("2"))
		if err == nil {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("forwarding still fails %v after Redis came back: %v", time.Since(start), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("forwarding works again %v after Redis came back", time.Since(start).Round(time.Millisecond))
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("forwarding came back after %v, want within 3 s", took)
	}
}
