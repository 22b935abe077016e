package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
	"github.com/deskbridge/deskbridge/stores/redis/redistest"
	"github.com/redis/go-redis/v9"
)

// batch is save n of a session: a record that names it (Chat = seq) and
// its event, so that a record and its events show whether a save went in
// whole.
func batch(id string, seq uint64) (*flow.Record, []*flow.Event) {
	return &flow.Record{ID: id, State: flow.StateConnected, Chat: seq},
		[]*flow.Event{{Seq: seq, Type: flow.EventAgentTyping, Time: int64(seq), Chat: 1}}
}

// checkWhole fails unless the session's record is that of its newest event
// and its events run from 1 to it: every save there is there whole.
func checkWhole(t *testing.T, st *redisstore.Store, id string) uint64 {
	t.Helper()
	ctx := context.Background()
	rec, err := st.Load(ctx, id)
	if err != nil {
		t.Fatalf("Load(%s): %v", id, err)
	}
	if rec.Chat != rec.LastSeq {
		t.Fatalf("session %s: record of save %d beside events up to %d: a save went in by halves", id, rec.Chat, rec.LastSeq)
	}
	evs, err := st.Events(ctx, id, 0, 0)
	if err != nil {
		t.Fatalf("Events(%s): %v", id, err)
	}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("session %s: event %d has seq %d", id, i, ev.Seq)
		}
	}
	if uint64(len(evs)) != rec.LastSeq {
		t.Fatalf("session %s: %d events, last seq %d", id, len(evs), rec.LastSeq)
	}
	return rec.LastSeq
}

// saveUntil saves the batch as the engine does after a failure: the same
// batch again until it goes in.
func saveUntil(t *testing.T, st *redisstore.Store, id string, seq uint64, within time.Duration) {
	t.Helper()
	rec, evs := batch(id, seq)
	deadline := time.Now().Add(within)
	for {
		err := st.Save(context.Background(), id, rec, evs)
		if err == nil {
			return
		}
		if !errors.Is(err, flow.ErrStoreUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Save(%s, seq %d) again: %v", id, seq, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A Redis killed with SIGKILL mid-stream and started again (appendfsync
// always) has every save it acknowledged, each whole; the same store
// reconnects by itself and the sessions go on, the batches that failed
// saved again as the engine saves them.
func TestKillRestartKeepsAckedSaves(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendFsync: "always"})
	st := open(t, srv, redisstore.Options{Prefix: newPrefix(), Tail: 1000})
	const sessions = 8
	var acked [sessions]atomic.Uint64
	var failed [sessions]atomic.Uint64 // the seq whose save failed, 0: none
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("k%d", i)
			for seq := uint64(1); ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				rec, evs := batch(id, seq)
				if err := st.Save(context.Background(), id, rec, evs); err != nil {
					if !errors.Is(err, flow.ErrStoreUnavailable) {
						t.Errorf("Save(%s, %d) while Redis dies: %v, want ErrStoreUnavailable", id, seq, err)
					}
					failed[i].Store(seq)
					return
				}
				acked[i].Store(seq)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	srv.Kill()
	close(stop)
	wg.Wait()
	srv.Start()
	total := uint64(0)
	for i := range sessions {
		id := fmt.Sprintf("k%d", i)
		var last uint64
		// The first calls may meet connections that died with the server.
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := st.Load(context.Background(), id)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		last = checkWhole(t, st, id)
		a := acked[i].Load()
		if last < a {
			t.Fatalf("session %s: %d saves acknowledged, %d back after kill -9", id, a, last)
		}
		if f := failed[i].Load(); f != 0 {
			if last > f {
				t.Fatalf("session %s: last seq %d past the failed save %d", id, last, f)
			}
			saveUntil(t, st, id, f, 5*time.Second)
			if got := checkWhole(t, st, id); got != f {
				t.Fatalf("session %s: after saving %d again, last seq %d", id, f, got)
			}
		}
		t.Logf("session %s: %d acked, %d back, failed save %d", id, a, last, failed[i].Load())
		total += a
	}
	if total < sessions {
		t.Fatalf("only %d saves acknowledged before the kill: the test proved nothing", total)
	}
	t.Logf("%d saves acknowledged across %d sessions, all back", total, sessions)
}

// A Redis that does not answer (paused, then stopped) fails every call with
// ErrStoreUnavailable within a bound, and works again once it is back; a
// Save that failed is there whole or not at all, and saving it again (the
// engine's retry) succeeds either way.
func TestUnreachable(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	st := open(t, srv, redisstore.Options{Prefix: newPrefix()})
	ctx := context.Background()
	saveUntil(t, st, "u", 1, time.Second)

	const bound = 3 * time.Second
	unavailable := func(what string, f func() error) {
		t.Helper()
		start := time.Now()
		err := f()
		took := time.Since(start)
		if !errors.Is(err, flow.ErrStoreUnavailable) {
			t.Fatalf("%s with Redis down: %v, want ErrStoreUnavailable", what, err)
		}
		t.Logf("%s failed in %v: %v", what, took.Round(time.Millisecond), err)
		if took > bound {
			t.Fatalf("%s with Redis down took %v, want under %v", what, took, bound)
		}
		if strings.Count(err.Error(), "redisstore:") != 1 {
			t.Fatalf("%s: wrapped more than once: %v", what, err)
		}
	}
	for _, down := range []struct {
		name       string
		stop, back func()
	}{
		{"paused", srv.Pause, srv.Resume},
		{"stopped", srv.Stop, srv.Start},
	} {
		t.Run(down.name, func(t *testing.T) {
			last := checkWhole(t, st, "u")
			down.stop()
			rec, evs := batch("u", last+1)
			unavailable("Save", func() error { return st.Save(ctx, "u", rec, evs) })
			unavailable("Load", func() error { _, err := st.Load(ctx, "u"); return err })
			unavailable("Events", func() error { _, err := st.Events(ctx, "u", 0, 0); return err })
			unavailable("List", func() error { _, err := st.List(ctx); return err })
			unavailable("Ping", func() error { return st.Ping(ctx) })
			unavailable("PutFile", func() error { return st.PutFile(ctx, "u", flow.FileInfo{ID: "f"}, []byte("x")) })
			down.back()
			// A paused Redis runs the Save it had read once it resumes:
			// either way the failed Save is whole or absent, and saving
			// it again goes in.
			deadline := time.Now().Add(5 * time.Second)
			for st.Ping(ctx) != nil && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if got := checkWhole(t, st, "u"); got != last && got != last+1 {
				t.Fatalf("after the failed save of %d: last seq %d", last+1, got)
			}
			saveUntil(t, st, "u", last+1, 5*time.Second)
			saveUntil(t, st, "u", last+2, time.Second)
			if got := checkWhole(t, st, "u"); got != last+2 {
				t.Fatalf("after Redis came back: last seq %d, want %d", got, last+2)
			}
		})
	}
}

// A Save whose reply was lost is saved again by the engine, alone or with
// the events that came after it: the store lets that through, and nothing
// else that repeats stored events.
func TestSaveReplay(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	var logs syncBuffer
	st := open(t, srv, redisstore.Options{Prefix: newPrefix(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	ev := func(first, n int) []*flow.Event {
		out := make([]*flow.Event, n)
		for i := range out {
			out[i] = &flow.Event{Seq: uint64(first + i), Type: flow.EventAgentRead, Time: 7}
		}
		return out
	}
	rec := &flow.Record{ID: "r", State: flow.StateConnected}
	mustSave := func(rec *flow.Record, evs []*flow.Event) {
		t.Helper()
		if err := st.Save(ctx, "r", rec, evs); err != nil {
			t.Fatalf("Save of %d events from %d: %v", len(evs), evs[0].Seq, err)
		}
	}
	mustSave(rec, ev(1, 2))
	mustSave(rec, ev(3, 2)) // the batch whose reply is "lost"
	mustSave(rec, ev(3, 2)) // saved again
	mustSave(rec, ev(3, 4)) // again, with what came after it
	if n := strings.Count(logs.String(), "was in Redis already"); n != 2 {
		t.Fatalf("%d replays logged, want 2:\n%s", n, logs.String())
	}
	if got := checkSeqs(t, st, "r"); got != 6 {
		t.Fatalf("last seq %d, want 6", got)
	}
	for _, bad := range [][]*flow.Event{ev(3, 2), ev(4, 3), ev(6, 1), ev(3, 3)} {
		if err := st.Save(ctx, "r", rec, bad); !errors.Is(err, flow.ErrSeqGap) {
			t.Fatalf("Save of %d events from %d after 6: %v, want ErrSeqGap", len(bad), bad[0].Seq, err)
		}
	}
	// An equal batch that differs in one event is not a replay.
	changed := ev(3, 4)
	changed[1] = &flow.Event{Seq: 4, Type: flow.EventAgentRead, Time: 8}
	if err := st.Save(ctx, "r", rec, changed); !errors.Is(err, flow.ErrSeqGap) {
		t.Fatalf("a replay with a changed event: %v, want ErrSeqGap", err)
	}
	if got := checkSeqs(t, st, "r"); got != 6 {
		t.Fatalf("last seq %d, want 6", got)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func checkSeqs(t *testing.T, st *redisstore.Store, id string) uint64 {
	t.Helper()
	evs, err := st.Events(context.Background(), id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("events: %d has seq %d", i, ev.Seq)
		}
	}
	return uint64(len(evs))
}

// Open fails fast on a Redis that is not there, naming its address and
// not its password.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	start := time.Now()
	_, err = redisstore.Open(context.Background(), "redis://:s3cret@"+addr+"/0", redisstore.Options{})
	if !errors.Is(err, flow.ErrStoreUnavailable) || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open of a closed port: %v; want ErrStoreUnavailable naming %s, without the password", err, addr)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Open of a closed port took %v", took)
	}
	for _, bad := range []string{"http://:s3cret@" + addr, "redis://:s3cret@" + addr + "/x", "redis://:s3cret@[::1/0"} {
		if _, err := redisstore.Open(context.Background(), bad, redisstore.Options{}); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("Open(%q): %v; want an error without the password", bad, err)
		}
	}
	if _, err := redisstore.Open(context.Background(), "redis://"+addr, redisstore.Options{Prefix: "a{b}"}); err == nil {
		t.Fatal("Open with a prefix of braces: no error")
	}
}

// A Redis out of memory refuses writes: ErrStoreFull, nothing written.
func TestOutOfMemory(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	st := redisstore.New(c, redisstore.Options{Prefix: newPrefix()})
	ctx := context.Background()
	rec, evs := batch("m", 1)
	if err := st.Save(ctx, "m", rec, evs); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	rec, evs = batch("m", 2)
	if err := st.Save(ctx, "m", rec, evs); !errors.Is(err, flow.ErrStoreFull) || !strings.Contains(err.Error(), "OOM") {
		t.Fatalf("Save with Redis out of memory: %v, want ErrStoreFull with Redis' OOM reply", err)
	}
	if err := st.PutFile(ctx, "m", flow.FileInfo{ID: "f"}, []byte("x")); !errors.Is(err, flow.ErrStoreFull) {
		t.Fatalf("PutFile with Redis out of memory: %v, want ErrStoreFull", err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if got := checkWhole(t, st, "m"); got != 1 {
		t.Fatalf("last seq %d after a refused save, want 1", got)
	}
	if err := st.Save(ctx, "m", rec, evs); err != nil {
		t.Fatalf("Save with room again: %v", err)
	}
}
