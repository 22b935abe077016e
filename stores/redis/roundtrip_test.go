package redisstore_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
	"github.com/deskbridge/deskbridge/stores/redis/redistest"
	"github.com/redis/go-redis/v9"
)

// trips counts round trips: a command, or a pipeline, sent and answered.
type trips struct{ n atomic.Int64 }

func (h *trips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *trips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *trips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// Every operation is one round trip (its script once in Redis' cache).
func TestRoundTrips(t *testing.T) {
	// A client of the test's own, not Open's: the hook counts what the
	// store sends, and New must not close the client it was given.
	srv := redistest.Start(t, redistest.Options{})
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	h := &trips{}
	c.AddHook(h)
	st := redisstore.New(c, redisstore.Options{Prefix: newPrefix()})
	ctx := context.Background()
	rec := &flow.Record{ID: "s", State: flow.StateConnected}
	ev := func(seq uint64) []*flow.Event {
		return []*flow.Event{{Seq: seq, Type: flow.EventAgentRead, Time: 1}}
	}
	seq := uint64(0)
	ops := []struct {
		name string
		fn   func(seq uint64) error
	}{
		{"Save", func(uint64) error { seq++; return st.Save(ctx, "s", rec, ev(seq)) }},
		{"Save without record", func(uint64) error { seq++; return st.Save(ctx, "s", nil, ev(seq)) }},
		{"Load", func(uint64) error { _, err := st.Load(ctx, "s"); return err }},
		{"Events", func(uint64) error { _, err := st.Events(ctx, "s", 0, 0); return err }},
		{"List", func(uint64) error { _, err := st.List(ctx); return err }},
		{"PutFile", func(uint64) error { return st.PutFile(ctx, "s", flow.FileInfo{ID: "f"}, []byte("data")) }},
		{"OpenFile", func(uint64) error { _, rc, err := st.OpenFile(ctx, "s", "f"); rc.Close(); return err }},
		{"DeleteFiles", func(uint64) error { return st.DeleteFiles(ctx, "s") }},
		{"Delete", func(uint64) error { return st.Delete(ctx, "x") }},
		{"Ping", func(uint64) error { return st.Ping(ctx) }},
	}
	for round := range 2 {
		// The first round may load a script (EVALSHA, NOSCRIPT, EVAL).
		for _, op := range ops {
			before := h.n.Load()
			if err := op.fn(0); err != nil {
				t.Fatalf("%s: %v", op.name, err)
			}
			n := h.n.Load() - before
			if round == 0 {
				t.Logf("%s, first call: %d round trips", op.name, n)
			}
			if round == 1 && n != 1 {
				t.Errorf("%s took %d round trips, want 1", op.name, n)
			}
		}
	}
	// A Redis that lost its script cache (a restart) loads it again.
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	seq++
	if err := st.Save(ctx, "s", rec, ev(seq)); err != nil {
		t.Fatalf("Save after SCRIPT FLUSH: %v", err)
	}
	if got, err := st.Load(ctx, "s"); err != nil || got.LastSeq != seq {
		t.Fatalf("Load after SCRIPT FLUSH: %v, %v", got.LastSeq, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("the client after the store's Close: %v (New's client is the caller's)", err)
	}
}

// A cancelled context fails the call and writes nothing.
func TestContext(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	st := open(t, srv, redisstore.Options{Prefix: newPrefix()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ev := []*flow.Event{{Seq: 1, Type: flow.EventAgentRead}}
	if err := st.Save(ctx, "c", &flow.Record{ID: "c"}, ev); !errors.Is(err, context.Canceled) {
		t.Fatalf("Save with a cancelled context: %v", err)
	}
	if _, err := st.Load(context.Background(), "c"); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("Load after a cancelled Save: %v, want ErrNotFound", err)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	srv.Pause()
	defer srv.Resume()
	start := time.Now()
	_, err := st.Load(short, "c")
	if !errors.Is(err, flow.ErrStoreUnavailable) || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("Load with a 50ms deadline on a paused Redis: %v after %v", err, time.Since(start))
	}
}

// A session expires whole TTL after its last save: gone from Load, Events,
// List and its files, and the bytes of its files are free again. A save
// within the TTL keeps it.
func TestTTL(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	const ttl = time.Second
	st := open(t, srv, redisstore.Options{Prefix: newPrefix(), TTL: ttl, MaxFileBytes: 1000})
	ctx := context.Background()
	big := make([]byte, 800)
	for _, id := range []string{"old", "kept"} {
		if err := st.Save(ctx, id, &flow.Record{ID: id}, []*flow.Event{{Seq: 1, Type: flow.EventAgentRead}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutFile(ctx, "old", flow.FileInfo{ID: "f", Name: "a.bin"}, big); err != nil {
		t.Fatal(err)
	}
	if err := st.PutFile(ctx, "kept", flow.FileInfo{ID: "f", Name: "b.bin"}, make([]byte, 300)); !errors.Is(err, flow.ErrStoreFull) {
		t.Fatalf("PutFile past the bound: %v", err)
	}
	// "kept" is saved every quarter of the TTL, "old" never again.
	deadline := time.Now().Add(2 * ttl)
	for seq := uint64(2); time.Now().Before(deadline); seq++ {
		if err := st.Save(ctx, "kept", nil, []*flow.Event{{Seq: seq, Type: flow.EventAgentRead}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(ttl / 4)
	}
	if _, err := st.Load(ctx, "old"); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("Load of an expired session: %v, want ErrNotFound", err)
	}
	if _, err := st.Events(ctx, "old", 0, 0); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("Events of an expired session: %v, want ErrNotFound", err)
	}
	if _, _, err := st.OpenFile(ctx, "old", "f"); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("OpenFile of an expired session: %v, want ErrNotFound", err)
	}
	if ids, err := st.List(ctx); err != nil || !slices.Equal(ids, []string{"kept"}) {
		t.Fatalf("List: %v, %v; want [kept]", ids, err)
	}
	if r, err := st.Load(ctx, "kept"); err != nil || r.LastSeq < 5 {
		t.Fatalf("the session saved within its TTL: %+v, %v", r, err)
	}
	// The expired file's bytes count no more.
	if err := st.PutFile(ctx, "kept", flow.FileInfo{ID: "g", Name: "c.bin"}, big); err != nil {
		t.Fatalf("PutFile after the big file expired: %v", err)
	}
	_, rc, err := st.OpenFile(ctx, "kept", "g")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(rc); len(b) != len(big) {
		t.Fatalf("file back with %d bytes", len(b))
	}
	rc.Close()
}

// Keys carry the session in a hash tag: all of one session in one slot.
func TestKeysShareASlot(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	st := redisstore.New(c, redisstore.Options{Prefix: "p"})
	ctx := context.Background()
	id := "odd {id}:with/all}{"
	if err := st.Save(ctx, id, &flow.Record{ID: id}, []*flow.Event{{Seq: 1, Type: flow.EventAgentRead}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutFile(ctx, id, flow.FileInfo{ID: "f"}, []byte("x")); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, "p:{*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("keys of the session: %q, want 3", keys)
	}
	tags := map[string]bool{}
	for _, k := range keys {
		tags[hashTag(k)] = true
		if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Fatalf("key %s has no TTL (%v)", k, ttl)
		}
	}
	if len(tags) != 1 || tags[""] {
		t.Fatalf("keys %q have hash tags %v, want one", keys, tags)
	}
}

// hashTag is what Redis Cluster hashes of a key: the text between the
// first '{' and the next '}', when not empty.
func hashTag(key string) string {
	i := strings.IndexByte(key, '{')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(key[i+1:], '}')
	if j <= 0 {
		return ""
	}
	return key[i+1 : i+1+j]
}

// A session saved before the store counted its event bytes (no eb in its
// hash) is counted once, at its next save, and bounded from then on.
func TestEventBytesOfAnUncountedSession(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	st := redisstore.New(c, redisstore.Options{Prefix: "p", MaxEventBytes: 10 << 10})
	ctx := context.Background()
	big := func(seq uint64) *flow.Event {
		msg := servicedesk.TextResponse(strings.Repeat("x", 3<<10))
		return &flow.Event{Seq: seq, Type: flow.EventAgentMessage, Message: &msg}
	}
	if err := st.Save(ctx, "s", &flow.Record{ID: "s"}, []*flow.Event{big(1), big(2), big(3)}); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, "p:{*}:s").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("session hash: %q, %v", keys, err)
	}
	if err := c.HDel(ctx, keys[0], "eb").Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, "s", nil, []*flow.Event{big(4)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Events(ctx, "s", 0, 0); !errors.Is(err, flow.ErrEventsTrimmed) {
		t.Fatalf("Events after 0 with 4 events of 3 KiB and a bound of 10 KiB: %v, want ErrEventsTrimmed", err)
	}
	evs, err := st.Events(ctx, "s", 1, 0)
	if err != nil || len(evs) != 3 {
		t.Fatalf("Events after 1: %d events, %v; want seqs 2 to 4", len(evs), err)
	}
	eb, err := c.HGet(ctx, keys[0], "eb").Int64()
	if err != nil || eb <= 9<<10 || eb > 10<<10 {
		t.Fatalf("eb %d (%v), want the 3 events' bytes", eb, err)
	}
}
