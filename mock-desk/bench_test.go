package mockdesk_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/loadtest"
)

var benchAgent = servicedesk.AgentProfile{ID: "agent-1", Nickname: "Ada", UserType: servicedesk.UserHuman}

// benchConns is how many chats (WebSocket connections) run at once.
const benchConns = 1000

// BenchmarkWebSocketChats: 1,000 concurrent chats over WebSocket, each
// sending a message and waiting for the scripted agent's echo (an
// agent_message event) before the next. One op is one round trip. Run it
// beside BenchmarkRawWebSocketEcho, the baseline:
//
//	go test -run '^$' -bench 'WebSocketChats|RawWebSocketEcho' -benchtime 20000x ./mock-desk/
func BenchmarkWebSocketChats(b *testing.B) {
	d, err := mockdesk.New(mockdesk.Options{
		Agents:       []mockdesk.AgentConfig{{Profile: benchAgent, Online: true, Capacity: benchConns, Script: mockdesk.Script{mockdesk.EchoWithPrefix(0, "")}}},
		PingInterval: mockdesk.Duration(time.Minute),
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(d)
	defer srv.Close()
	defer d.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/ws"
	conns := dialAll(b, url, func(c *websocket.Conn) error {
		if err := c.WriteJSON(deskproto.ClientFrame{Type: "start"}); err != nil {
			return err
		}
		return loadtest.ReadUntil(c, `"type":"agent_joined"`)
	})
	roundTrip := func(c *websocket.Conn, i int) error {
		text := fmt.Sprintf("m%d", i)
		f := deskproto.ClientFrame{Type: "message", IdempotencyKey: text, Message: &servicedesk.MessageRequest{Input: servicedesk.MessageInput{Text: text}}}
		if err := c.WriteJSON(f); err != nil {
			return err
		}
		return loadtest.ReadUntil(c, `"type":"agent_message"`)
	}
	loadtest.ClosedLoop(b, conns, roundTrip)
}

// BenchmarkRawWebSocketEcho is the baseline: a gorilla/websocket echo
// server on loopback, same connections, same closed loop.
func BenchmarkRawWebSocketEcho(b *testing.B) {
	srv := httptest.NewServer(loadtest.EchoHandler(nil))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	conns := dialAll(b, url, nil)
	loadtest.ClosedLoop(b, conns, func(c *websocket.Conn, i int) error {
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
