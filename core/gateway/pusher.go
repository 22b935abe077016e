package gateway

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/gorilla/websocket"
)

// pusher writes a socket's session events and heartbeats. It holds no
// goroutine while idle: the session's next events, the heartbeat timer and
// the socket's end each start one (kick), which writes what there is and
// goes away. An idle chat is a reader goroutine and a few timers, not two
// goroutines and their stacks. Only one goroutine runs a pusher at a time
// (running), so its fields and the conn's writer fields (frame, tokenAt)
// need no lock of their own.
type pusher struct {
	c       *conn
	sub     *flow.Subscription
	mapper  callbackMapper
	beat    *time.Timer
	kickFn  func()      // kick, made once: a method value allocates
	stopEnd func() bool // stops the AfterFunc of the socket's end

	mu      sync.Mutex
	running bool // a goroutine is in kick's loop
	pending bool // kicked since run last looked
	beatDue bool // the heartbeat timer fired
	done    bool // finished: kicks are ignored
}

// startPush starts writing the session's events after from.
func (c *conn) startPush(from uint64) {
	p := &pusher{c: c, sub: c.sess.Subscribe(from)}
	p.kickFn = p.kick
	c.events.Add(1)
	p.mu.Lock() // the callbacks below must not run before the fields are set
	p.beat = time.AfterFunc(c.g.opts.Heartbeat, func() {
		p.mu.Lock()
		p.beatDue = true
		p.mu.Unlock()
		p.kick()
	})
	p.stopEnd = context.AfterFunc(c.ctx, p.kickFn)
	p.mu.Unlock()
	go p.kick()
}

// kick has the pusher look at its session and socket; it runs the pusher
// on the calling goroutine unless one already does.
func (p *pusher) kick() {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return
	}
	p.pending = true
	if p.running {
		p.mu.Unlock()
		return
	}
	p.running = true
	p.mu.Unlock()
	for {
		p.mu.Lock()
		if !p.pending {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.pending = false
		beat := p.beatDue
		p.beatDue = false
		p.mu.Unlock()
		if !p.step(beat) {
			p.finish()
			return
		}
	}
}

// step writes the events there are and, when due, the heartbeat, then
// arms the wake-up for the next events; false when the socket is done
// with (closed, drained, or its session closed).
func (p *pusher) step(beat bool) bool {
	c := p.c
	for {
		if c.ctx.Err() != nil {
			if c.g.ctx.Err() != nil { // draining: flush, then go away
				left, _ := c.sess.EventsSince(context.Background(), p.sub.Cursor(), 0)
				c.sendEvents(&p.mapper, left)
				c.closeWith(websocket.CloseGoingAway, "server shutting down; reconnect and resume")
				c.ws.Close()
			}
			return false
		}
		evs, err := p.sub.TryNext(c.ctx)
		switch {
		case err == nil && len(evs) == 0:
		case err == nil:
			if !c.sendEvents(&p.mapper, evs) {
				return false
			}
			continue
		case c.ctx.Err() != nil:
			continue // the end, handled above
		case errors.Is(err, flow.ErrEventsTrimmed):
			c.fail("", "", protoErr(codeEventsTrimmed, "events after %d are no longer kept; reload the history", p.sub.Cursor()))
			p.sub.Close()
			p.sub = c.sess.Subscribe(c.sess.LastSeq())
			continue
		default: // the session or engine closed
			c.g.log.Info("gateway: the session's events cannot be read; the socket closes", "session", c.sid, "cursor", p.sub.Cursor(), "err", err)
			c.closeWith(websocket.CloseGoingAway, "session closed")
			c.ws.Close()
			return false
		}
		break
	}
	if beat {
		if !c.beat(p.sub.Cursor()) {
			return false
		}
		p.beat.Reset(c.g.opts.Heartbeat)
	}
	p.sub.AfterNext(p.kickFn)
	return true
}

// finish stops the pusher's timers and wake-ups for good.
func (p *pusher) finish() {
	p.mu.Lock()
	p.done, p.running = true, false
	p.mu.Unlock()
	p.beat.Stop()
	p.stopEnd()
	p.sub.StopAfterNext()
	p.sub.Close()
	p.c.events.Done()
}
