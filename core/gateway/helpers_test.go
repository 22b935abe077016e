package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/conformance/memdesk"
	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a gateway over memdesk on a loopback test server.
type env struct {
	t    *testing.T
	desk *memdesk.Desk
	gw   *Gateway
	srv  *httptest.Server
}

func newEnv(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	desk := memdesk.New()
	opts := Options{Factory: desk.Factory(), Flow: flow.Options{AssistantReturnDelay: -1}}
	if mod != nil {
		mod(&opts)
	}
	gw, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	e := &env{t: t, desk: desk, gw: gw, srv: srv}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		srv.Close()
	})
	return e
}

func (e *env) wsURL() string { return "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws" }

// frame is any frame from the gateway.
type frame struct {
	Type     string          `json:"type"`
	Re       string          `json:"re"`
	Op       string          `json:"op"`
	Result   json.RawMessage `json:"result"`
	Error    *errFrame       `json:"error"`
	Seq      uint64          `json:"seq"`
	Event    *flow.Event     `json:"event"`
	Callback *struct {
		Method string            `json:"method"`
		Args   []json.RawMessage `json:"args"`
	} `json:"callback"`
	Session string `json:"session"`
	Token   string `json:"token"`
	LastSeq uint64 `json:"last_seq"`
	Reset   bool   `json:"reset"`
	// SkippedTo: events up to it are not this token's to see.
	SkippedTo uint64        `json:"skipped_to"`
	Resumed   bool          `json:"resumed"`
	Snapshot  flow.Snapshot `json:"snapshot"`
	// status frames and the welcome
	Store            string `json:"store"`
	StoreUnavailable bool   `json:"store_unavailable"`
}

// client is a browser-like test client: it reads frames on its own
// goroutine and sorts them into answers and events.
type client struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan frame
	done   chan struct{}
	closed error

	mu      sync.Mutex
	nextID  int
	pending []frame
	welcome frame
	lastSeq uint64
}

func (e *env) dial(header http.Header) (*client, *http.Response, error) {
	return e.dialFrom("", header)
}

// dialFrom opens a socket from the loopback address src (Linux routes all
// of 127.0.0.0/8 to lo), so tests have several client addresses; "" lets
// the system choose.
func (e *env) dialFrom(src string, header http.Header) (*client, *http.Response, error) {
	d := *websocket.DefaultDialer
	if src != "" {
		nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		d.NetDialContext = nd.DialContext
	}
	ws, resp, err := d.Dial(e.wsURL(), header)
	if err != nil {
		return nil, resp, err
	}
	c := &client{t: e.t, ws: ws, frames: make(chan frame, 1024), done: make(chan struct{})}
	go c.read()
	e.t.Cleanup(func() { c.ws.Close(); <-c.done })
	return c, resp, nil
}

func (e *env) connect(token string, mode socketMode, lastSeq uint64) *client {
	e.t.Helper()
	c, _, err := e.dial(nil)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	c.hello(token, mode, lastSeq)
	return c
}

func (c *client) read() {
	defer close(c.done)
	defer close(c.frames)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			c.closed = err
			return
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			c.t.Errorf("undecodable frame %s: %v", b, err)
			return
		}
		c.frames <- f
	}
}

func (c *client) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) hello(token string, mode socketMode, lastSeq uint64) frame {
	c.t.Helper()
	c.send(map[string]any{"op": "hello", "id": "h", "token": token, "mode": mode, "last_seq": lastSeq})
	f := c.next("welcome", func(f frame) bool { return f.Type == typeWelcome || f.Type == typeError })
	if f.Type != typeWelcome {
		c.t.Fatalf("hello: %+v", f.Error)
	}
	c.welcome = f
	return f
}

// next returns the next frame matching pred; events passed over are kept
// in order for later next calls (pending).
func (c *client) next(what string, pred func(frame) bool) frame {
	c.t.Helper()
	for i, f := range c.pending {
		if pred(f) {
			c.pending = append(c.pending[:i:i], c.pending[i+1:]...)
			return f
		}
	}
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("waiting for %s: socket closed: %v", what, c.closed)
			}
			if f.Type == typeEvent {
				if f.Seq != c.lastSeq+1 && c.lastSeq != 0 {
					c.t.Errorf("event seq %d after %d: gap or duplicate", f.Seq, c.lastSeq)
				}
				c.lastSeq = f.Seq
			}
			if pred(f) {
				return f
			}
			if f.Type == typeEvent {
				c.pending = append(c.pending, f)
			}
		case <-timer.C:
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// call sends op and waits for its result or error.
func (c *client) call(op string, args any) frame {
	c.t.Helper()
	c.mu.Lock()
	c.nextID++
	id := strconv.Itoa(c.nextID)
	c.mu.Unlock()
	c.send(map[string]any{"op": op, "id": id, "args": args})
	return c.next("answer to "+op, func(f frame) bool { return (f.Type == typeResult || f.Type == typeError) && f.Re == id })
}

func (c *client) mustCall(op string, args any) json.RawMessage {
	c.t.Helper()
	f := c.call(op, args)
	if f.Type != typeResult {
		c.t.Fatalf("%s: %+v", op, f.Error)
	}
	return f.Result
}

func (c *client) event(tp flow.EventType) frame {
	c.t.Helper()
	return c.next("event "+string(tp), func(f frame) bool { return f.Type == typeEvent && f.Event.Type == tp })
}

func (c *client) callback(method string) frame {
	c.t.Helper()
	return c.next("callback "+method, func(f frame) bool { return f.Type == typeEvent && f.Callback != nil && f.Callback.Method == method })
}

func connectMessage() servicedesk.MessageResponse { return conformance.ConnectMessage() }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startAndJoin starts a chat and lets agent Ada join.
func (e *env) startAndJoin(c *client) conformance.Chat {
	e.t.Helper()
	c.mustCall(opStartChat, map[string]any{"connectMessage": connectMessage()})
	chat, err := e.desk.NextChat(ctxT(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := chat.Join(ctxT(e.t), ada); err != nil {
		e.t.Fatal(err)
	}
	c.event(flow.EventAgentJoined)
	return chat
}

var ada = servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman}

func mustf(t *testing.T, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}
