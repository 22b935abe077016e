package loadtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	// Interval, when set, paces each chat: one message every Interval
	// (from a random offset), the echo awaited in between. The offered
	// load is then Chats/Interval messages a second, and latency shows the
	// path's cost rather than the queueing of a saturated closed loop.
	Interval time.Duration
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

// Report writes r as benchmark metrics (B/chat only when measured).
func (r Result) Report(b *testing.B) {
	b.ReportMetric(r.PerSecond(), "msgs/s")
	b.ReportMetric(float64(r.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(r.P99.Microseconds())/1000, "p99-ms")
	if r.BytesPerChat > 0 {
		b.ReportMetric(r.BytesPerChat, "B/chat")
	}
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
	deskURL, stop, err := echoDesk(cfg)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	factory, cleanup, err := mk(deskURL)
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
	return measure(ctx, cfg, perChat, func(i, m int) error {
		c := chats[i]
		text := fmt.Sprintf("c%d-m%d", i, m)
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
		return nil
	})
}

// echoDesk starts an in-process mock-desk whose one agent takes every chat
// and echoes each message.
// It returns the desk's URL and the function that stops desk and server.
func echoDesk(cfg Config) (url string, stop func(), err error) {
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
		return "", nil, err
	}
	srv := httptest.NewServer(desk)
	return srv.URL, func() { _ = desk.Close(); srv.CloseClientConnections(); srv.Close() }, nil
}

// measure runs roundTrip(chat, message) for every chat and message,
// closed loop or paced by cfg.Interval, and times each.
func measure(ctx context.Context, cfg Config, perChat float64, roundTrip func(i, m int) error) (Result, error) {
	lat := make([][]time.Duration, cfg.Chats)
	start := time.Now()
	err := parallel(cfg.Chats, func(i int) error {
		next := time.Now()
		if cfg.Interval > 0 {
			next = next.Add(rand.N(cfg.Interval))
		}
		for m := range cfg.Messages {
			if cfg.Interval > 0 {
				select {
				case <-time.After(time.Until(next)):
				case <-ctx.Done():
					return ctx.Err()
				}
				next = next.Add(cfg.Interval)
			}
			t0 := time.Now()
			if err := roundTrip(i, m); err != nil {
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
	return result(lat, elapsed, perChat), nil
}

// DeskOnly is the floor the simulated desk sets: the same chats and echoes
// with no engine and no kit, clients speaking the desk protocol's
// WebSocket directly to mock-desk.
func DeskOnly(cfg Config) (Result, error) {
	cfg = cfg.norm()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	deskURL, stop, err := echoDesk(cfg)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	url := "ws" + strings.TrimPrefix(deskURL, "http") + "/v1/ws"
	before := heap()
	conns := make([]*websocket.Conn, cfg.Chats)
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	if err := parallelLimit(cfg.Chats, startWave, func(i int) error {
		c, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
		if err != nil {
			return err
		}
		conns[i] = c
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"start","request_id":"s"}`)); err != nil {
			return err
		}
		return ReadUntil(c, `"type":"agent_joined"`)
	}); err != nil {
		return Result{}, err
	}
	perChat := float64(heap()-before) / float64(cfg.Chats)
	return measure(ctx, cfg, perChat, func(i, m int) error {
		c := conns[i]
		key := fmt.Sprintf("c%d-m%d", i, m)
		frame := `{"type":"message","request_id":"` + key + `","idempotency_key":"` + key + `","message":{"id":"` + key + `","input":{"message_type":"text","text":"` + key + `"}}}`
		if err := c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			return err
		}
		return ReadUntil(c, `"type":"agent_message"`)
	})
}

// ReadUntil reads a desk socket's frames until one contains marker; an
// error frame before it is an error.
func ReadUntil(c *websocket.Conn, marker string) error {
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		_, m, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if strings.Contains(string(m), marker) {
			return nil
		}
		if strings.Contains(string(m), `"type":"error"`) {
			return fmt.Errorf("loadtest: desk error frame %s", m)
		}
	}
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
	srv := httptest.NewServer(EchoHandler(nil))
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
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	return measure(ctx, cfg, perConn, func(i, m int) error {
		c := conns[i]
		msg := []byte(fmt.Sprintf(`{"type":"message","text":"c%d-m%d"}`, i, m))
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			return err
		}
		_, _, err := c.ReadMessage()
		return err
	})
}

// EchoHandler is the baseline server: a bare gorilla/websocket echo, every
// frame written back as it came. up configures the upgrade (nil: gorilla's
// defaults).
func EchoHandler(up *websocket.Upgrader) http.Handler {
	if up == nil {
		up = &websocket.Upgrader{}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	})
}

// ClosedLoop runs b.N round trips over the clients at once, each client
// waiting for its answer before its next one, and reports messages/s,
// latency percentiles and CPU time per round trip. trip gets the round trip's number, unique across
// the clients (for idempotency keys).
func ClosedLoop[C any](b *testing.B, clients []C, trip func(c C, n int) error) {
	b.Helper()
	var next atomic.Int64
	lat := make([][]time.Duration, len(clients))
	errs := make(chan error, len(clients))
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := trip(c, int(n)); err != nil {
					errs <- err
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	Summarize(lat, elapsed).Report(b)
	if cpu > 0 {
		// On a shared machine CPU time per round trip varies much less
		// than messages per second.
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
	}
}

// ServerCPU, when set, reports the CPU time used by a server the system
// under test runs beside this process on the same machine (redis-server):
// ClosedLoop adds it to this process's, whose cores it shares.
var ServerCPU func() time.Duration

func cpuTime() time.Duration {
	d := processCPU()
	if ServerCPU != nil {
		d += ServerCPU()
	}
	return d
}

// Summarize turns per-client round-trip latencies over elapsed into a
// Result (BytesPerChat left 0).
func Summarize(lat [][]time.Duration, elapsed time.Duration) Result {
	return result(lat, elapsed, 0)
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

// Bench runs a kit's standard load benchmark, each sub-benchmark one whole
// run per op (use -benchtime=1x):
//
//	closed/raw_echo, closed/desk_only, closed/kit: cfg.Chats chats in a
//	closed loop (each sends its next message when the echo of the last
//	came back): throughput, and latency under saturation;
//	paced/raw_echo, paced/kit: the same chats, each sending one message a
//	second (cfg.Chats messages/s offered, well below saturation): the
//	latency the path adds.
func Bench(b *testing.B, cfg Config, mk FactoryMaker) {
	closed := cfg
	closed.Interval = 0
	paced := cfg
	paced.Interval, paced.Messages = time.Second, 5
	run := func(name string, c Config, fn func(Config) (Result, error)) {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				r, err := fn(c)
				if err != nil {
					b.Fatal(err)
				}
				r.Report(b)
			}
		})
	}
	kit := func(c Config) (Result, error) { return Kit(c, mk) }
	run("closed/raw_echo", closed, RawEcho)
	run("closed/desk_only", closed, DeskOnly)
	run("closed/kit", closed, kit)
	run("paced/raw_echo", paced, RawEcho)
	run("paced/kit", paced, kit)
}
