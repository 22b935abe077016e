package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/gateway"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/loadtest"
	boltstore "github.com/deskbridge/deskbridge/stores/bolt"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
	"github.com/deskbridge/deskbridge/stores/redis/redistest"
	"github.com/gorilla/websocket"
)

// loadClients is how many browser-like sockets the load benchmarks hold.
var loadClients = envInt("DESKBRIDGE_LOAD_CLIENTS", 1000)

// loadClient is one browser tab: a socket to the gateway in desk mode.
type loadClient struct {
	ws    *websocket.Conn
	n     int
	token string
}

// until reads frames until one contains all of want.
func (c *loadClient) until(want ...[]byte) error {
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(`"type":"error"`)) {
			return fmt.Errorf("error frame: %s", b)
		}
		ok := true
		for _, w := range want {
			if !bytes.Contains(b, w) {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
	}
}

// sendStartChat asks for an agent.
func (c *loadClient) sendStartChat() error {
	return c.ws.WriteMessage(websocket.TextMessage, append(append([]byte(`{"op":"startChat","id":"s","args":{"connectMessage":`), connectMsg...), '}', '}'))
}

// startChat asks for an agent and waits for one to join.
func (c *loadClient) startChat() error {
	if err := c.sendStartChat(); err != nil {
		return err
	}
	return c.until([]byte(`"method":"agentJoined"`))
}

// echo sends text as a message (its id too) and waits for the agent's echo.
func (c *loadClient) echo(text string) error {
	frame := `{"op":"sendMessageToAgent","id":"` + text + `","args":{"messageID":"` + text + `","message":{"input":{"text":"` + text + `"}}}}`
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		return err
	}
	return c.until([]byte(`"method":"sendMessageToUser"`), []byte(`"text":"`+text+`"`))
}

// dialMany opens n sockets to url, running prepare on each, 50 at a time.
func dialMany(b *testing.B, n int, url string, prepare func(*loadClient) error) []*loadClient {
	b.Helper()
	clients := make([]*loadClient, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ws, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				errs <- err
				return
			}
			c := &loadClient{ws: ws}
			clients[i] = c
			if err := prepare(c); err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		for _, c := range clients {
			c.ws.Close()
		}
	})
	return clients
}

// benchStores are the stores the load benchmarks run with, side by side:
// memory (the baseline), the embedded file store, and Redis (a real
// redis-server with the AOF synced every second, as docs/deploy.md
// advises).
var benchStores = []struct {
	name string
	open func(b *testing.B) flow.Store
}{
	{"memory", func(*testing.B) flow.Store { return flow.NewMemoryStore(eventsKept) }},
	{"file", func(b *testing.B) flow.Store {
		st, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{Tail: eventsKept})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		return st
	}},
	{"redis", func(b *testing.B) flow.Store {
		srv := redistest.Start(b, redistest.Options{AppendFsync: "everysec"})
		st, err := redisstore.Open(context.Background(), srv.URL(), redisstore.Options{Tail: eventsKept})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		loadtest.ServerCPU = srv.CPUTime
		b.Cleanup(func() { loadtest.ServerCPU = nil })
		return st
	}},
}

// eachStore runs fn as a sub-benchmark per store.
func eachStore(b *testing.B, fn func(b *testing.B, st flow.Store)) {
	for _, s := range benchStores {
		b.Run("store="+s.name, func(b *testing.B) { fn(b, s.open(b)) })
	}
}

// saveCounter counts the engine's saves (flow.Options.OnSave), so that a
// load benchmark reports how many saves a round trip made and how many
// events each carried: fewer, larger saves are what a durable store's cost
// a round trip comes down to.
type saveCounter struct {
	saves, events atomic.Int64
}

func (c *saveCounter) observe(_ time.Duration, events int, err error) {
	if err == nil {
		c.saves.Add(1)
		c.events.Add(int64(events))
	}
}

// measure runs loop and reports the saves it made per op and the events a
// save carried, and, for a store in a server of its own (redis-server), the
// part of cpu-µs/msg that server used.
func (c *saveCounter) measure(b *testing.B, loop func()) {
	saves0, events0 := c.saves.Load(), c.events.Load()
	var server0 time.Duration
	if loadtest.ServerCPU != nil {
		server0 = loadtest.ServerCPU()
	}
	loop()
	if loadtest.ServerCPU != nil {
		b.ReportMetric(float64((loadtest.ServerCPU()-server0).Microseconds())/float64(b.N), "store-server-cpu-µs/msg")
	}
	saves, events := c.saves.Load()-saves0, c.events.Load()-events0
	b.ReportMetric(float64(saves)/float64(b.N), "saves/msg")
	if saves > 0 {
		b.ReportMetric(float64(events)/float64(saves), "events/save")
	}
}

// loadDesk starts mock-desk with echoing agents, and the deskbridge server
// with the websocket kit in front of it.
func loadDesk(b *testing.B, st flow.Store, saves *saveCounter) (gwURL string, d *demo) {
	b.Helper()
	agents := echoAgents(loadClients)
	d, err := startDemo(demoConfig{
		Kit:     "websocket",
		Desk:    &mockdesk.Options{Agents: agents, PingInterval: mockdesk.Duration(time.Minute)},
		Logger:  quietLog(),
		Gateway: gateway.Options{RatePerSecond: -1, MaxConnsPerSession: 1, MaxConnsPerAddr: -1, NewSessionsPerMinute: -1, StartChatsPerMinute: -1, DeskOpsPerMinute: -1},
		Flow:    flow.Options{Store: st, OnSave: saves.observe},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.close(ctx)
	})
	return "ws" + strings.TrimPrefix(d.srv.url, "http") + "/ws", d
}

// echoAgents are ten scripted agents that join and echo every message,
// each taking up to capacity chats.
func echoAgents(capacity int) []mockdesk.AgentConfig {
	agents := make([]mockdesk.AgentConfig, 10)
	for i := range agents {
		agents[i] = mockdesk.AgentConfig{
			Profile: servicedesk.AgentProfile{ID: "echo-" + strconv.Itoa(i), Nickname: "Echo", UserType: servicedesk.UserHuman},
			Online:  true, Capacity: capacity,
			Script: mockdesk.Script{mockdesk.EchoWithPrefix(0, "")},
		}
	}
	return agents
}

var connectMsg, _ = json.Marshal(servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent}))

// BenchmarkLoadGateway: 1,000 browser-like sockets on loopback chat with
// echoing agents: gateway (desk mode, as the Carbon adapter) → flow engine
// → websocket kit → mock-desk → scripted echo, and back. One op is one round
// trip: a sendMessageToAgent answered by the agent's sendMessageToUser
// callback. Run it beside BenchmarkLoadRawEcho, the baseline:
//
//	go test -run '^$' -bench '^BenchmarkLoad' -benchtime 20000x ./cmd/deskbridge/
//
// It runs once per store (memory, file, redis).
func BenchmarkLoadGateway(b *testing.B) {
	eachStore(b, func(b *testing.B, st flow.Store) {
		saves := new(saveCounter)
		url, _ := loadDesk(b, st, saves)
		gatewayLoop(b, url, saves)
	})
}

// gatewayLoop connects the clients in desk mode, starts their chats and
// runs the closed loop of messages and echoes.
func gatewayLoop(b *testing.B, url string, saves *saveCounter) {
	b.Helper()
	clients := dialMany(b, loadClients, url, func(c *loadClient) error {
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"hello","id":"h","mode":"desk"}`)); err != nil {
			return err
		}
		return c.startChat()
	})
	saves.measure(b, func() {
		loadtest.ClosedLoop(b, clients, func(c *loadClient, _ int) error {
			c.n++
			return c.echo("m" + strconv.Itoa(c.n))
		})
	})
}

// BenchmarkLoadGatewayEchoDesk is BenchmarkLoadGateway with the desk in
// process (an echo ServiceDesk that answers every message at once): the
// gateway, the flow engine and the sockets, without the kit and mock-desk.
func BenchmarkLoadGatewayEchoDesk(b *testing.B) {
	eachStore(b, benchEchoDesk)
}

func benchEchoDesk(b *testing.B, st flow.Store) {
	saves := new(saveCounter)
	gw, err := gateway.New(gateway.Options{Factory: echoDeskFactory, RatePerSecond: -1, MaxConnsPerAddr: -1, NewSessionsPerMinute: -1, StartChatsPerMinute: -1, DeskOpsPerMinute: -1,
		Flow: flow.Options{Store: st, OnSave: saves.observe}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
		srv.Close()
	})
	gatewayLoop(b, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", saves)
}

// echoDesk joins at once and echoes every message.
type echoDesk struct{ cb servicedesk.Callback }

func echoDeskFactory(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return &echoDesk{cb: p.Callback}, nil
}

func (e *echoDesk) Name() string { return "echo" }
func (e *echoDesk) StartChat(context.Context, servicedesk.MessageResponse, servicedesk.StartChatOptions) error {
	e.cb.AgentJoined(servicedesk.AgentProfile{ID: "echo", Nickname: "Echo", UserType: servicedesk.UserHuman})
	return nil
}
func (e *echoDesk) EndChat(context.Context, servicedesk.EndChatInfo) error { return nil }
func (e *echoDesk) SendMessageToAgent(_ context.Context, m servicedesk.MessageRequest, _ string, _ servicedesk.AdditionalDataToAgent) error {
	e.cb.SendTextToUser(m.Input.Text, "")
	return nil
}

// BenchmarkLoadRawEcho is the baseline: a bare gorilla/websocket echo
// server on loopback, the same 1,000 sockets, the same closed loop.
func BenchmarkLoadRawEcho(b *testing.B) {
	srv := httptest.NewServer(rawEcho())
	defer srv.Close()
	clients := dialMany(b, loadClients, "ws"+strings.TrimPrefix(srv.URL, "http"), func(*loadClient) error { return nil })
	loadtest.ClosedLoop(b, clients, func(c *loadClient, _ int) error {
		c.n++
		text := []byte(`{"text":"m` + strconv.Itoa(c.n) + `"}`)
		if err := c.ws.WriteMessage(websocket.TextMessage, text); err != nil {
			return err
		}
		return c.until(text)
	})
}

// rawEcho is the baseline server, with small buffers like a browser tab's.
func rawEcho() http.Handler {
	return loadtest.EchoHandler(&websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024})
}

// heapAndStacks is what the process holds after a full GC.
func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

// BenchmarkMemorySessions reports the memory of 1,000 connected sessions
// (heap + stacks after GC, divided by the sessions), all in this process:
//
//   - idle-B/session: a gateway socket after hello (gateway connection,
//     engine session, and the in-process client's socket);
//   - raw-B/conn: a bare gorilla echo connection with its client, the
//     baseline for the line above;
//   - chat-B/session: a session with a running agent chat, including the
//     websocket kit's socket to mock-desk and mock-desk's side of it.
func BenchmarkMemorySessions(b *testing.B) {
	for range b.N {
		raw := func() float64 {
			srv := httptest.NewServer(rawEcho())
			defer srv.Close()
			before := heapAndStacks()
			clients := dialMany(b, loadClients, "ws"+strings.TrimPrefix(srv.URL, "http"), func(*loadClient) error { return nil })
			after := heapAndStacks()
			for _, c := range clients {
				c.ws.Close()
			}
			return float64(after-before) / float64(loadClients)
		}()

		url, d := loadDesk(b, nil, new(saveCounter))
		before := heapAndStacks()
		goroutinesBefore := runtime.NumGoroutine()
		idle := dialMany(b, loadClients, url, func(c *loadClient) error {
			if err := c.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"hello","id":"h","mode":"desk"}`)); err != nil {
				return err
			}
			return c.until([]byte(`"type":"welcome"`))
		})
		afterIdle := heapAndStacks()
		goroutinesIdle := runtime.NumGoroutine()
		for _, c := range idle {
			if err := c.sendStartChat(); err != nil {
				b.Fatal(err)
			}
		}
		for _, c := range idle {
			if err := c.until([]byte(`"method":"agentJoined"`)); err != nil {
				b.Fatal(err)
			}
		}
		afterChat := heapAndStacks()
		goroutinesChat := runtime.NumGoroutine()
		if n := d.srv.gw.Stats().Connections; n != loadClients {
			b.Fatalf("%d gateway connections, want %d: sessions were dropped", n, loadClients)
		}
		b.ReportMetric(float64(afterIdle-before)/float64(loadClients), "idle-B/session")
		b.ReportMetric(raw, "raw-B/conn")
		b.ReportMetric(float64(afterChat-before)/float64(loadClients), "chat-B/session")
		// Everything is in one process: the clients' and mock-desk's
		// goroutines are counted too.
		b.ReportMetric(float64(goroutinesIdle-goroutinesBefore)/float64(loadClients), "idle-goroutines/session")
		b.ReportMetric(float64(goroutinesChat-goroutinesBefore)/float64(loadClients), "chat-goroutines/session")
		b.ReportMetric(0, "ns/op")
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
