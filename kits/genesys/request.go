package genesys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/genesys/internal/wire"
)

// request sends one request with the session token and a fresh tracingId,
// paced when it is an onMessage. With wait it returns the answer; an error
// answer is an *Error. Rate limits (4029, retryAfter honoured), server
// errors and lost connections are retried; onMessage carries the message
// id as metadata.customMessageId, so a retry never doubles a message.
func (d *desk) request(ctx context.Context, op string, req map[string]any, wait answerWait) (wire.Envelope, error) {
	// A request belongs to the chat (session token) it was made in: once
	// that chat is over, a retry must not land in the next one.
	session := d.token()
	var env wire.Envelope
	err := retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries}.Do(ctx, func(attempt int) error {
		if err := d.awaitReady(ctx); err != nil {
			return fmt.Errorf("genesys: %s: %w", op, err)
		}
		if d.token() != session {
			return fmt.Errorf("genesys: %s: %w", op, errEnded)
		}
		if req["action"] == "onMessage" {
			if err := d.pacer.Wait(ctx); err != nil {
				return fmt.Errorf("genesys: %s: %w", op, err)
			}
		}
		var err error
		env, err = d.send(ctx, op, session, req, wait)
		if err != nil {
			var ge *Error
			if errors.As(err, &ge) && errors.Is(ge, servicedesk.ErrRateLimited) {
				// Other requests of the guest wait too.
				d.pacer.Defer(time.Duration(max(ge.RetryAfter, 1)) * time.Second)
			}
			d.log.Info("genesys: request failed", "op", op, "err", err, "attempt", attempt)
		}
		return err
	})
	return env, err
}

// answerWait is how a request waits: for its answer, or, for an event
// (Genesys answers events only when it refuses them), only for a refusal,
// which comes back at once or not at all.
type answerWait time.Duration

const (
	// withAnswer waits for the answer (Config.RequestTimeout).
	withAnswer answerWait = 0
	// eventRefusal gives a refusal a moment: a typing event lost costs
	// little.
	eventRefusal = answerWait(50 * time.Millisecond)
	// startRefusal gives the conversation's start longer: a refused start
	// (a 429) not seen loses the hand-off, and a loaded network or desk may
	// answer it late.
	startRefusal = answerWait(500 * time.Millisecond)
)

// send writes one request and waits as wait says.
func (d *desk) send(ctx context.Context, op, token string, req map[string]any, wait answerWait) (wire.Envelope, error) {
	tracing := vendorkit.NewUUID()
	msg := map[string]any{"token": token, "tracingId": tracing}
	for k, v := range req {
		msg[k] = v
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return wire.Envelope{}, fmt.Errorf("genesys: %s: encode: %w", op, err)
	}
	ch := make(chan wire.Envelope, 1)
	s := d.Socket.Get()
	d.mu.Lock()
	d.pending[tracing] = ch
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.pending, tracing)
		d.mu.Unlock()
	}()
	if s == nil {
		return wire.Envelope{}, errEnded
	}
	if err := s.Send(ctx, b); err != nil {
		return wire.Envelope{}, fmt.Errorf("genesys: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
	}
	t := time.NewTimer(d.k.cfg.RequestTimeout)
	if wait != withAnswer {
		// Refusals come back with the tracingId; give them a moment.
		t.Reset(min(d.k.cfg.RequestTimeout, time.Duration(wait)))
	}
	defer t.Stop()
	select {
	case env := <-ch:
		if env.Code != 200 {
			return wire.Envelope{}, errorOf(op, env)
		}
		return env, nil
	case <-t.C:
		if wait != withAnswer {
			return wire.Envelope{}, nil
		}
		return wire.Envelope{}, fmt.Errorf("genesys: %s: no answer in %v: %w", op, d.k.cfg.RequestTimeout, servicedesk.ErrUnavailable)
	case <-ctx.Done():
		return wire.Envelope{}, fmt.Errorf("genesys: %s: %w", op, ctx.Err())
	}
}
