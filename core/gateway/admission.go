package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
)

// Admission control: one client address (an IPv4 address, an IPv6 /64)
// may hold MaxConnsPerAddr sockets and create NewSessionsPerMinute
// sessions a minute, so that one client cannot fill the session table or
// the socket table for everyone else. The session table is the engine's:
// at flow.Options.MaxSessions the oldest session that never started a
// chat and has no socket makes room, and such sessions are forgotten
// after ChatlessTTL.

// Limit names, in Stats.Limited, the log and the metrics.
const (
	limitConnsPerAddr    = "conns_per_addr"
	limitNewSessionsAddr = "new_sessions_per_addr"
	limitSessions        = "sessions"
	limitConnsPerSession = "conns_per_session"
	limitFrameRate       = "frame_rate"
	limitFrameSize       = "frame_size"
	limitUploadsInFlight = "uploads_in_flight"
	limitUploadBytes     = "upload_bytes"
	limitMessageBytes    = "message_bytes"
	limitHistoryBytes    = "history_bytes"
)

// proxies is the set of addresses whose X-Forwarded-For is believed.
type proxies []netip.Prefix

func parseProxies(list []string) (proxies, error) {
	var p proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			a = a.Unmap()
			p = append(p, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pr, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		p = append(p, pr.Masked())
	}
	return p, nil
}

func (p proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range p {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address a request comes from: its peer, or, when the
// peer is a trusted proxy, the right-most address of X-Forwarded-For that
// is not a trusted proxy (the left part of the header is the client's to
// write, so it is never believed).
func (p proxies) clientAddr(r *http.Request) netip.Addr {
	addr := p.peer(r)
	if !addr.IsValid() || len(p) == 0 || !p.trusted(addr) {
		return addr
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		addr = a.Unmap()
		if !p.trusted(addr) {
			break
		}
	}
	return addr
}

// peer is the address of the request's peer.
func (p proxies) peer(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap()
}

// addrKey is what per-address limits count by: an IPv4 address, or the
// /64 of an IPv6 address (one subscriber's network).
func addrKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// addrState is what the gateway counts per client address (under g.mu).
type addrState struct {
	conns    int
	sessions bucket // new sessions
	starts   bucket // startChat
	desk     bucket // desk-bound ops
}

// admitSocket counts a socket of addr; false when the address has
// MaxConnsPerAddr already.
func (g *Gateway) admitSocket(addr string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.addrLocked(addr)
	if g.opts.MaxConnsPerAddr > 0 && a.conns >= g.opts.MaxConnsPerAddr {
		return false
	}
	a.conns++
	return true
}

func (g *Gateway) releaseSocket(addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseSocketLocked(addr)
}

func (g *Gateway) releaseSocketLocked(addr string) {
	if a, ok := g.addrs[addr]; ok {
		a.conns--
	}
}

// admitNewSession spends one of addr's new sessions; when none is left it
// reports how long until one is.
func (g *Gateway) admitNewSession(addr string) (bool, time.Duration) {
	if g.opts.NewSessionsPerMinute <= 0 {
		return true, 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addrLocked(addr).sessions.take(g.opts.Now())
}

func (g *Gateway) addrLocked(addr string) *addrState {
	a, ok := g.addrs[addr]
	if !ok {
		now := g.opts.Now()
		per := float64(g.opts.NewSessionsPerMinute)
		desk := 10 * g.opts.DeskOpsPerMinute // an address holds several sessions
		a = &addrState{
			sessions: newBucket(per/60, max(g.opts.NewSessionsPerMinute, 1), now),
			starts:   newBucket(float64(g.opts.StartChatsPerMinute)/60, max(g.opts.StartChatsPerMinute, 1), now),
			desk:     newBucket(float64(desk)/60, max(desk/4, 1), now),
		}
		g.addrs[addr] = a
	}
	return a
}

// sweepAddrs forgets addresses without sockets whose new-session budget is
// full again (under g.mu).
func (g *Gateway) sweepAddrsLocked(now time.Time) {
	refill := time.Minute
	for k, a := range g.addrs {
		last := a.sessions.last
		for _, t := range []time.Time{a.starts.last, a.desk.last} {
			if t.After(last) {
				last = t
			}
		}
		if a.conns <= 0 && now.Sub(last) > refill {
			delete(g.addrs, k)
		}
	}
}

// releaseEndedUploads stops counting the uploads of chats that are over
// (the engine deletes their bytes); it reports whether any were.
func (g *Gateway) releaseEndedUploads() bool {
	released := false
	for _, id := range g.files.sessions() {
		if s, ok := g.engine.Lookup(id); !ok || !s.State().Active() {
			released = g.files.forgetChat(id) || released
		}
	}
	return released
}

// known reports whether session id exists: in the engine or in the
// Store. A token of a session that was forgotten opens nothing: it does
// not bring an empty session back under the old id.
func (g *Gateway) known(ctx context.Context, id string) bool {
	if _, live := g.engine.Lookup(id); live {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, g.opts.OpTimeout)
	defer cancel()
	_, err := g.engine.Store().Load(ctx, id)
	return !errors.Is(err, flow.ErrNotFound)
}

// limited counts a limit that bit and logs it, sampled: the first time,
// then at most once per limitLogEvery per limit, with the count of those
// not logged.
func (g *Gateway) limited(limit string, attrs ...any) {
	g.stats.limit(limit)
	if n, ok := g.sampler.allow(limit, g.opts.Now()); ok {
		g.log.Warn("gateway: limit reached", append([]any{"limit", limit, "times", n}, attrs...)...)
	}
}

// limitLogEvery is the sampling interval of limit logs.
const limitLogEvery = 10 * time.Second

type sampler struct {
	mu   sync.Mutex
	last map[string]time.Time
	n    map[string]int
}

// allow reports whether to log key now, with how many times it happened
// since the last log line.
func (s *sampler) allow(key string, now time.Time) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last, s.n = make(map[string]time.Time), make(map[string]int)
	}
	s.n[key]++
	if t, ok := s.last[key]; ok && now.Sub(t) < limitLogEvery {
		return 0, false
	}
	n := s.n[key]
	s.last[key], s.n[key] = now, 0
	return n, true
}
