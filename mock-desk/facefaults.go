package mockdesk

import (
	"context"
	"fmt"
	"time"
)

// What a vendor face needs besides the customer side: the desk's faults,
// applied where the desk's own transports apply them, and its lifetime.

// FaultSite names the requests a face refuses by the desk's faults.
type FaultSite int

const (
	// SiteREST is a REST call: Faults.REST (latency, then 429 or 5xx).
	SiteREST FaultSite = iota + 1
	// sitePoll is a long poll's request: Faults.Poll's latency, 429, 5xx.
	sitePoll
	// SiteWSHandshake is a WebSocket handshake: Faults.WS's 429 or 5xx
	// before the upgrade.
	SiteWSHandshake
	// SiteWSAction is an action the customer sends on a WebSocket (a
	// message, typing, an upload): Faults.WS's action 429 or 5xx.
	SiteWSAction
)

// FaultError is a request the desk's faults refused; the face answers it
// in its vendor's shape and does nothing else. It wraps ErrRateLimited
// (a 429) or ErrUnavailable (a 5xx).
type FaultError struct {
	// Kind is the fault counted in FaultCounts (FaultREST429, …).
	Kind string
	// RetryAfter is how long the client is asked to wait (at least 1s).
	RetryAfter time.Duration
	code       *CodeError
}

func (e *FaultError) Error() string { return "injected: " + e.code.Message }
func (e *FaultError) Unwrap() error { return e.code }

// RetryAfterSeconds is RetryAfter for a Retry-After header: whole
// seconds, rounded up.
func (e *FaultError) RetryAfterSeconds() int {
	return ceilSeconds(e.RetryAfter)
}

// RequestFault applies the desk's faults of site to one request a face
// serves: it waits the configured latency, then may refuse the request
// with a *FaultError. Any other error is ctx's (or ErrClosed) during the
// wait. Nil: serve the request.
func (d *Desk) RequestFault(ctx context.Context, site FaultSite) error {
	cfg := d.faults.config()
	switch site {
	case SiteREST:
		return d.refusal(ctx, "rest", cfg.REST, FaultRESTLatency, FaultREST429, FaultREST5xx)
	case sitePoll:
		return d.refusal(ctx, "poll", cfg.Poll.HTTPFaults, FaultPollLatency, FaultPoll429, FaultPoll5xx)
	case SiteWSHandshake:
		hs := HTTPFaults{Rate5xx: cfg.WS.Rate5xx, Rate429: cfg.WS.Rate429, RetryAfter: cfg.WS.RetryAfter}
		return d.refusal(ctx, "ws", hs, FaultWSLatency, FaultWS429, FaultWS5xx)
	case SiteWSAction:
		hs := HTTPFaults{Rate5xx: cfg.WS.ActionRate5xx, Rate429: cfg.WS.ActionRate429, RetryAfter: cfg.WS.RetryAfter}
		return d.refusal(ctx, "ws", hs, "", FaultWSAction429, FaultWSAction5xx)
	}
	return fmt.Errorf("mockdesk: request fault: site %d: %w", site, ErrBadRequest)
}

// refusal waits cfg's latency (counted as kind latency), then decides a
// 429 or a 5xx from transport's stream.
func (d *Desk) refusal(ctx context.Context, transport string, cfg HTTPFaults, latency, k429, k5xx string) error {
	if cfg.Latency > 0 && latency != "" {
		d.faults.count(latency)
		if err := d.pause(ctx, time.Duration(cfg.Latency)); err != nil {
			return err
		}
	}
	switch {
	case d.faults.hit(transport, k429, cfg.Rate429):
		return &FaultError{Kind: k429, RetryAfter: retryAfter(cfg), code: ErrRateLimited}
	case d.faults.hit(transport, k5xx, cfg.Rate5xx):
		return &FaultError{Kind: k5xx, RetryAfter: retryAfter(cfg), code: ErrUnavailable}
	}
	return nil
}

// FrameFaults applies the desk's WebSocket faults (Faults.WS) to the
// frames one connection writes: a latency before each, an abrupt drop
// after DropAfterFrames frames or at DropRate, and duplicated event
// frames. A face keeps one per connection, from one goroutine.
type FrameFaults struct {
	d      *Desk
	frames int
}

// FrameFaults returns the frame faults of a new connection.
func (d *Desk) FrameFaults() *FrameFaults { return &FrameFaults{d: d} }

// errDropped is an injected drop: the connection goes without a close
// frame.
var errDropped = fmt.Errorf("connection dropped (injected): %w", ErrUnavailable)

// Write writes one frame with write after the frame latency. An error
// means the connection is gone: the wait ended, write failed, or a drop
// was injected after the frame. Whichever, the face closes the connection
// without a close frame, as a network failure would.
func (f *FrameFaults) Write(ctx context.Context, frame []byte, write func([]byte) error) error {
	d := f.d
	cfg := d.faults.config().WS
	if cfg.Latency > 0 {
		d.faults.count(FaultWSLatency)
		if err := d.pause(ctx, time.Duration(cfg.Latency)); err != nil {
			return err
		}
	}
	if err := write(frame); err != nil {
		return err
	}
	f.frames++
	if cfg.DropAfterFrames > 0 && f.frames == cfg.DropAfterFrames {
		d.faults.count(FaultWSDrop)
		return errDropped
	}
	if d.faults.hit("ws", FaultWSDrop, cfg.DropRate) {
		return errDropped
	}
	return nil
}

// Duplicate reports whether to write the event frame just written once
// more.
func (f *FrameFaults) Duplicate() bool {
	return f.d.faults.hit("ws", FaultWSDuplicate, f.d.faults.config().WS.DuplicateRate)
}

// Go runs f on a goroutine that Close waits for, with a context Close
// cancels: a face's writers watch it to close their connections. It
// reports false, and does not run f, once the desk is closed.
func (d *Desk) Go(f func(ctx context.Context)) bool {
	return d.goTracked(func() { f(d.ctx) })
}

// Options returns the desk's options with their defaults filled in (a
// face reads MaxBodyBytes, PingInterval, Capabilities).
func (d *Desk) Options() Options {
	o := d.opts
	caps := *o.Capabilities
	o.Capabilities = &caps
	return o
}
