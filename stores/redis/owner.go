package redisstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/redis/go-redis/v9"
)

// Several deskbridge instances share one Redis: each names itself
// (Options.Instance) and owns the sessions it drives through a lease, a
// key "<prefix>:{tag}:own" = "instance|fence" that expires after
// Options.LeaseTTL unless renewed. The fence grows with every new owner;
// every Save carries the writer's lease and the save script refuses it
// when the lease in Redis is another's, so an instance that was paused
// past its lease cannot write over the new owner's chat.

var _ flow.Owners = (*Store)(nil)

// DefaultLeaseTTL is how long a lease lasts without renewal.
const DefaultLeaseTTL = 10 * time.Second

type lease struct {
	value   string    // "instance|fence", as in Redis
	fence   string    // the fence alone
	granted time.Time // when the last grant or renewal that succeeded was sent
}

type leases struct {
	mu      sync.Mutex
	held    map[string]*lease
	lost    func(id string)
	running bool          // the renewer
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when the renewer returned
}

// Claim implements flow.Owners: one script, which takes a free lease (a new
// fence) or renews this instance's own.
func (s *Store) Claim(ctx context.Context, id string) error {
	if s.opts.Instance == "" {
		return nil // not shared: every session is this instance's
	}
	if s.Owns(id) {
		return nil
	}
	t := tag(id)
	sent := time.Now()
	status, v, _, err := reply(claimScript.Run(ctx, s.c, []string{s.key(t, "own"), s.key(t, "s")}, s.opts.Instance, s.opts.LeaseTTL.Milliseconds(), s.ttl))
	switch {
	case err != nil:
		return fmt.Errorf("redisstore: claim session %s: %w", id, classify(err))
	case status == statusOwned:
		return fmt.Errorf("redisstore: claim session %s: another instance holds it (%d ms left): %w", id, v, flow.ErrOwnedElsewhere)
	case status != statusOK:
		return fmt.Errorf("redisstore: claim session %s: unexpected status %d", id, status)
	}
	fence := strconv.FormatInt(v, 10)
	l := &s.leases
	l.mu.Lock()
	l.held[id] = &lease{value: s.opts.Instance + "|" + fence, fence: fence, granted: sent}
	if !l.running && l.stop != nil {
		select {
		case <-l.stop: // closed: no renewer any more
		default:
			l.running = true
			go s.renew()
		}
	}
	l.mu.Unlock()
	return nil
}

// Release implements flow.Owners.
func (s *Store) Release(ctx context.Context, id string) error {
	if s.opts.Instance == "" {
		return nil
	}
	l := &s.leases
	l.mu.Lock()
	held := l.held[id]
	delete(l.held, id)
	l.mu.Unlock()
	if held == nil {
		return nil
	}
	if _, _, _, err := reply(releaseScript.Run(ctx, s.c, []string{s.key(tag(id), "own")}, held.value)); err != nil {
		return fmt.Errorf("redisstore: release session %s: %w", id, classify(err))
	}
	return nil
}

// Owns implements flow.Owners: the lease holds by this process's clock,
// with a fifth of the lease to spare for clocks and delays.
func (s *Store) Owns(id string) bool {
	if s.opts.Instance == "" {
		return true
	}
	l := &s.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	held := l.held[id]
	return held != nil && time.Since(held.granted) < s.opts.LeaseTTL-s.opts.LeaseTTL/5
}

// OnLost implements flow.Owners.
func (s *Store) OnLost(fn func(id string)) {
	s.leases.mu.Lock()
	s.leases.lost = fn
	s.leases.mu.Unlock()
}

// Orphans implements flow.Owners: the running chats whose lease is gone,
// or is under this instance's name but not held by this process (left by
// its previous run: a restart takes them back at once instead of waiting
// for them to expire). Two round trips: the index, then the leases in one
// pipeline.
func (s *Store) Orphans(ctx context.Context, limit int) ([]string, error) {
	cutoff := time.Now().Add(-s.opts.TTL).UnixMilli()
	pipe := s.c.Pipeline()
	pipe.ZRemRangeByScore(ctx, s.running, "-inf", "("+strconv.FormatInt(cutoff, 10))
	tagsCmd := pipe.ZRange(ctx, s.running, 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redisstore: orphans: %w", classify(err))
	}
	tags := tagsCmd.Val()
	if len(tags) == 0 {
		return nil, nil
	}
	pipe = s.c.Pipeline()
	owners := make([]*redis.StringCmd, len(tags))
	for i, t := range tags {
		owners[i] = pipe.Get(ctx, s.key(t, "own"))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: orphans: %w", classify(err))
	}
	mine := s.opts.Instance + "|"
	var ids []string
	for i, t := range tags {
		owner, err := owners[i].Result()
		if err == nil && !strings.HasPrefix(owner, mine) {
			continue // another instance's
		}
		b, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil {
			continue
		}
		id := string(b)
		if s.Owns(id) {
			continue
		}
		ids = append(ids, id)
		if limit > 0 && len(ids) == limit {
			break
		}
	}
	return ids, nil
}

// writerLease is what a Save carries: this instance's lease on the
// session, or "" for a store no instances share.
func (s *Store) writerLease(id string) (string, error) {
	if s.opts.Instance == "" {
		return "", nil
	}
	s.leases.mu.Lock()
	held := s.leases.held[id]
	s.leases.mu.Unlock()
	if held == nil {
		return "", fmt.Errorf("no lease on the session: %w", flow.ErrNotOwner)
	}
	return held.value, nil
}

// dropLease forgets a lease Redis says is another's.
func (s *Store) dropLease(id string) {
	s.leases.mu.Lock()
	delete(s.leases.held, id)
	s.leases.mu.Unlock()
}

// renew extends every lease this instance holds, every third of the lease,
// in pipelines; a lease found taken is dropped and reported lost.
func (s *Store) renew() {
	l := &s.leases
	defer close(l.done)
	every := s.opts.LeaseTTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		ids := make([]string, 0, len(l.held))
		vals := make([]*lease, 0, len(l.held))
		for id, held := range l.held {
			ids = append(ids, id)
			vals = append(vals, held)
		}
		l.mu.Unlock()
		for start := 0; start < len(ids); start += maxPipelined {
			end := min(start+maxPipelined, len(ids))
			s.renewBatch(ids[start:end], vals[start:end])
		}
	}
}

func (s *Store) renewBatch(ids []string, vals []*lease) {
	ctx, cancel := context.WithTimeout(context.Background(), pipelineTimeout)
	defer cancel()
	sent := time.Now()
	pipe := s.c.Pipeline()
	cmds := make([]*redis.Cmd, len(ids))
	for i, id := range ids {
		t := tag(id)
		cmds[i] = renewScript.EvalSha(ctx, pipe, []string{s.key(t, "own"), s.key(t, "s")}, vals[i].value, vals[i].fence, s.opts.LeaseTTL.Milliseconds())
	}
	_, _ = pipe.Exec(ctx)
	var lost []string
	l := &s.leases
	l.mu.Lock()
	for i, id := range ids {
		status, _, _, err := reply(cmds[i])
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			status, _, _, err = reply(renewScript.Run(ctx, s.c, []string{s.key(tag(id), "own"), s.key(tag(id), "s")}, vals[i].value, vals[i].fence, s.opts.LeaseTTL.Milliseconds()))
		}
		cur := l.held[id]
		if cur != vals[i] {
			continue // released or claimed again meanwhile
		}
		switch {
		case err != nil:
			// Redis away: the lease runs out by Owns' clock; the next
			// renewal may still save it (renewScript takes it again when
			// nobody else did).
			s.opts.Logger.Warn("redisstore: renew a lease", "session", id, "err", err)
		case status == statusLost:
			delete(l.held, id)
			lost = append(lost, id)
		default:
			cur.granted = sent
		}
	}
	fn := l.lost
	l.mu.Unlock()
	if fn != nil {
		for _, id := range lost {
			fn(id)
		}
	}
}

// stopRenewing ends the renewer, at Close.
func (s *Store) stopRenewing() {
	l := &s.leases
	l.mu.Lock()
	running := l.running
	if l.stop != nil {
		select {
		case <-l.stop:
		default:
			close(l.stop)
		}
	}
	l.mu.Unlock()
	if running {
		<-l.done
	}
}

// Stats counts what the store did for a shared deployment, for metrics.
type Stats struct {
	// Leases is how many sessions this instance owns now.
	Leases int
	// ForwardsSent and ForwardsServed count requests this instance
	// forwarded to owners, and answered for others.
	ForwardsSent, ForwardsServed uint64
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	s.leases.mu.Lock()
	n := len(s.leases.held)
	s.leases.mu.Unlock()
	return Stats{Leases: n, ForwardsSent: s.bus.sent.Load(), ForwardsServed: s.bus.served.Load()}
}
