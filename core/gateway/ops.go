package gateway

import (
	"context"
	"time"
)

// Costly ops: each startChat asks the desk for an agent, and every message,
// typing change and read receipt is a desk call. They are bounded per
// session (where the session is driven, so forwarded requests count too)
// and per client address (where the socket is); typing and read receipts
// are coalesced, so that a page toggling them as fast as it can makes a
// few desk calls, the latest state last.

// Limit names of the costly ops.
const (
	limitStartChat    = "start_chat"
	limitDeskOps      = "desk_ops"
	limitChatLifetime = "chat_lifetime"
)

// sessionOps is what a session's costly ops are counted with (under g.mu;
// made on first use, so an idle session holds none of it). Which ops are
// bounded and which coalesced is opTable's.
type sessionOps struct {
	starts       bucket
	desk         bucket
	typing, read coalescer
}

// coalescer lets one call through per interval: the first at once, the
// latest of those that came meanwhile at the end of the interval.
type coalescer struct {
	last    time.Time
	pending func(context.Context) error
	timer   *time.Timer
}

func (g *Gateway) opsLocked(si *budget) *sessionOps {
	if si.ops == nil {
		now := g.opts.Now()
		perSession := max(g.opts.StartChatsPerMinute/4, 1)
		si.ops = &sessionOps{
			starts: newBucket(float64(perSession)/60, perSession, now),
			desk:   newBucket(float64(g.opts.DeskOpsPerMinute)/60, max(g.opts.DeskOpsPerMinute/4, 1), now),
		}
	}
	return si.ops
}

// rateLimited is the answer to an op past one of its bounds.
func rateLimited(wait time.Duration, format string, args ...any) *errFrame {
	e := protoErr(codeRateLimited, format, args...)
	e.RetryAfterMS = max(wait.Milliseconds(), 1)
	return e
}

// admitAddrOp applies the per-address bounds to op, on the socket's
// instance; nil when it may go on.
func (c *conn) admitAddrOp(op string) *errFrame {
	g := c.g
	var b func(*addrState) *bucket
	switch opTable[op].budget {
	case startBudget:
		if g.opts.StartChatsPerMinute <= 0 {
			return nil
		}
		b = func(a *addrState) *bucket { return &a.starts }
	case deskBudget:
		if g.opts.DeskOpsPerMinute <= 0 {
			return nil
		}
		b = func(a *addrState) *bucket { return &a.desk }
	default:
		return nil
	}
	g.mu.Lock()
	ok, wait := b(g.addrLocked(c.addr)).take(g.opts.Now())
	g.mu.Unlock()
	if ok {
		return nil
	}
	if opTable[op].budget == startBudget {
		g.limited(limitStartChat, "addr", c.addr)
		return rateLimited(wait, "too many chats were started from this address; try again later")
	}
	g.limited(limitDeskOps, "addr", c.addr)
	return rateLimited(wait, "too many requests to the desk from this address; try again in a moment")
}

// admitSessionOp applies the per-session bounds to op (startChat and the
// uncoalesced desk ops); nil when it may go on. The budget is counted
// where the session is driven, so forwarded requests count too.
func (g *Gateway) admitSessionOp(sid, op string) *errFrame {
	spec := opTable[op]
	if spec.budget == noBudget || spec.every > 0 {
		return nil
	}
	g.mu.Lock()
	ops := g.opsLocked(g.budgetLocked(sid))
	now := g.opts.Now()
	var took bool
	var wait time.Duration
	if spec.budget == startBudget {
		took, wait = ops.starts.take(now)
	} else if g.opts.DeskOpsPerMinute > 0 {
		took, wait = ops.desk.take(now)
	} else {
		took = true
	}
	g.mu.Unlock()
	switch {
	case took:
		return nil
	case spec.budget == startBudget:
		g.limited(limitStartChat, "session", sid)
		return rateLimited(wait, "this chat was started too often; try again later")
	default:
		g.limited(limitDeskOps, "session", sid)
		return rateLimited(wait, "too many requests to the desk in this chat; try again in a moment")
	}
}

// coalesced runs f, a typing change or a read receipt of session sid, at
// once when the last one went at least every ago; else it answers at once
// and f (or a later one) goes at the end of the interval.
func (g *Gateway) coalesced(ctx context.Context, sid, op string, f func(context.Context) error) error {
	every := opTable[op].every
	g.mu.Lock()
	if g.draining {
		g.mu.Unlock()
		return f(ctx)
	}
	ops := g.opsLocked(g.budgetLocked(sid))
	co := &ops.typing
	if op == opUserReadMessages {
		co = &ops.read
	}
	now := g.opts.Now()
	if co.timer == nil && now.Sub(co.last) >= every {
		co.last = now
		g.mu.Unlock()
		return f(ctx)
	}
	co.pending = f
	if co.timer == nil {
		g.pendingOps.Add(1)
		co.timer = time.AfterFunc(every-now.Sub(co.last), func() {
			defer g.pendingOps.Done()
			g.mu.Lock()
			f := co.pending
			co.pending, co.timer, co.last = nil, nil, g.opts.Now()
			g.mu.Unlock()
			if f == nil {
				return
			}
			ctx, cancel := context.WithTimeout(g.ctx, g.opts.OpTimeout)
			defer cancel()
			if err := f(ctx); err != nil {
				g.log.Debug("gateway: a coalesced op failed", "session", sid, "op", op, "err", err)
			}
		})
	}
	g.mu.Unlock()
	return nil
}

// stopCoalescedLocked drops the pending coalesced ops of a session.
func (g *Gateway) stopCoalescedLocked(si *budget) {
	if si.ops == nil {
		return
	}
	for _, co := range []*coalescer{&si.ops.typing, &si.ops.read} {
		if co.timer != nil && co.timer.Stop() {
			g.pendingOps.Done()
		}
		co.timer, co.pending = nil, nil
	}
}
