package main

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/loadtest"
	"github.com/deskbridge/deskbridge/stores/redis/redistest"
	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
)

// instanceClients is how many browser-like sockets BenchmarkLoadInstances
// holds.
var instanceClients = envInt("DESKBRIDGE_INSTANCE_CLIENTS", 300)

// BenchmarkLoadInstances: the same closed loop of user messages and agent
// echoes as BenchmarkLoadGateway, through `deskbridge serve` processes on
// one Redis (AOF everysec) and one mock-desk: one instance, three
// instances with each socket on its chat's owner, and three with each
// socket moved to an instance that does not own its chat (every request
// forwarded, every event read from Redis). It reports round trips/s,
// latency, and Redis commands per round trip (INFO commandstats).
//
//	go test -run '^$' -bench LoadInstances -benchtime 6000x ./cmd/deskbridge/
func BenchmarkLoadInstances(b *testing.B) {
	for _, c := range []struct {
		name      string
		instances int
		moved     bool
	}{
		{"instances=1", 1, false},
		{"instances=3", 3, false},
		{"instances=3/forwarded", 3, true},
	} {
		b.Run(c.name, func(b *testing.B) { loadInstances(b, c.instances, c.moved) })
	}
}

func loadInstances(b *testing.B, n int, moved bool) {
	rds := redistest.Start(b, redistest.Options{AppendFsync: "everysec"})
	desk, err := mockdesk.New(mockdesk.Options{Agents: echoAgents(instanceClients), PingInterval: mockdesk.Duration(time.Minute), Logger: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	deskSrv := httptest.NewServer(desk)
	b.Cleanup(func() { deskSrv.Close(); _ = desk.Close() })
	env := []string{"DESKBRIDGE_TOKEN_SECRET=" + strings.Repeat("t", 40)}
	urls := make([]string, n)
	for i := range n {
		p := startServe(b, freeAddr(b), env, "--kit", "websocket", "--desk-url", deskSrv.URL, "--store", rds.URL(),
			"--rate", "-1", "--max-conns-per-addr", "-1", "--new-sessions-per-minute", "-1", "--start-chats-per-minute", "-1", "--desk-ops-per-minute", "-1", "--log-level", "warn", "--instance-id", "i"+strconv.Itoa(i), "--data-dir", b.TempDir())
		urls[i] = "ws" + strings.TrimPrefix(p.url, "http") + "/ws"
	}
	clients := make([]*loadClient, instanceClients)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	errs := make(chan error, instanceClients)
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := startInstanceChat(urls[i%n])
			if err == nil && moved {
				c, err = c.moveTo(urls[(i+1)%n])
			}
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
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
	raw := redis.NewClient(&redis.Options{Addr: rds.Addr()})
	defer raw.Close()
	before := redisCommands(b, raw)
	loadtest.ClosedLoop(b, clients, func(c *loadClient, _ int) error {
		c.n++
		return c.echo("m" + strconv.Itoa(c.n))
	})
	after := redisCommands(b, raw)
	b.ReportMetric(float64(after-before)/float64(b.N), "redis-cmds/trip")
}

// startInstanceChat opens a socket, starts a chat and waits for the agent.
func startInstanceChat(url string) (*loadClient, error) {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	c := &loadClient{ws: ws}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"hello","id":"h","mode":"desk"}`)); err != nil {
		return nil, err
	}
	var token string
	for token == "" {
		var f map[string]any
		if err := ws.ReadJSON(&f); err != nil {
			return nil, err
		}
		token, _ = f["token"].(string)
	}
	c.token = token
	return c, c.startChat()
}

// moveTo closes the socket and resumes the session on another instance,
// from the newest event.
func (c *loadClient) moveTo(url string) (*loadClient, error) {
	c.ws.Close()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	m := &loadClient{ws: ws, token: c.token}
	hello := `{"op":"hello","id":"h","mode":"desk","token":"` + c.token + `","last_seq":1000000}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(hello)); err != nil {
		return nil, err
	}
	// A last_seq past the newest resets the cursor to 0: read the replay
	// up to the welcome's last seq before measuring.
	return m, m.until([]byte(`"type":"welcome"`))
}

var cmdstatRE = regexp.MustCompile(`cmdstat_[a-z|]+:calls=(\d+)`)

// redisCommands sums the calls of every command Redis counted.
func redisCommands(b *testing.B, c *redis.Client) int64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, m := range cmdstatRE.FindAllStringSubmatch(info, -1) {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		n += v
	}
	return n
}
