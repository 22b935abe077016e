package retry

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff computes retry delays: exponential from Min to Max with full
// jitter (a uniform pick in [0, d]), so that many clients retrying at once
// spread out. The zero value is the policy most desk calls want: 100ms
// doubling up to 5s.
type Backoff struct {
	Min, Max time.Duration
	// MaxRetryAfter caps a server's Retry-After. Default: Max.
	MaxRetryAfter time.Duration
}

func (b Backoff) norm() Backoff {
	if b.Min <= 0 {
		b.Min = 100 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 5 * time.Second
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	if b.MaxRetryAfter <= 0 {
		b.MaxRetryAfter = b.Max
	}
	return b
}

// Delay returns the wait before retry number attempt (0 for the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	b = b.norm()
	d := b.Min
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	// Full jitter, but never less than half of Min, so retries do not spin.
	return b.Min/2 + rand.N(d-b.Min/2+1)
}

// After returns the wait before retry number attempt after resp: the
// server's Retry-After when it sent one (capped at MaxRetryAfter), otherwise
// Delay(attempt).
func (b Backoff) After(attempt int, resp *http.Response, now time.Time) time.Duration {
	if d, ok := RetryAfter(resp, now); ok {
		b = b.norm()
		return min(d, b.MaxRetryAfter)
	}
	return b.Delay(attempt)
}

// RetryAfter reads a Retry-After header in seconds or as an HTTP date.
func RetryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}
