package actioncable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
)

// Subprotocol is the WebSocket subprotocol of ActionCable's JSON framing.
const Subprotocol = "actioncable-v1-json"

// Frame types the server sends.
const (
	TypeWelcome = "welcome"
	TypePing    = "ping"
	TypeConfirm = "confirm_subscription"
	TypeReject  = "reject_subscription"
	TypeDisconn = "disconnect"
)

var (
	// ErrRejected: the server rejected the subscription.
	ErrRejected = errors.New("actioncable: subscription rejected")
	// ErrRefused: the server closed the connection and said not to come back.
	ErrRefused = errors.New("actioncable: disconnected without reconnect")
	// ErrConnectionLost: the connection went down before it served.
	ErrConnectionLost = errors.New("actioncable: connection lost")
)

// Frame is one frame from the server: a protocol frame (Type set) or a
// message of a subscription (Identifier and Message set).
type Frame struct {
	Type       string          `json:"type,omitempty"`
	Identifier string          `json:"identifier,omitempty"`
	Message    json.RawMessage `json:"message,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Reconnect  *bool           `json:"reconnect,omitempty"`
}

// Decode reads one server frame.
func Decode(b []byte) (Frame, error) {
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, fmt.Errorf("actioncable: decode frame: %w", err)
	}
	return f, nil
}

// Identifier is a subscription's identifier: the JSON object of the
// channel's name and its parameters, as a string (the wire carries it
// as a string inside the frame).
func Identifier(channel string, params map[string]string) string {
	m := map[string]string{"channel": channel}
	for k, v := range params {
		if k != "channel" {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m) // a map of strings always encodes
	return string(b)
}

// Command is a client command frame (subscribe, unsubscribe, message).
func Command(command, identifier string) []byte {
	b, _ := json.Marshal(map[string]string{"command": command, "identifier": identifier})
	return b
}

// Config configures a Client. URL and Identifier are required.
type Config struct {
	// URL is the cable's ws(s):// URL; Header goes with the handshake
	// (ActionCable checks Origin against its allowed origins).
	URL        string
	Header     http.Header
	Identifier string
	// OnMessage gets each message of the subscription, in order.
	OnMessage func(msg json.RawMessage)
	// OnState is the socket's state (see stream.SocketConfig.OnState):
	// up as soon as the WebSocket is open, before it is subscribed; call
	// Ready to wait for the subscription.
	OnState func(up bool, err error)
	// OnFatal is told once that the subscription is refused for good; the
	// client has stopped reconnecting then.
	OnFatal func(err error)
	// StaleAfter drops a connection that sent nothing (not even a ping)
	// that long. Default 6 s: twice the server's 3 s ping, as Rails'
	// consumer.
	StaleAfter time.Duration
	Backoff    retry.Backoff
	Dialer     *websocket.Dialer
	Logger     *slog.Logger
}

// Client holds one subscription on a reconnecting socket.
type Client struct {
	cfg  Config
	sock *stream.Socket
	stop chan struct{}
	done chan struct{}

	mu        sync.Mutex
	gen       *conn
	last      time.Time
	fatal     bool
	closeOnce sync.Once
}

// conn is what the client knows of one connection.
type conn struct {
	confirmed, lost chan struct{}
	subscribed      bool
	ended           bool
}

func newConn() *conn { return &conn{confirmed: make(chan struct{}), lost: make(chan struct{})} }

// Open starts connecting in the background and returns at once.
func Open(cfg Config) *Client {
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 6 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	dialer := cfg.Dialer
	if dialer == nil {
		dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	}
	d := *dialer
	d.Subprotocols = []string{Subprotocol}
	c := &Client{cfg: cfg, stop: make(chan struct{}), done: make(chan struct{}), gen: newConn(), last: time.Now()}
	c.mu.Lock() // the socket's goroutines read c.sock through socket()
	defer c.mu.Unlock()
	c.sock = stream.OpenSocket(stream.SocketConfig{
		URL: cfg.URL, Header: cfg.Header, Dialer: &d, Backoff: cfg.Backoff, Logger: cfg.Logger,
		PingInterval: cfg.StaleAfter, PongWait: 2 * cfg.StaleAfter,
		OnOpen:    func(context.Context, bool, func([]byte) error) error { c.opened(); return nil },
		OnMessage: c.frame,
		OnState:   c.state,
	})
	go c.watch()
	return c
}

func (c *Client) opened() {
	c.mu.Lock()
	if !c.gen.ended {
		c.gen.ended = true
		close(c.gen.lost)
	}
	c.gen = newConn()
	c.last = time.Now()
	c.mu.Unlock()
}

func (c *Client) state(up bool, err error) {
	if !up {
		c.mu.Lock()
		if !c.gen.ended {
			c.gen.ended = true
			close(c.gen.lost)
		}
		c.mu.Unlock()
	}
	if c.cfg.OnState != nil {
		c.cfg.OnState(up, err)
	}
}

func (c *Client) frame(b []byte) {
	f, err := Decode(b)
	if err != nil {
		c.cfg.Logger.Info("actioncable: ignored a frame", "err", err)
		return
	}
	c.mu.Lock()
	c.last = time.Now()
	g := c.gen
	c.mu.Unlock()
	switch f.Type {
	case TypeWelcome:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.socket().Send(ctx, Command("subscribe", c.cfg.Identifier)); err != nil {
			c.cfg.Logger.Info("actioncable: subscribe not sent", "err", err)
		}
	case TypePing:
	case TypeConfirm:
		if f.Identifier != c.cfg.Identifier {
			return
		}
		c.mu.Lock()
		if !g.subscribed && !g.ended {
			g.subscribed = true
			close(g.confirmed)
		}
		c.mu.Unlock()
	case TypeReject:
		if f.Identifier == c.cfg.Identifier {
			c.fail(ErrRejected)
		}
	case TypeDisconn:
		if f.Reconnect != nil && !*f.Reconnect {
			c.fail(fmt.Errorf("%w: %s", ErrRefused, f.Reason))
		}
	case "":
		if f.Identifier == c.cfg.Identifier && len(f.Message) > 0 && c.cfg.OnMessage != nil {
			c.cfg.OnMessage(f.Message)
		}
	default:
		c.cfg.Logger.Debug("actioncable: ignored a frame type", "type", f.Type)
	}
}

// fail stops the client for good, off the read goroutine.
func (c *Client) fail(err error) {
	c.mu.Lock()
	already := c.fatal
	c.fatal = true
	c.mu.Unlock()
	if already {
		return
	}
	go func() {
		c.Close()
		if c.cfg.OnFatal != nil {
			c.cfg.OnFatal(err)
		}
	}()
}

// watch drops a connection silent past StaleAfter.
func (c *Client) watch() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.StaleAfter / 3)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.mu.Lock()
			stale := time.Since(c.last) > c.cfg.StaleAfter
			if stale {
				c.last = time.Now() // one drop per silence
			}
			c.mu.Unlock()
			if sock := c.socket(); stale && sock.Connected() {
				c.cfg.Logger.Info("actioncable: no ping from the server; reconnecting")
				sock.Drop()
			}
		}
	}
}

func (c *Client) socket() *stream.Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sock
}

// Ready waits until the current connection's subscription is confirmed.
// A connection lost meanwhile fails it, unless a newer one is already
// open: it waits for that one's then.
func (c *Client) Ready(ctx context.Context) error {
	c.mu.Lock()
	g := c.gen
	c.mu.Unlock()
	for {
		select {
		case <-g.confirmed:
			return nil
		case <-g.lost:
			c.mu.Lock()
			next := c.gen
			c.mu.Unlock()
			if next == g {
				return ErrConnectionLost
			}
			g = next
		case <-ctx.Done():
			return fmt.Errorf("actioncable: ready: %w", ctx.Err())
		}
	}
}

// Close stops the socket and the watchdog. It is idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { close(c.stop) })
	err := c.socket().Close()
	<-c.done
	return err
}
