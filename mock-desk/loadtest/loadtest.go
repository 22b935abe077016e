// Package loadtest drives many concurrent chats through a kit, a flow
// engine and an in-process mock-desk whose agents echo, and measures round
// trips; RawEcho measures the same closed loop over bare gorilla/websocket
// connections, the baseline every kit's load benchmark reports beside its
// own figures.
package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// Config sizes a run.
type Config struct {
	// Chats run at once. Default 1000.
	Chats int
	// Messages each chat sends, one at a time, each waiting for the
	// agent's echo. Default 10.
	Messages int
	// WebhookSecret signs the desk's webhooks (for the REST kit).
	WebhookSecret []byte
	// Timeout bounds the whole run. Default 2 minutes.
	Timeout time.Duration
}

func (c Config) norm() Config {
	if c.Chats <= 0 {
		c.Chats = 1000
	}
	if c.Messages <= 0 {
		c.Messages = 10
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
	return c
}

// Result is one run's figures.
type Result struct {
	RoundTrips int
	Elapsed    time.Duration
	P50, P99   time.Duration
	// BytesPerChat is the heap growth per connected chat, the whole
	// process included (for a kit: engine session, kit, and the in-process
	// mock-desk's side of the chat; for the baseline: both ends of a
	// socket).
	BytesPerChat float64
}

// PerSecond is the round trips per second.
func (r Result) PerSecond() float64 { return float64(r.RoundTrips) / r.Elapsed.Seconds() }

// Report writes r as benchmark metrics.
func (r Result) Report(b *testing.B) {
	b.ReportMetric(r.PerSecond(), "msgs/s")
	b.ReportMetric(float64(r.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(r.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(r.BytesPerChat, "B/chat")
	b.ReportMetric(0, "ns/op")
}

// FactoryMaker builds a kit for the desk at deskURL; cleanup frees it.
type FactoryMaker func(deskURL string) (f servicedesk.Factory, cleanup func(), err error)

// Kit runs cfg.Chats chats through the kit that mk builds: each starts, is
// joined by an echoing agent, then sends cfg.Messages messages, timing each
// from the send to the echo reaching the session as an event.
func Kit(cfg Config, mk FactoryMaker) (Result, error) {
	cfg = cfg.norm()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	desk, err := mockdesk.New(mockdesk.Options{
		Agents: []mockdesk.AgentConfig{{
			Profile:  servicedesk.AgentProfile{ID: "echo", Nickname: "Echo"},
			Online:   true,
			Capacity: cfg.Chats,
			Script:   mockdesk.Script{{Do: "join"}, mockdesk.EchoWithPrefix(0, "")},
		}},
		PingInterval:  mockdesk.Duration(time.Minute),
		WebhookSecret: cfg.WebhookSecret,
		// A desk posting to one receiver for many chats keeps its
		// connections instead of dialling one per delivery.
		WebhookClient: &http.Client{Timeout: 5 * time.Second, Transport: pooled()},
	})
	if err != nil {
		return Result{}, err
	}
	srv := httptest.NewServer(desk)
	defer func() { _ = desk.Close(); srv.CloseClientConnections(); srv.Close() }()
	factory, cleanup, err := mk(srv.URL)
	if err != nil {
		return Result{}, err
	}
	defer cleanup()
	engine, err := flow.NewEngine(factory, flow.Options{SendTimeout: time.Minute})
	if err != nil {
		return Result{}, err
	}
	defer engine.Close(context.Background())

	before := heap()
	type chat struct {
		s   *flow.Session
		sub *flow.Subscription
	}
	chats := make([]chat, cfg.Chats)
	connect := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent})
	// Chats arrive in waves, as customers do: 1,000 requests in the same
	// instant would make the desk's queue churn out ~n² queue updates.
	if err := parallelLimit(cfg.Chats, startWave, func(i int) error {
		s, err := engine.Session(ctx, fmt.Sprintf("load-%d", i))
		if err != nil {
			return err
		}
		sub := s.Subscribe(0)
		if err := s.StartChat(ctx, connect, flow.StartOptions{}); err != nil {
			return err
		}
		if _, err := await(ctx, sub, flow.EventAgentJoined); err != nil {
			return fmt.Errorf("chat %d: %w", i, err)
		}
		chats[i] = chat{s, sub}
		return nil
	}); err != nil {
		return Result{}, err
	}
	perChat := float64(heap()-before) / float64(cfg.Chats)

	lat := make([][]time.Duration, cfg.Chats)
	start := time.Now()
	err = parallel(cfg.Chats, func(i int) error {
		c := chats[i]
		for m := range cfg.Messages {
			text := fmt.Sprintf("c%d-m%d", i, m)
			t0 := time.Now()
			if _, err := c.s.SendText(ctx, text); err != nil {
				return err
			}
			ev, err := await(ctx, c.sub, flow.EventAgentMessage)
			if err != nil {
				return fmt.Errorf("chat %d message %d: %w", i, m, err)
			}
			if got := ev.Message.PlainText(); got != text {
				return fmt.Errorf("chat %d: echo %q, want %q", i, got, text)
			}
			lat[i] = append(lat[i], time.Since(t0))
		}
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		return Result{}, err
	}
	return result(lat, elapsed, perChat), nil
}

// await reads sub until an event of type tp.
func await(ctx context.Context, sub *flow.Subscription, tp flow.EventType) (flow.Event, error) {
	for {
		evs, err := sub.Next(ctx)
		if err != nil {
			return flow.Event{}, err
		}
		for _, ev := range evs {
			if ev.Type == tp {
				return ev, nil // in a closed loop nothing else of tp follows
			}
		}
	}
}

// RawEcho is the baseline: a gorilla/websocket echo server on loopback and
// cfg.Chats clients, each sending cfg.Messages frames one at a time.
func RawEcho(cfg Config) (Result, error) {
	cfg = cfg.norm()
	var up websocket.Upgrader
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			t, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(t, b); err != nil {
				return
			}
		}
	}))
	defer func() { srv.CloseClientConnections(); srv.Close() }()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	before := heap()
	conns := make([]*websocket.Conn, cfg.Chats)
	if err := parallel(cfg.Chats, func(i int) error {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		conns[i] = c
		return err
	}); err != nil {
		return Result{}, err
	}
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	perConn := float64(heap()-before) / float64(cfg.Chats)
	lat := make([][]time.Duration, cfg.Chats)
	start := time.Now()
	err := parallel(cfg.Chats, func(i int) error {
		c := conns[i]
		for m := range cfg.Messages {
			msg := []byte(fmt.Sprintf(`{"type":"message","text":"c%d-m%d"}`, i, m))
			t0 := time.Now()
			if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
				return err
			}
			if _, _, err := c.ReadMessage(); err != nil {
				return err
			}
			lat[i] = append(lat[i], time.Since(t0))
		}
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		return Result{}, err
	}
	return result(lat, elapsed, perConn), nil
}

func result(lat [][]time.Duration, elapsed time.Duration, perChat float64) Result {
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	return Result{RoundTrips: len(all), Elapsed: elapsed, P50: pct(0.50), P99: pct(0.99), BytesPerChat: perChat}
}

// startWave is how many chats start at once.
const startWave = 50

// parallel runs fn(0..n-1) on n goroutines and returns the first error.
func parallel(n int, fn func(i int) error) error { return parallelLimit(n, n, fn) }

// parallelLimit is parallel with at most limit calls running at once.
func parallelLimit(n, limit int, fn func(i int) error) error {
	var wg sync.WaitGroup
	errc := make(chan error, n)
	sem := make(chan struct{}, limit)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func pooled() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = 4096
	return tr
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
