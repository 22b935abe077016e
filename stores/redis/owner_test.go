package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
	"github.com/deskbridge/deskbridge/stores/redis/redistest"
	"github.com/redis/go-redis/v9"
)

// instances opens stores for instances a and b on one Redis and prefix.
func instances(t *testing.T, srv *redistest.Server, lease time.Duration) (a, b *redisstore.Store) {
	prefix := newPrefix()
	a = open(t, srv, redisstore.Options{Prefix: prefix, Instance: "a", LeaseTTL: lease})
	b = open(t, srv, redisstore.Options{Prefix: prefix, Instance: "b", LeaseTTL: lease})
	return a, b
}

func TestLeases(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()

	t.Run("one owner; the other can neither claim nor write", func(t *testing.T) {
		a, b := instances(t, srv, time.Second)
		if err := a.Claim(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		if err := a.Claim(ctx, "s"); err != nil {
			t.Fatalf("a claiming its own session again: %v", err)
		}
		if err := b.Claim(ctx, "s"); !errors.Is(err, flow.ErrOwnedElsewhere) {
			t.Fatalf("b claims a's session: %v, want ErrOwnedElsewhere", err)
		}
		rec, evs := batch("s", 1)
		if err := b.Save(ctx, "s", rec, evs); !errors.Is(err, flow.ErrNotOwner) {
			t.Fatalf("b saves a's session: %v, want ErrNotOwner", err)
		}
		if err := a.Save(ctx, "s", rec, evs); err != nil {
			t.Fatalf("a saves its own: %v", err)
		}
		if !a.Owns("s") || b.Owns("s") {
			t.Fatalf("Owns: a %v, b %v", a.Owns("s"), b.Owns("s"))
		}
	})

	t.Run("renewal keeps a lease past its TTL", func(t *testing.T) {
		a, b := instances(t, srv, 300*time.Millisecond)
		if err := a.Claim(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // over three leases
		if err := b.Claim(ctx, "s"); !errors.Is(err, flow.ErrOwnedElsewhere) {
			t.Fatalf("after a renewed for a second, b claims: %v", err)
		}
		if !a.Owns("s") {
			t.Fatal("a's renewed lease does not hold by its own clock")
		}
	})

	t.Run("release hands over at once", func(t *testing.T) {
		a, b := instances(t, srv, time.Minute)
		if err := a.Claim(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		if err := a.Release(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		if a.Owns("s") {
			t.Fatal("a owns what it released")
		}
		if err := b.Claim(ctx, "s"); err != nil {
			t.Fatalf("b claims a released session: %v", err)
		}
	})

	t.Run("a paused owner is fenced and told it lost the session", func(t *testing.T) {
		// a's lease runs out as if a were paused (its key removed, and a's
		// renewals kept away from Redis by a closed gate); b claims.
		a, b := instances(t, srv, 400*time.Millisecond)
		if err := a.Claim(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		rec, evs := batch("s", 1)
		if err := a.Save(ctx, "s", rec, evs); err != nil {
			t.Fatal(err)
		}
		raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		defer raw.Close()
		keys, err := raw.Keys(ctx, "*:own").Result()
		if err != nil || len(keys) == 0 {
			t.Fatalf("lease keys %v, %v", keys, err)
		}
		for _, k := range keys {
			raw.Del(ctx, k)
		}
		if err := b.Claim(ctx, "s"); err != nil {
			t.Fatalf("b claims an expired lease: %v", err)
		}
		// a wakes up and writes: refused by Redis, nothing written.
		rec2, evs2 := batch("s", 2)
		if err := a.Save(ctx, "s", rec2, evs2); !errors.Is(err, flow.ErrNotOwner) {
			t.Fatalf("a saves after b took over: %v, want ErrNotOwner", err)
		}
		if got, err := b.Load(ctx, "s"); err != nil || got.LastSeq != 1 {
			t.Fatalf("after the fenced save: last seq %d, %v; want 1", got.LastSeq, err)
		}
		if err := b.Save(ctx, "s", rec2, evs2); err != nil {
			t.Fatalf("b, the owner now, saves: %v", err)
		}
		if a.Owns("s") {
			t.Fatal("a still thinks it owns the session after a fenced save")
		}
		if err := a.Claim(ctx, "s"); !errors.Is(err, flow.ErrOwnedElsewhere) {
			t.Fatalf("a claims back: %v", err)
		}
	})

	t.Run("renewal reports a lease taken elsewhere", func(t *testing.T) {
		a, b := instances(t, srv, 300*time.Millisecond)
		lostc := make(chan string, 1)
		a.OnLost(func(id string) { lostc <- id })
		if err := a.Claim(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		defer raw.Close()
		keys, _ := raw.Keys(ctx, "*:own").Result()
		for _, k := range keys {
			raw.Del(ctx, k)
		}
		if err := b.Claim(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-lostc:
			if id != "s" {
				t.Fatalf("lost %q", id)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("a's renewal never reported the lease lost")
		}
	})

	t.Run("a lease that expired while nobody claimed is renewed", func(t *testing.T) {
		a, b := instances(t, srv, 300*time.Millisecond)
		if err := a.Claim(ctx, "s"); err != nil {
			t.Fatal(err)
		}
		raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		defer raw.Close()
		keys, _ := raw.Keys(ctx, "*:own").Result()
		for _, k := range keys {
			raw.Del(ctx, k) // as if Redis had been away past the lease
		}
		time.Sleep(250 * time.Millisecond) // a renewal
		if err := b.Claim(ctx, "s"); !errors.Is(err, flow.ErrOwnedElsewhere) {
			t.Fatalf("b claims after a renewed an expired, unclaimed lease: %v", err)
		}
	})

	t.Run("orphans are running chats without an owner", func(t *testing.T) {
		a, b := instances(t, srv, time.Minute)
		for _, id := range []string{"run1", "run2", "idle"} {
			if err := a.Claim(ctx, id); err != nil {
				t.Fatal(err)
			}
			st := flow.StateConnected
			if id == "idle" {
				st = flow.StateEnded
			}
			if err := a.Save(ctx, id, &flow.Record{ID: id, State: st}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := b.Orphans(ctx, 10); err != nil || len(got) != 0 {
			t.Fatalf("orphans while a owns all: %v, %v", got, err)
		}
		for _, id := range []string{"run1", "run2", "idle"} {
			if err := a.Release(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		got, err := b.Orphans(ctx, 10)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, []string{"run1", "run2"}) {
			t.Fatalf("orphans after a released: %v, %v; want run1, run2", got, err)
		}
		if got, _ := b.Orphans(ctx, 1); len(got) != 1 {
			t.Fatalf("orphans with limit 1: %v", got)
		}
		// An ended chat leaves the index.
		if err := b.Claim(ctx, "run1"); err != nil {
			t.Fatal(err)
		}
		if err := b.Save(ctx, "run1", &flow.Record{ID: "run1", State: flow.StateEnded}, nil); err != nil {
			t.Fatal(err)
		}
		if err := b.Release(ctx, "run1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.Orphans(ctx, 10); !slices.Equal(got, []string{"run2"}) {
			t.Fatalf("orphans after run1 ended: %v", got)
		}
	})
}
