package gateway

import (
	"net"
	"net/http"
	"net/netip"
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
// compared case-insensitively, default ports folded. The gateway's own
// origin (the scheme and Host of the request) passes too, but only under
// a host it may be reached at (hosts): so a page on a name that was made
// to point at the gateway (DNS rebinding) is not taken for its own.
type origins struct {
	allowed map[string]bool
	hosts   hosts
	proxies proxies
}

func newOrigins(list []string, h hosts, px proxies) origins {
	o := origins{allowed: make(map[string]bool, len(list)), hosts: h, proxies: px}
	for _, s := range list {
		if n := normalizeOrigin(strings.TrimSuffix(strings.TrimSpace(s), "/")); n != "" {
			o.allowed[n] = true
		}
	}
	return o
}

// normalizeOrigin returns the canonical form of an origin, or "" when s
// is not exactly scheme://host[:port] (no user, path, query or fragment).
func normalizeOrigin(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	host := strings.ToLower(u.Host)
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
	own := normalizeOrigin(o.scheme(r) + "://" + r.Host)
	return origin, own != "" && n == own && o.hosts.own(r.Host)
}

// scheme is the scheme the client used: https on TLS, or as a trusted
// proxy says in X-Forwarded-Proto.
func (o origins) scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if len(o.proxies) > 0 && o.proxies.trusted(o.proxies.peer(r)) {
		if p := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto"))); p == "https" || p == "http" {
			return p
		}
	}
	return "http"
}

// hosts are the names the gateway is reached at (Options.AllowedHosts).
type hosts map[string]bool

func newHosts(list []string) hosts {
	h := make(hosts, len(list))
	for _, s := range list {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			h[s] = true
		}
	}
	return h
}

func hostName(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.ToLower(strings.Trim(h, "[]"))
	}
	return strings.ToLower(strings.Trim(hostport, "[]"))
}

// allows reports whether a request's Host may be served: any when no
// hosts are configured.
func (h hosts) allows(hostport string) bool {
	return len(h) == 0 || h[hostName(hostport)]
}

// own reports whether the gateway may count an origin under this Host as
// its own: a configured host, else an address or localhost (a name
// nobody configured may be a rebinding).
func (h hosts) own(hostport string) bool {
	name := hostName(hostport)
	if len(h) > 0 {
		return h[name]
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	return name == "localhost"
}
