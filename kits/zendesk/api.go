package zendesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/zendesk/internal/wire"
)

// Error is a call Sunshine Conversations answered with an error status:
// the status, and the first of its errors (code and title).
type Error struct {
	Op     string
	Status int
	Code   string
	Title  string
	wait   time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("zendesk: %s: %d %s: %s", e.Op, e.Status, e.Code, e.Title)
}

// HTTPStatus tells servicedesk.CodeOf what kind of failure this is.
func (e *Error) HTTPStatus() int { return e.Status }

// RetryDelay is the answer's Retry-After, for the retry policy.
func (e *Error) RetryDelay() time.Duration { return e.wait }

// request is one REST call.
type request struct {
	op, method, path string
	body             any    // encoded as JSON
	raw              []byte // sent as is with contentType, instead of body
	contentType      string
	out              any // decoded from a 2xx answer
	// safe: sending it twice does no harm (reads, switchboard actions,
	// activities). An unsafe call is sent again only when it surely was
	// not processed (429, no connection), or when sent says it was not.
	safe bool
	// sent, when set, is asked before an unsafe call is sent again after
	// an answer that leaves it unknown (a 5xx, a lost answer).
	sent func(ctx context.Context) (bool, error)
	// health, when set, hears of the desk's reachability.
	health *health
}

// notSent is an error after which the call surely was not processed.
type notSent struct{ err error }

func (e notSent) Error() string { return e.err.Error() }
func (e notSent) Unwrap() error { return e.err }

// call runs r with retries (backoff, Retry-After) and decodes its answer.
func (k *Kit) call(ctx context.Context, r request) error {
	unknown := false // an earlier try may have been processed
	policy := retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}
	err := policy.Do(ctx, func(attempt int) error {
		if unknown && !r.safe {
			if r.sent == nil {
				return fmt.Errorf("zendesk: %s: the outcome of an earlier try is unknown: %w", r.op, servicedesk.ErrUnavailable)
			}
			done, err := r.sent(ctx)
			if err != nil {
				return err
			}
			if done {
				return nil
			}
		}
		err := k.once(ctx, r)
		var ns notSent
		var e *Error
		switch {
		case err == nil:
		case errors.As(err, &ns), errors.As(err, &e) && e.Status == http.StatusTooManyRequests:
		default:
			unknown = true
		}
		return err
	})
	return err
}

func (k *Kit) once(ctx context.Context, r request) error {
	body, ctype := r.raw, r.contentType
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("zendesk: %s: encode: %w", r.op, err)
		}
		body, ctype = b, "application/json"
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, k.base+r.path, rd)
	if err != nil {
		return fmt.Errorf("zendesk: %s: %w", r.op, err)
	}
	req.Header.Set("Authorization", k.auth)
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := k.cfg.HTTPClient.Do(req)
	if err != nil {
		r.health.result(true)
		if ctx.Err() != nil {
			return fmt.Errorf("zendesk: %s: %w", r.op, ctx.Err())
		}
		err = fmt.Errorf("zendesk: %s: %w: %w", r.op, servicedesk.ErrUnavailable, err)
		if req.Body == nil || isDialError(err) {
			return notSent{err}
		}
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	r.health.result(resp.StatusCode >= 500)
	if resp.StatusCode/100 != 2 {
		e := &Error{Op: r.op, Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
		var we wire.Errors
		if json.Unmarshal(b, &we) == nil && len(we.Errors) > 0 {
			e.Code, e.Title = we.Errors[0].Code, we.Errors[0].Title
		}
		if d, ok := retry.RetryAfter(resp, time.Now()); ok {
			e.wait = d
		}
		return e
	}
	if err != nil {
		return fmt.Errorf("zendesk: %s: read answer: %w: %w", r.op, servicedesk.ErrUnavailable, err)
	}
	if r.out != nil {
		if err := json.Unmarshal(b, r.out); err != nil {
			return fmt.Errorf("zendesk: %s: decode answer: %w", r.op, err)
		}
	}
	return nil
}

// isDialError tells a connection that was never made.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// health turns the outcomes of a desk's calls into Carbon's DISCONNECTED
// status: down after three failed tries in a row, up at the next answer.
type health struct {
	mu    sync.Mutex
	fails int
	down  bool
	// onChange is told true when the desk went down, false when it
	// answers again.
	onChange func(down bool)
}

func (h *health) result(failed bool) {
	if h == nil {
		return
	}
	h.mu.Lock()
	changed := false
	if failed {
		h.fails++
		if h.fails >= 3 && !h.down {
			h.down, changed = true, true
		}
	} else {
		h.fails = 0
		if h.down {
			h.down, changed = false, true
		}
	}
	down := h.down
	h.mu.Unlock()
	if changed && h.onChange != nil {
		h.onChange(down)
	}
}
