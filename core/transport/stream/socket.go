package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/transport/lifetime"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// ErrSocketClosed is returned by Send after Close.
var ErrSocketClosed = errors.New("stream: socket closed")

// SocketConfig configures a reconnecting WebSocket client.
type SocketConfig struct {
	// URL is dialled on every (re)connect; URLFunc, when set, is called
	// instead (for URLs that expire or carry a fresh token).
	URL     string
	URLFunc func(ctx context.Context) (string, http.Header, error)
	Header  http.Header
	// Dialer defaults to a websocket.Dialer with a 10s handshake timeout.
	Dialer *websocket.Dialer

	// OnOpen runs on each new connection before queued frames flow; first
	// is true for the first one. Frames it sends with send go out first (a
	// subscribe or resume request). An error drops the connection and
	// retries.
	OnOpen func(ctx context.Context, first bool, send func(frame []byte) error) error
	// OnMessage gets every data frame, on the read goroutine, in order.
	OnMessage func(frame []byte)
	// OnState reports connection changes: up after OnOpen succeeded, down
	// with the cause when a connection is lost or a dial fails.
	OnState func(up bool, err error)

	// PingInterval is the heartbeat period. Default 20s.
	PingInterval time.Duration
	// PongWait is how long a silent peer is trusted. Default 2×PingInterval.
	PongWait time.Duration
	// Heartbeat, when set, is an application-level heartbeat frame sent
	// every PingInterval besides the WebSocket ping (for desks that want
	// their own, like Amazon Connect's aws/heartbeat or Genesys's echo).
	Heartbeat func() []byte
	// WriteWait bounds one write. Default 10s.
	WriteWait time.Duration
	// ReadLimit bounds an incoming frame. Default 1 MiB.
	ReadLimit int64
	// Backoff spaces reconnects. Default: 250ms to 15s.
	Backoff retry.Backoff
	// MaxLifetime recycles a connection before a server-side limit (Amazon
	// Connect's websockets last at most two hours). 0: no limit.
	MaxLifetime time.Duration
	// Lifetime, when set, is asked on each new connection and its answer,
	// when positive, replaces MaxLifetime for it (a connection whose URL or
	// token expires at a time the desk announced).
	Lifetime func() time.Duration
	Logger   *slog.Logger
}

// Socket is a WebSocket client that reconnects with jittered backoff, keeps
// the connection alive with heartbeats, and writes from one goroutine.
type Socket struct {
	cfg    SocketConfig
	ctx    context.Context
	cancel context.CancelFunc
	sendc  chan outFrame
	done   chan struct{}

	mu        sync.Mutex
	connected bool
	closed    bool
	muted     bool            // no more OnMessage or OnState (Mute)
	cur       *websocket.Conn // the live connection, for Drop
}

type outFrame struct {
	data   []byte
	result chan error
}

// OpenSocket starts connecting in the background and returns at once.
func OpenSocket(cfg SocketConfig) *Socket {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 20 * time.Second
	}
	if cfg.PongWait <= 0 {
		cfg.PongWait = 2 * cfg.PingInterval
	}
	if cfg.WriteWait <= 0 {
		cfg.WriteWait = 10 * time.Second
	}
	if cfg.ReadLimit <= 0 {
		cfg.ReadLimit = 1 << 20
	}
	if cfg.Backoff == (retry.Backoff{}) {
		cfg.Backoff = retry.Backoff{Min: 250 * time.Millisecond, Max: 15 * time.Second}
	}
	if cfg.Dialer == nil {
		cfg.Dialer = defaultDialer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnMessage == nil {
		cfg.OnMessage = func([]byte) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Socket{cfg: cfg, ctx: ctx, cancel: cancel, sendc: make(chan outFrame), done: make(chan struct{})}
	go s.run()
	return s
}

// Connected reports whether a connection is up.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Send writes one text frame and waits until it was written to a live
// connection. While the socket is reconnecting it waits for the next
// connection, up to ctx. A frame written just before a connection dies may
// still be lost: protocols on top acknowledge and resend.
func (s *Socket) Send(ctx context.Context, frame []byte) error {
	f := outFrame{data: frame, result: make(chan error, 1)}
	select {
	case s.sendc <- f:
	case <-s.done:
		return ErrSocketClosed
	case <-ctx.Done():
		return fmt.Errorf("stream: send: %w", ctx.Err())
	}
	select {
	case err := <-f.result:
		return err
	case <-s.done:
		return ErrSocketClosed
	case <-ctx.Done():
		return fmt.Errorf("stream: send: %w", ctx.Err())
	}
}

// Drop cuts the live connection without a close frame, as a network
// failure would, so that the socket reconnects: for a protocol's own
// watchdog (an application heartbeat that stopped while the transport's
// pongs still come). It does nothing while no connection is up.
func (s *Socket) Drop() {
	s.mu.Lock()
	c := s.cur
	s.mu.Unlock()
	if c != nil {
		_ = c.NetConn().Close()
	}
}

// Close sends a close frame, waits briefly for the peer's, and stops every
// goroutine. It is idempotent and returns promptly even while dialling.
func (s *Socket) Close() error {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if !already {
		s.cancel()
	}
	<-s.done
	return nil
}

// Mute stops the socket's callbacks: no OnMessage or OnState starts after
// it returns (one under way finishes). A socket closed off its owner's
// goroutine (lifetime.Slot.Stop) is muted first, so that its last frames
// and its end do not reach an owner that has moved on to another chat.
func (s *Socket) Mute() {
	s.mu.Lock()
	s.muted = true
	s.mu.Unlock()
}

func (s *Socket) isMuted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.muted
}

func (s *Socket) setState(up bool, err error) {
	s.mu.Lock()
	changed := s.connected != up
	s.connected = up
	muted := s.muted
	s.mu.Unlock()
	if s.cfg.OnState != nil && !muted && (changed || err != nil) {
		s.cfg.OnState(up, err)
	}
}

func (s *Socket) run() {
	defer close(s.done)
	first := true
	attempt := 0
	for s.ctx.Err() == nil {
		conn, err := s.dial()
		if err == nil {
			err = s.open(conn, first)
			if err == nil {
				first = false
				attempt = 0
				s.setState(true, nil)
				err = s.serve(conn)
			} else {
				_ = conn.Close()
			}
		}
		if s.ctx.Err() != nil {
			break
		}
		s.cfg.Logger.Warn("stream: websocket down; reconnecting", "err", err, "attempt", attempt)
		s.setState(false, err)
		t := time.NewTimer(s.cfg.Backoff.Delay(attempt))
		attempt++
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
		}
	}
	s.setState(false, nil)
}

func (s *Socket) dial() (*websocket.Conn, error) {
	url, header := s.cfg.URL, s.cfg.Header
	if s.cfg.URLFunc != nil {
		var err error
		if url, header, err = s.cfg.URLFunc(s.ctx); err != nil {
			return nil, fmt.Errorf("stream: websocket url: %w", err)
		}
	}
	conn, resp, err := s.cfg.Dialer.DialContext(s.ctx, url, header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, &HandshakeError{Status: resp.StatusCode, url: redact(url), err: err}
		}
		return nil, fmt.Errorf("stream: dial %s: %w", redact(url), err)
	}
	conn.SetReadLimit(s.cfg.ReadLimit)
	return conn, nil
}

// redact drops a URL's query, where tokens often travel.
func redact(u string) string {
	for i := range len(u) {
		if u[i] == '?' {
			return u[:i] + "?…"
		}
	}
	return u
}

func (s *Socket) open(conn *websocket.Conn, first bool) error {
	if s.cfg.OnOpen == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.WriteWait)
	defer cancel()
	return s.cfg.OnOpen(ctx, first, func(frame []byte) error {
		_ = conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteWait))
		return conn.WriteMessage(websocket.TextMessage, frame)
	})
}

// serve runs one connection: a read goroutine, and writes here.
func (s *Socket) serve(conn *websocket.Conn) error {
	s.mu.Lock()
	s.cur = conn
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cur = nil
		s.mu.Unlock()
	}()
	readErr := make(chan error, 1)
	deadline := func() { _ = conn.SetReadDeadline(time.Now().Add(s.cfg.PongWait)) }
	deadline()
	conn.SetPongHandler(func(string) error { deadline(); return nil })
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				readErr <- err
				return
			}
			deadline()
			if !s.isMuted() {
				s.cfg.OnMessage(data)
			}
		}
	}()
	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	var lifetime <-chan time.Time
	maxLife := s.cfg.MaxLifetime
	if s.cfg.Lifetime != nil {
		if d := s.cfg.Lifetime(); d > 0 {
			maxLife = d
		}
	}
	if maxLife > 0 {
		t := time.NewTimer(maxLife)
		defer t.Stop()
		lifetime = t.C
	}
	write := func(kind int, data []byte) error {
		_ = conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteWait))
		return conn.WriteMessage(kind, data)
	}
	var err error
loop:
	for {
		select {
		case f := <-s.sendc:
			werr := write(websocket.TextMessage, f.data)
			f.result <- werr
			if werr != nil {
				err = fmt.Errorf("stream: write: %w", werr)
				break loop
			}
		case <-ping.C:
			if werr := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteWait)); werr != nil {
				err = fmt.Errorf("stream: ping: %w", werr)
				break loop
			}
			if s.cfg.Heartbeat != nil {
				if werr := write(websocket.TextMessage, s.cfg.Heartbeat()); werr != nil {
					err = fmt.Errorf("stream: heartbeat: %w", werr)
					break loop
				}
			}
		case rerr := <-readErr:
			err = fmt.Errorf("stream: read: %w", rerr)
			_ = conn.Close()
			return err
		case <-lifetime:
			err = errors.New("stream: connection recycled before its lifetime ends")
			s.closeHandshake(conn, readErr, websocket.CloseNormalClosure)
			return err
		case <-s.ctx.Done():
			s.closeHandshake(conn, readErr, websocket.CloseNormalClosure)
			return s.ctx.Err()
		}
	}
	_ = conn.Close()
	<-readErr
	return err
}

// closeHandshake sends a close frame and waits up to a second for the
// peer's close (which ends the read goroutine), then closes the socket.
func (s *Socket) closeHandshake(conn *websocket.Conn, readErr <-chan error, code int) {
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
	t := time.NewTimer(time.Second)
	select {
	case <-readErr:
		t.Stop()
		_ = conn.Close()
	case <-t.C:
		_ = conn.Close()
		<-readErr
	}
}

// SocketSlot holds a desk's current Socket: at most one, stopped off the
// caller's goroutine when the chat ends, closed and waited for on Close.
type SocketSlot = lifetime.Slot[*Socket]

// defaultDialer is shared by the sockets that name no Dialer. A chat's
// socket to its desk is idle most of the time: a small read buffer, and a
// write buffer taken from a pool only while a frame is written, keep an
// idle socket's memory small (gorilla's defaults hold 4 KiB of each for
// the socket's whole life).
var defaultDialer = &websocket.Dialer{
	HandshakeTimeout: 10 * time.Second,
	Proxy:            http.ProxyFromEnvironment,
	ReadBufferSize:   1024,
	WriteBufferSize:  2048,
	WriteBufferPool:  &sync.Pool{},
}
