package retry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Policy says how a failed call is tried again. The zero value retries
// what servicedesk.IsTemporary calls temporary, with the zero Backoff,
// until the context ends.
type Policy struct {
	// Backoff spaces the tries.
	Backoff Backoff
	// Retries bounds how many times a failed call is tried again; 0 means
	// until the context ends.
	Retries int
	// Retryable tells whether an error is worth another try. Default
	// servicedesk.IsTemporary.
	Retryable func(error) bool
}

// Delayer is implemented by errors that say when to try again (a 429's
// Retry-After, a desk's retryAfter): the next try waits that long (at most
// Backoff.MaxRetryAfter) instead of the backoff's delay.
type Delayer interface {
	RetryDelay() time.Duration
}

// Do calls f, attempt 0 first, until it returns nil or an error that is not
// retryable, the retries are spent, or ctx ends. It returns f's last error
// as it is (the caller wraps it once with the operation and ids); when ctx
// ends during a wait, ctx's error with the last one.
func (p Policy) Do(ctx context.Context, f func(attempt int) error) error {
	retryable := p.Retryable
	if retryable == nil {
		retryable = servicedesk.IsTemporary
	}
	for attempt := 0; ; attempt++ {
		err := f(attempt)
		if err == nil || ctx.Err() != nil || !retryable(err) || (p.Retries > 0 && attempt >= p.Retries) {
			return err
		}
		if !Sleep(ctx, p.wait(attempt, err)) {
			return fmt.Errorf("retry: %w; last error: %w", ctx.Err(), err)
		}
	}
}

func (p Policy) wait(attempt int, err error) time.Duration {
	var d Delayer
	if errors.As(err, &d) {
		if w := d.RetryDelay(); w > 0 {
			return min(w, p.Backoff.norm().MaxRetryAfter)
		}
	}
	return p.Backoff.Delay(attempt)
}

// NotSent reports whether err means the request never reached the peer
// (the connection was never made), so sending it again cannot double it.
func NotSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
