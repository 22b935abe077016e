package main

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/gateway"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
	"github.com/redis/go-redis/v9"
)

// roundTrips counts what a go-redis client sends: a command or a pipeline,
// each one round trip to Redis.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// TestRedisRoundTripsPerMessage: through the whole gateway path (a browser
// socket, the engine, the Redis store, an echo desk), a user message costs
// at most two round trips to Redis (its save, and its status's when the desk
// took it) and the agent's answer at most one more — usually none, as it
// shares the status's save (measured: 2.00 to 2.02 per round trip).
func TestRedisRoundTripsPerMessage(t *testing.T) {
	rds := startRedis(t)
	opts, err := redis.ParseURL(rds.URL())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	var trips roundTrips
	client.AddHook(&trips)
	st := redisstore.New(client, redisstore.Options{Tail: eventsKept})
	gw, err := gateway.New(gateway.Options{Factory: echoDeskFactory, RatePerSecond: -1, MaxConnsPerAddr: -1, NewSessionsPerMinute: -1, StartChatsPerMinute: -1, DeskOpsPerMinute: -1, Flow: flow.Options{Store: st}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
		srv.Close()
	})
	b := &browser{t: t}
	b.connect(srv.URL)
	b.call("startChat", map[string]any{"connectMessage": map[string]any{"output": map[string]any{"generic": []any{map[string]any{"response_type": "connect_to_agent"}}}}})
	// Warm up: the scripts into Redis' cache, the pool's connections.
	b.call("sendMessageToAgent", userMessage("warm", "warm"))
	b.awaitAgentText("warm")

	const messages = 50
	before := trips.n.Load()
	for i := range messages {
		text := "m" + strconv.Itoa(i)
		b.call("sendMessageToAgent", userMessage(text, text))
		b.awaitAgentText(text)
	}
	time.Sleep(100 * time.Millisecond) // a save still on its way counts too
	perMessage := float64(trips.n.Load()-before) / messages
	t.Logf("Redis round trips per user message and its answer: %.2f", perMessage)
	if perMessage > 3 {
		t.Fatalf("%.2f Redis round trips per user message and its answer, want at most 3 (2 + 1)", perMessage)
	}
	if got := strings.Join(b.agentTexts[len(b.agentTexts)-3:], ","); got != "m47,m48,m49" {
		t.Fatalf("last answers %s", got)
	}
}
