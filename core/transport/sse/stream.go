package sse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// ErrHeartbeat is the cause of a connection dropped for silence.
var ErrHeartbeat = errors.New("sse: no data within the heartbeat timeout")

// StatusError is a response that opened no stream.
type StatusError struct {
	Code int
	// Body is the start of the response body, for logs.
	Body       string
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("sse: HTTP %d: %s", e.Code, e.Body)
}

// RetryDelay implements retry.Delayer: the server's Retry-After.
func (e *StatusError) RetryDelay() time.Duration { return e.RetryAfter }

// Config configures a Stream. URL is required.
type Config struct {
	URL string
	// Header, when set, gives each connection's headers (Authorization
	// with a token renewed meanwhile). An error counts as a failed attempt
	// (and may be Fatal).
	Header func(ctx context.Context) (http.Header, error)
	// Client makes the requests; it must have no overall Timeout (a stream
	// lasts). Default: a client on a clone of http.DefaultTransport.
	Client *http.Client
	// LastEventID is sent on the first connection too, when set (a stream
	// resumed after a restart).
	LastEventID string

	// OnEvent gets every event, in order, on the stream's goroutine.
	OnEvent func(Event)
	// OnState reports connection changes: up once a response opened the
	// stream, before any of its events; down with the cause when it is
	// lost or an attempt fails. It has the shape of stream.Recovery's
	// handler.
	OnState func(up bool, err error)
	// Fatal tells errors after which reconnecting is pointless (a refused
	// token); the stream then stops and OnStop is told.
	Fatal func(error) bool
	// OnStop is told, once, why the stream gave up (not after Close).
	OnStop func(error)

	// HeartbeatTimeout drops a connection that sent nothing, not even a
	// comment, for that long. Default 90 s.
	HeartbeatTimeout time.Duration
	// Delay spaces reconnection attempts; attempt counts from 0 and is
	// reset by a connection that opened. Default Backoff{}.Delay.
	Delay func(attempt int) time.Duration
	// MaxAttempts failed attempts in a row stop the stream. Default 10;
	// negative: never.
	MaxAttempts int
	Logger      *slog.Logger
}

// Backoff is a reconnection schedule: Initial, then times Factor each
// attempt up to Max, with jitter over the upper half so that many streams
// cut at once do not all come back at once. The zero value is 1 s × 1.5 up
// to 30 s, the schedule of Salesforce's messaging web sample app.
type Backoff struct {
	Initial, Max time.Duration
	Factor       float64
}

// Delay returns the wait before attempt (0 for the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Factor < 1 {
		b.Factor = 1.5
	}
	d := float64(b.Initial)
	for i := 0; i < attempt && d < float64(b.Max); i++ {
		d *= b.Factor
	}
	d = min(d, float64(b.Max))
	return time.Duration(d/2 + rand.Float64()*d/2)
}

// Stream is a reconnecting Server-Sent Events client.
type Stream struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	lastID string
	up     bool
}

// Open starts the stream in the background and returns at once.
func Open(cfg Config) *Stream {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = 90 * time.Second
	}
	if cfg.Delay == nil {
		cfg.Delay = Backoff{}.Delay
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnEvent == nil {
		cfg.OnEvent = func(Event) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Stream{cfg: cfg, ctx: ctx, cancel: cancel, done: make(chan struct{}), lastID: cfg.LastEventID}
	go s.run()
	return s
}

// LastEventID returns the id of the last event read (or the configured
// one before any).
func (s *Stream) LastEventID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastID
}

// Connected reports whether a connection is open.
func (s *Stream) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.up
}

// Done is closed when the stream stopped (Close, or it gave up).
func (s *Stream) Done() <-chan struct{} { return s.done }

// Close stops the stream and waits for its goroutine. It is idempotent;
// it must not be called from the stream's own callbacks.
func (s *Stream) Close() error {
	s.cancel()
	<-s.done
	return nil
}

func (s *Stream) setState(up bool, err error) {
	s.mu.Lock()
	changed := s.up != up
	s.up = up
	s.mu.Unlock()
	if s.cfg.OnState != nil && (changed || err != nil) {
		s.cfg.OnState(up, err)
	}
}

func (s *Stream) run() {
	defer close(s.done)
	attempt := 0
	for s.ctx.Err() == nil {
		opened, err := s.connect()
		if s.ctx.Err() != nil {
			break
		}
		if opened {
			attempt = 0
		}
		s.setState(false, err)
		if s.cfg.Fatal != nil && s.cfg.Fatal(err) {
			s.stop(err)
			return
		}
		if !opened {
			attempt++
			if s.cfg.MaxAttempts > 0 && attempt >= s.cfg.MaxAttempts {
				s.stop(fmt.Errorf("sse: gave up after %d attempts: %w", attempt, err))
				return
			}
		}
		wait := s.cfg.Delay(max(attempt-1, 0))
		var d retry.Delayer
		if errors.As(err, &d) && d.RetryDelay() > 0 {
			wait = d.RetryDelay()
		}
		s.cfg.Logger.Warn("sse: stream down; reconnecting", "err", err, "attempt", attempt, "wait", wait)
		if !retry.Sleep(s.ctx, wait) {
			break
		}
	}
	s.setState(false, nil)
}

func (s *Stream) stop(err error) {
	s.cfg.Logger.Warn("sse: stream stopped", "err", err)
	s.setState(false, nil)
	if s.cfg.OnStop != nil {
		s.cfg.OnStop(err)
	}
}

// connect runs one connection; opened tells whether it got as far as an
// open stream.
func (s *Stream) connect() (opened bool, err error) {
	ctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return false, fmt.Errorf("sse: request: %w", err)
	}
	if s.cfg.Header != nil {
		h, err := s.cfg.Header(ctx)
		if err != nil {
			return false, fmt.Errorf("sse: headers: %w", err)
		}
		for k, v := range h {
			req.Header[k] = v
		}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if id := s.LastEventID(); id != "" {
		req.Header.Set("Last-Event-Id", id)
	}
	// The heartbeat covers the wait for the response too.
	beat := time.AfterFunc(s.cfg.HeartbeatTimeout, func() { cancel(ErrHeartbeat) })
	defer beat.Stop()
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return false, cause(ctx, fmt.Errorf("sse: GET: %w", err))
	}
	defer resp.Body.Close()
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || mt != "text/event-stream" {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		e := &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(b))}
		if resp.StatusCode == http.StatusOK {
			e.Body = "not an event stream: " + mt
		}
		if d, ok := retry.RetryAfter(resp, time.Now()); ok {
			e.RetryAfter = d
		}
		return false, e
	}
	beat.Reset(s.cfg.HeartbeatTimeout)
	s.setState(true, nil)
	r := NewReader(&beating{r: resp.Body, t: beat, d: s.cfg.HeartbeatTimeout})
	r.SetLastID(s.LastEventID())
	for {
		ev, err := r.Next()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // a server that ends the stream means "reconnect"
			}
			return true, cause(ctx, fmt.Errorf("sse: read: %w", err))
		}
		s.mu.Lock()
		s.lastID = ev.ID
		s.mu.Unlock()
		s.cfg.OnEvent(ev)
	}
}

// cause names the heartbeat when it is why ctx ended.
func cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); errors.Is(c, ErrHeartbeat) {
		return fmt.Errorf("%w (%w)", ErrHeartbeat, err)
	}
	return err
}

// beating resets the heartbeat timer on every read that brought data.
type beating struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (b *beating) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.t.Reset(b.d)
	}
	return n, err
}
