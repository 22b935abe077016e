package gateway

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// bucket is a token bucket: rate tokens a second, at most burst saved. It
// is used by one goroutine (a connection's reader) and needs no lock.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) bucket {
	return bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// take spends one token; when none is left it reports how long until one is.
func (b *bucket) take(now time.Time) (bool, time.Duration) {
	if b.rate <= 0 {
		return true, 0
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	return false, wait
}

// origins is the Origin allowlist: exact "scheme://host[:port]" matches,
// compared case-insensitively. A request's own host always passes.
type origins struct {
	allowed map[string]bool
}

func newOrigins(list []string) origins {
	o := origins{allowed: make(map[string]bool, len(list))}
	for _, s := range list {
		if n := normalizeOrigin(s); n != "" {
			o.allowed[n] = true
		}
	}
	return o
}

func normalizeOrigin(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Host)
	scheme := strings.ToLower(u.Scheme)
	host = strings.TrimSuffix(host, map[string]string{"http": ":80", "https": ":443"}[scheme])
	return scheme + "://" + host
}

// check reports whether the request's Origin may use the gateway. A request
// without Origin comes from a program, not a browser page, and cannot be a
// cross-site request forgery: it passes (its token still decides what it
// may do).
func (o origins) check(r *http.Request) (origin string, ok bool) {
	origin = r.Header.Get("Origin")
	if origin == "" {
		return "", true
	}
	n := normalizeOrigin(origin)
	if n == "" {
		return origin, false
	}
	if o.allowed[n] {
		return origin, true
	}
	u, _ := url.Parse(n)
	return origin, strings.EqualFold(u.Host, r.Host)
}
