package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/gorilla/websocket"
)

// Several instances share a store (flow.Forwarder, such as stores/redis
// with an instance name), and a load balancer may send a browser's socket
// to any of them. The instance holding the socket does not drive the
// session when another owns it: it forwards the browser's requests to the
// owner, which runs them as if on its own socket and answers with the very
// frame it would have written, and it reads the session's events from the
// store, woken by the owner's saves.

// remoteSession is a session another instance owns, seen from a socket
// here.
type remoteSession struct {
	id  string
	fwd flow.Forwarder
}

// forwarded is what one instance sends another for a socket's request.
type forwarded struct {
	Mode  socketMode      `json:"mode"`
	Frame json.RawMessage `json:"frame"`
}

// opTouch is the owner-only op a remote socket sends with its heartbeats:
// the session has a socket, somewhere, so the owner does not abandon it.
const opTouch = "_touch"

// forward sends one request frame to the owner and returns the frame to
// write back.
func (c *conn) forward(ctx context.Context, frame []byte) ([]byte, error) {
	body, _ := json.Marshal(forwarded{Mode: c.mode, Frame: frame})
	return c.remote.fwd.Forward(ctx, c.remote.id, body)
}

// helloRemote completes a hello for a session another instance owns.
func (c *conn) helloRemote(req request, id string, resumed bool, customer *servicedesk.Customer) bool {
	g := c.g
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), g.opts.OpTimeout)
	defer cancel()
	snap, err := g.remoteSnapshot(ctx, id)
	if err != nil {
		g.detach(id)
		c.failRemote(req, err)
		return true
	}
	// The owner keeps the session's customer; an anonymous session
	// resumed here with an identity stays anonymous (its owner binds
	// identities, at its own hellos).
	if e := sameSubject(snap.Subject, customer); e != nil {
		g.detach(id)
		g.stats.identity("mismatch")
		c.fail(req.ID, req.Op, e)
		return true
	}
	c.remote = &remoteSession{id: id, fwd: g.fwd} // its owner decides when it is forgotten
	c.sid, c.mode = id, req.Mode
	from := c.welcome(ctx, req, resumed, snap, newStoredLog(ctx, g.engine.Store(), id))
	g.log.Debug("gateway: hello for a session another instance owns", "session", id, "from", from)
	g.stats.forwardedSockets.Add(1)
	c.events.Add(1)
	c.helloed.Store(true)
	go c.pushRemoteEvents(from)
	return true
}

// failRemote answers a request whose forward failed. An owner that is gone
// closes the socket: the browser reconnects, and the instance it reaches
// then claims the session.
func (c *conn) failRemote(req request, err error) {
	// Always unavailable: whatever went wrong between the instances, the
	// browser's answer is to try again (the adapter retries it).
	c.fail(req.ID, req.Op, &errFrame{Code: codeUnavailable, Message: "the server could not reach the instance that holds this chat; reconnect"})
	c.g.log.Info("gateway: forward to the session's owner failed", "session", c.sid, "op", req.Op, "err", err)
}

// handleRemote forwards one request of a socket on a remote session.
func (c *conn) handleRemote(req request, frame []byte) bool {
	if e := c.admitAddrOp(req.Op); e != nil {
		c.fail(req.ID, req.Op, e)
		return true
	}
	run := func() bool {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.g.opts.OpTimeout)
		defer cancel()
		out, err := c.forward(ctx, frame)
		c.g.stats.forwardedOps.Add(1)
		if err != nil {
			c.failRemote(req, err)
			if errors.Is(err, flow.ErrNotOwner) || errors.Is(err, flow.ErrStoreUnavailable) {
				c.closeWith(websocket.CloseServiceRestart, "the chat moves to another instance; reconnect")
				c.ws.Close()
				return false
			}
			return true
		}
		return c.writeBytes(out)
	}
	if opTable[req.Op].slow {
		c.run1(req, func() { run() })
		return true
	}
	return run()
}

// pushRemoteEvents writes the events of a remote session from the store,
// woken by the owner's saves (and every second, as pub/sub may miss a
// signal), with heartbeats that also tell the owner a socket is here.
func (c *conn) pushRemoteEvents(from uint64) {
	defer c.events.Done()
	signal, stop := c.remote.fwd.WatchEvents(c.sid)
	defer stop()
	store := c.g.engine.Store()
	var mapper callbackMapper
	cursor := from
	hb := c.g.opts.Heartbeat
	nextBeat := time.Now().Add(hb)
	for {
		evs, err := store.Events(c.ctx, c.sid, cursor, maxEventsPerRead)
		switch {
		case err == nil && len(evs) > 0:
			if !c.sendEvents(&mapper, evs) {
				return
			}
			cursor = evs[len(evs)-1].Seq
			continue
		case errors.Is(err, flow.ErrEventsTrimmed):
			c.fail("", "", protoErr(codeEventsTrimmed, "events after %d are no longer kept; reload the history", cursor))
			if rec, lerr := store.Load(c.ctx, c.sid); lerr == nil {
				cursor = rec.LastSeq
			}
		case err != nil && !errors.Is(err, flow.ErrNotFound) && c.ctx.Err() == nil:
			c.g.log.Warn("gateway: read the events of a remote session", "session", c.sid, "err", err)
		}
		wait := time.Until(nextBeat)
		select {
		case <-signal:
		case <-time.After(min(wait, time.Second)):
		case <-c.ctx.Done():
			if c.g.ctx.Err() != nil { // draining
				if left, err := store.Events(context.Background(), c.sid, cursor, 0); err == nil {
					c.sendEvents(&mapper, left)
				}
				c.closeWith(websocket.CloseGoingAway, "server shutting down; reconnect and resume")
				c.ws.Close()
			}
			return
		}
		if time.Now().After(nextBeat) {
			nextBeat = time.Now().Add(hb)
			if !c.remoteBeat(cursor) {
				return
			}
		}
	}
}

// maxEventsPerRead bounds one read of a remote session's events.
const maxEventsPerRead = 256

// remoteBeat writes a heartbeat and a ping, and touches the session at its
// owner; false when the socket or the owner is gone.
func (c *conn) remoteBeat(cursor uint64) bool {
	if !c.beat(cursor) {
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.g.opts.OpTimeout)
	defer cancel()
	if _, err := c.forward(ctx, mustJSON(request{Op: opTouch, ID: "touch"})); err != nil && c.ctx.Err() == nil {
		c.g.log.Info("gateway: the owner of a remote session is gone; closing its socket", "session", c.sid, "err", err)
		c.closeWith(websocket.CloseServiceRestart, "the chat moves to another instance; reconnect")
		c.ws.Close()
		return false
	}
	return true
}

// handleForwarded runs a request another instance forwarded for a session
// this one owns, as a socket here would, and returns the frame to write.
func (g *Gateway) handleForwarded(ctx context.Context, id string, body []byte) []byte {
	var f forwarded
	if err := json.Unmarshal(body, &f); err != nil {
		g.log.Warn("gateway: a forwarded request is not JSON", "session", id, "err", err)
		return mustJSON(errorFrame{Type: typeError, Error: protoErr(codeBadFrame, "the forwarded request is not valid")})
	}
	req, perr := decodeRequest(f.Frame)
	if perr != nil {
		return mustJSON(errorFrame{Type: typeError, Re: req.ID, Op: req.Op, Error: perr})
	}
	s, err := g.engine.Session(ctx, id)
	if err != nil {
		return mustJSON(errorFrame{Type: typeError, Re: req.ID, Op: req.Op, Error: g.publicError(id, req.Op, err)})
	}
	s.Touch() // a socket on another instance: the user is there
	g.mu.Lock()
	g.budgetLocked(id) // forwarded ops count where the session is driven
	g.mu.Unlock()
	if req.Op == opTouch {
		return mustJSON(resultFrame{Type: typeResult, Re: req.ID, Result: struct{}{}})
	}
	// A socket without a websocket: op needs the session, its mode and a
	// context that ends with the drain.
	hc := &conn{g: g, sess: s, sid: id, mode: f.Mode, ctx: g.ctx}
	return mustJSON(g.frameFor(id, req, hc.op(req)))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(errorFrame{Type: typeError, Error: protoErr(codeInternal, "%s", sentences[codeInternal])})
	}
	return b
}

// ownedElsewhere reports whether another instance owns session id
// (uploads and history then work here too: the files and events are in the
// shared store).
func (g *Gateway) ownedElsewhere(id string) bool {
	if g.fwd == nil {
		return false
	}
	owners, ok := g.engine.Store().(flow.Owners)
	if !ok {
		return false
	}
	return !owners.Owns(id)
}

// snapshotOf returns a session's snapshot, asking its owner when another
// instance owns it.
func (g *Gateway) snapshotOf(ctx context.Context, id string) (flow.Snapshot, error) {
	if s, live := g.engine.Lookup(id); live {
		return s.Snapshot(ctx)
	}
	if g.fwd == nil {
		return flow.Snapshot{}, fmt.Errorf("gateway: session %s: %w", id, flow.ErrNoChat)
	}
	return g.remoteSnapshot(ctx, id)
}

// remoteSnapshot asks the owner of session id for its snapshot.
func (g *Gateway) remoteSnapshot(ctx context.Context, id string) (flow.Snapshot, error) {
	body, _ := json.Marshal(forwarded{Mode: modeFlow, Frame: mustJSON(request{Op: opSnapshot, ID: "snapshot"})})
	out, err := g.fwd.Forward(ctx, id, body)
	if err != nil {
		return flow.Snapshot{}, err
	}
	var f struct {
		Result flow.Snapshot `json:"result"`
		Error  *errFrame     `json:"error"`
	}
	if err := json.Unmarshal(out, &f); err != nil {
		return flow.Snapshot{}, fmt.Errorf("gateway: session %s: the owner's snapshot: %w", id, err)
	}
	if f.Error != nil {
		return flow.Snapshot{}, f.Error
	}
	return f.Result, nil
}

// storedLog reads the events of a session another instance owns from the
// shared store.
type storedLog struct {
	store flow.Store
	id    string
	rec   flow.Record // as loaded when the log was opened
}

func newStoredLog(ctx context.Context, store flow.Store, id string) storedLog {
	rec, _ := store.Load(ctx, id) // none yet: an empty log
	return storedLog{store: store, id: id, rec: rec}
}

func (l storedLog) LastSeq() uint64   { return l.rec.LastSeq }
func (l storedLog) State() flow.State { return l.rec.State }

func (l storedLog) EventsSince(ctx context.Context, seq uint64, limit int) ([]flow.Event, error) {
	return l.store.Events(ctx, l.id, seq, limit)
}
