package mockdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/gorilla/websocket"
)

// benchConns is how many chats (WebSocket connections) run at once.
const benchConns = 1000

// BenchmarkWebSocketChats: 1,000 concurrent chats over WebSocket, each
// sending a message and waiting for the scripted agent's echo (an
// agent_message event) before the next. One op is one round trip. Run it
// beside BenchmarkRawWebSocketEcho, the baseline:
//
//	go test -run '^$' -bench 'WebSocketChats|RawWebSocketEcho' -benchtime 20000x ./mock-desk/
func BenchmarkWebSocketChats(b *testing.B) {
	d, err := New(Options{
		Agents:       []AgentConfig{{Profile: ada, Online: true, Capacity: benchConns, Script: Script{EchoWithPrefix(0, "")}}},
		PingInterval: Duration(time.Minute),
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	defer d.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/ws"
	conns := dialAll(b, url, func(c *websocket.Conn) error {
		if err := c.WriteJSON(ClientFrame{Type: "start"}); err != nil {
			return err
		}
		return readUntil(c, `"type":"agent_joined"`)
	})
	roundTrip := func(c *websocket.Conn, i int) error {
		text := fmt.Sprintf("m%d", i)
		f := ClientFrame{Type: "message", IdempotencyKey: text, Message: &servicedesk.MessageRequest{Input: servicedesk.MessageInput{Text: text}}}
		if err := c.WriteJSON(f); err != nil {
			return err
		}
		return readUntil(c, `"type":"agent_message"`)
	}
	runRoundTrips(b, conns, roundTrip)
}

// BenchmarkRawWebSocketEcho is the baseline: a gorilla/websocket echo
// server on loopback, same connections, same closed loop.
func BenchmarkRawWebSocketEcho(b *testing.B) {
	var up websocket.Upgrader
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			t, m, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(t, m); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	conns := dialAll(b, url, nil)
	runRoundTrips(b, conns, func(c *websocket.Conn, i int) error {
		msg := []byte(fmt.Sprintf(`{"type":"message","message":{"input":{"text":"m%d"}}}`, i))
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			return err
		}
		_, _, err := c.ReadMessage()
		return err
	})
}

func dialAll(b *testing.B, url string, setup func(*websocket.Conn) error) []*websocket.Conn {
	b.Helper()
	conns := make([]*websocket.Conn, benchConns)
	var wg sync.WaitGroup
	errs := make(chan error, benchConns)
	sem := make(chan struct{}, 64) // gentle on the listen backlog
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err == nil && setup != nil {
				err = setup(c)
			}
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return conns
}

// runRoundTrips spreads b.N round trips over the connections, all at once,
// and reports round trips per second and latency percentiles.
func runRoundTrips(b *testing.B, conns []*websocket.Conn, rt func(*websocket.Conn, int) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	lat := make([][]time.Duration, len(conns))
	errs := make(chan error, len(conns))
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i, c := range conns {
		n := b.N / len(conns)
		if i < b.N%len(conns) {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				if ctx.Err() != nil {
					errs <- ctx.Err()
					return
				}
				t0 := time.Now()
				if err := rt(c, j); err != nil {
					errs <- err
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(float64(len(all)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// readUntil reads frames until one contains marker.
func readUntil(c *websocket.Conn, marker string) error {
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		_, m, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if strings.Contains(string(m), marker) {
			return nil
		}
		if strings.Contains(string(m), `"type":"error"`) {
			var f ServerFrame
			_ = json.Unmarshal(m, &f)
			return fmt.Errorf("error frame: %+v", f.Error)
		}
	}
}
