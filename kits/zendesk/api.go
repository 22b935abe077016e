package zendesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/zendesk/internal/wire"
)

// Error is a call Sunshine Conversations answered with an error status:
// the status, and the first of its errors (Code, and its title as
// Message).
type Error = httpjson.Error

// errorBody reads Sunshine's error body, {"errors":[{code,title}]}.
func errorBody(b []byte) (code, title string) {
	var we wire.Errors
	if json.Unmarshal(b, &we) == nil && len(we.Errors) > 0 {
		return we.Errors[0].Code, we.Errors[0].Title
	}
	return "", ""
}

// request is one REST call: its body JSON (Body) or raw bytes of a
// content type (an upload).
type request struct {
	httpjson.Call
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
	sent := r.sent
	if sent == nil {
		sent = func(context.Context) (bool, error) {
			return false, fmt.Errorf("zendesk: %s: the outcome of an earlier try is unknown: %w", r.Op, servicedesk.ErrUnavailable)
		}
	}
	// An earlier try may have been processed unless it surely was not.
	unknown := func(err error) bool {
		var ns notSent
		var e *Error
		return !r.safe && !errors.As(err, &ns) && !(errors.As(err, &e) && e.Status == http.StatusTooManyRequests)
	}
	return vendorkit.Resend(ctx, retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}, unknown, sent, func(ctx context.Context) error {
		return k.once(ctx, r)
	})
}

func (k *Kit) once(ctx context.Context, r request) error {
	err := k.api.Call(ctx, r.Call)
	var e *Error
	switch {
	case err == nil:
		r.health.result(false)
	case errors.As(err, &e):
		r.health.result(e.Status >= 500)
	case ctx.Err() != nil:
		r.health.result(true)
	case errors.Is(err, servicedesk.ErrUnavailable):
		r.health.result(true)
		if (r.Body == nil && r.Raw == nil) || retry.NotSent(err) {
			return notSent{err}
		}
	}
	return err
}

// health hears of the outcomes of a desk's calls: DISCONNECTED after
// three failed tries in a row (vendorkit.Outage); the next answer has the
// desk fill what it missed, then clear it.
type health struct {
	vendorkit.Outage
	d *desk
}

func (h *health) result(failed bool) {
	if h != nil {
		h.d.reader.Heard(&h.Outage, &h.d.Chat, failed)
	}
}
