package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/gorilla/websocket"
)

// Close codes the gateway uses besides the standard ones.
const (
	// closeTooManyConns: the session already has MaxConnsPerSession sockets.
	closeTooManyConns = 4001
	// closeHelloTimeout: no hello within HelloTimeout.
	closeHelloTimeout = 4002
	// closeTryAgainLater: the client address created too many sessions
	// (1013, try again later).
	closeTryAgainLater = websocket.CloseTryAgainLater
)

// conn is one browser socket. Its reader runs on a goroutine of its own;
// after hello a pusher writes the session's events and the heartbeats, on
// a goroutine only while it has something to write. Writes are serialised
// by wmu (gorilla allows one writer).
type conn struct {
	g  *Gateway
	ws *websocket.Conn

	ctx    context.Context // ends when the socket closes or the drain begins
	cancel context.CancelFunc

	wmu sync.Mutex

	// Set by hello, read-only afterwards.
	sess   *flow.Session
	leave  func()         // detaches sess (flow.Session.Attach)
	remote *remoteSession // instead of sess: a session another instance owns
	sid    string
	mode   socketMode
	addr   string // the client address key (addrKey)

	helloed atomic.Bool // set once hello succeeded; read by Shutdown
	tokenAt time.Time   // when the socket's token was minted (the writer's)
	opened  time.Time   // when the socket was accepted

	frame  []byte    // the event writer's frame buffer (sendEvents)
	cork   *corkConn // ws's connection, corked for a batch of events
	bucket bucket
	async  sync.WaitGroup
	slow   chan struct{} // one slow op (availability, reconnect) at a time
	events sync.WaitGroup
}

func newConn(g *Gateway, ws *websocket.Conn) *conn {
	c := &conn{g: g, ws: ws, slow: make(chan struct{}, 2)}
	c.ctx, c.cancel = context.WithCancel(g.ctx)
	c.opened = g.opts.Now()
	c.bucket = newBucket(g.opts.RatePerSecond, g.opts.Burst, c.opened)
	return c
}

// hardLimit is the frame size past which the socket is closed (1009);
// frames between MaxFrameBytes and it are read, dropped and answered.
func (c *conn) hardLimit() int64 { return 16 * c.g.opts.MaxFrameBytes }

func (c *conn) run() {
	o := &c.g.opts
	defer func() {
		c.cancel()
		c.async.Wait()
		c.events.Wait()
		c.ws.Close()
		if c.leave != nil {
			c.leave()
		}
		if c.sid != "" {
			c.g.detach(c.sid)
		}
	}()
	c.ws.SetReadLimit(c.hardLimit())
	_ = c.ws.SetReadDeadline(o.Now().Add(o.HelloTimeout))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(c.idleLimit()))
	})
	for {
		mt, r, err := c.ws.NextReader()
		if err != nil {
			if c.sess == nil && isTimeout(err) {
				c.closeWith(closeHelloTimeout, "no hello in time")
			}
			c.g.log.Debug("gateway: socket closed", "session", c.sid, "err", err)
			return
		}
		if c.sess != nil {
			_ = c.ws.SetReadDeadline(time.Now().Add(c.idleLimit()))
		}
		c.g.stats.add(&c.g.stats.framesIn)
		buf := frameBuffers.Get().(*bytes.Buffer)
		open := c.readFrame(mt, r, buf)
		if buf.Cap() <= maxKeptFrame {
			buf.Reset()
			frameBuffers.Put(buf)
		}
		if !open {
			return
		}
	}
}

// frameBuffers lend the reader a buffer a frame: an idle socket keeps
// none (a request is decoded into values of its own, so nothing of the
// buffer outlives the frame).
var frameBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readFrame reads one frame of type mt from r into buf and acts on it; false
// closes the socket.
func (c *conn) readFrame(mt int, r io.Reader, buf *bytes.Buffer) bool {
	o := &c.g.opts
	n, err := io.Copy(buf, io.LimitReader(r, o.MaxFrameBytes+1))
	if err != nil {
		return false
	}
	if n > o.MaxFrameBytes {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return false // past the hard limit: gorilla closed with 1009
		}
		c.g.limited(limitFrameSize, "session", c.sid)
		c.fail("", "", protoErr(codeFrameTooLarge, "frame larger than %d bytes; it was dropped", o.MaxFrameBytes))
		return true
	}
	if mt != websocket.TextMessage {
		c.fail("", "", protoErr(codeBadFrame, "binary frames are not used; send JSON text frames"))
		return true
	}
	if ok, wait := c.bucket.take(o.Now()); !ok {
		req, _ := decodeRequest(buf.Bytes())
		c.g.limited(limitFrameRate, "session", c.sid, "op", req.Op)
		e := protoErr(codeRateLimited, "more than %g frames a second; %s was dropped", o.RatePerSecond, opName(req.Op))
		e.RetryAfterMS = max(wait.Milliseconds(), 1)
		c.fail(req.ID, req.Op, e)
		return true
	}
	req, perr := decodeRequest(buf.Bytes())
	if perr != nil {
		c.fail(req.ID, req.Op, perr)
		return true
	}
	if c.remote != nil && req.Op != opHello {
		return c.handleRemote(req, bytes.Clone(buf.Bytes()))
	}
	return c.handle(req)
}

func opName(op string) string {
	if op == "" {
		return "the frame"
	}
	return "op " + op
}

// idleLimit is how long a silent peer is kept.
func (c *conn) idleLimit() time.Duration { return c.g.opts.Heartbeat * 5 / 2 }

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// handle runs one request; false closes the socket.
func (c *conn) handle(req request) bool {
	if req.Op == opHello {
		return c.hello(req)
	}
	if c.sess == nil {
		c.fail(req.ID, req.Op, protoErr(codeHelloFirst, "send hello first"))
		return true
	}
	if e := c.admitAddrOp(req.Op); e != nil {
		c.fail(req.ID, req.Op, e)
		return true
	}
	c.run1(req, func() { c.answer(req, c.op(req)) })
	return true
}

// run1 runs one request's work: the slow ops (opTable) on their own
// goroutine, one of each kind at a time, so that they do not hold the
// socket's other requests back; the others in order, here.
func (c *conn) run1(req request, work func()) {
	if !opTable[req.Op].slow {
		work()
		return
	}
	select {
	case c.slow <- struct{}{}:
	default:
		c.fail(req.ID, req.Op, protoErr(codeRateLimited, "%s is already running", req.Op))
		return
	}
	c.async.Add(1)
	go func() {
		defer c.async.Done()
		defer func() { <-c.slow }()
		work()
	}()
}

type opResult struct {
	v   any
	err error
}

func (c *conn) answer(req request, r opResult) {
	f := c.g.frameFor(c.sid, req, r)
	if ef, ok := f.(errorFrame); ok {
		c.fail(ef.Re, ef.Op, ef.Error)
		return
	}
	c.write(f)
}

// frameFor is the frame that answers req on session sid with r.
func (g *Gateway) frameFor(sid string, req request, r opResult) any {
	if r.err != nil {
		return errorFrame{Type: typeError, Re: req.ID, Op: req.Op, Error: g.publicError(sid, req.Op, r.err)}
	}
	if r.v == nil {
		r.v = struct{}{}
	}
	return resultFrame{Type: typeResult, Re: req.ID, Result: r.v}
}

// fail sends an error frame; the socket and the session go on.
func (c *conn) fail(re, op string, e *errFrame) {
	c.g.stats.errorCode(e.Code)
	if e.Code == codeBadToken {
		if n, ok := c.g.sampler.allow(e.Code, c.g.opts.Now()); ok {
			c.g.log.Info("gateway: request refused", "code", e.Code, "op", op, "addr", c.addr, "times", n)
		}
	}
	c.write(errorFrame{Type: typeError, Re: re, Op: op, Error: e})
}

// write sends one frame; a failed write closes the socket, which ends the
// reader.
func (c *conn) write(v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		c.g.log.Error("gateway: encode frame", "session", c.sid, "err", err)
		return false
	}
	return c.writeBytes(b)
}

// writeBytes sends one encoded frame.
func (c *conn) writeBytes(b []byte) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.g.opts.WriteTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.ws.Close()
		return false
	}
	c.g.stats.add(&c.g.stats.framesOut)
	return true
}

func (c *conn) closeWith(code int, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
}

func (c *conn) hello(req request) bool {
	if c.sess != nil {
		c.fail(req.ID, req.Op, protoErr(codeBadFrame, "hello was already sent on this socket"))
		return true
	}
	g := c.g
	resumed := req.Token != ""
	id := ""
	legacy := false
	badToken := func() bool {
		c.fail(req.ID, req.Op, protoErr(codeBadToken, "the token is not valid here; send hello without a token to start a new session"))
		return true
	}
	customer, ierr := g.helloIdentity(c.ctx, req)
	if ierr != nil {
		c.fail(req.ID, req.Op, ierr)
		return true
	}
	if resumed {
		var ok bool
		if id, legacy, ok = g.tokens.verify(req.Token); !ok || !g.known(c.ctx, id) {
			return badToken()
		}
	} else {
		if ok, wait := g.admitNewSession(c.addr); !ok {
			g.limited(limitNewSessionsAddr, "addr", c.addr)
			e := protoErr(codeRateLimited, "too many new sessions from this address; try again later")
			e.RetryAfterMS = max(wait.Milliseconds(), 1)
			c.fail(req.ID, req.Op, e)
			c.closeWith(closeTryAgainLater, codeRateLimited)
			return false
		}
		id = newSessionID()
	}
	tooMany := func(code string) bool {
		c.fail(req.ID, req.Op, protoErr(code, "the session has too many sockets, or the server too many sessions; try again later"))
		c.closeWith(closeTooManyConns, code)
		return false
	}
	if !g.attach(id) {
		return tooMany(codeTooManyConns)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), g.opts.OpTimeout)
	defer cancel()
	s, err := g.engine.Session(ctx, id)
	if errors.Is(err, flow.ErrOwnedElsewhere) && g.fwd != nil {
		return c.helloRemote(req, id, resumed, customer)
	}
	if errors.Is(err, flow.ErrTooManySessions) {
		g.detach(id)
		g.limited(limitSessions, "sessions", g.engine.Len())
		return tooMany(codeTooManySessions)
	}
	if err != nil {
		g.detach(id)
		c.fail(req.ID, req.Op, g.publicError(id, req.Op, err))
		return true
	}
	leave := s.Attach()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		leave()
		g.detach(id)
		c.fail(req.ID, req.Op, g.publicError(id, req.Op, err))
		return true
	}
	if legacy && !snap.State.Active() {
		leave()
		g.detach(id)
		return badToken()
	}
	e := sameSubject(snap.Subject, customer)
	if e == nil {
		e = identify(ctx, s, customer)
	}
	if e == nil && customer != nil {
		snap.Subject = customer.ID
	}
	if e != nil {
		leave()
		g.detach(id)
		if e.Code == codeBadIdentity {
			g.stats.identity("mismatch")
		}
		c.fail(req.ID, req.Op, e)
		return true
	}
	c.sess, c.leave, c.sid, c.mode = s, leave, id, req.Mode
	from := c.welcome(ctx, req, resumed, snap, s)
	g.log.Debug("gateway: hello", "session", id, "mode", c.mode, "resumed", resumed, "from", from)
	c.helloed.Store(true)
	c.startPush(from)
	return true
}

// welcome answers a hello on session c.sid with its snapshot, and returns
// the seq the socket's events start after: the client's, or 0 when the
// client is ahead of the session (it reset); and no further back than
// MaxHistoryBytes of events (an events_trimmed error after the welcome
// says so: the client reloads the history).
func (c *conn) welcome(ctx context.Context, req request, resumed bool, snap flow.Snapshot, log eventLog) uint64 {
	from := req.LastSeq
	reset := from > snap.LastSeq
	if reset {
		from = 0
	}
	trimmed := false
	var skipped uint64
	if from < snap.LastSeq {
		evs, complete, err := tailEvents(ctx, log, from, snap.LastSeq, c.g.opts.MaxHistoryBytes)
		if err == nil && !complete && len(evs) > 0 {
			from, trimmed = evs[0].Seq-1, true
		}
		if n := c.g.chatView().skip(evs, snap); n > from {
			from, skipped, trimmed = n, n, false
		}
	}
	defer func() {
		if trimmed {
			c.g.limited(limitHistoryBytes, "session", c.sid)
			c.fail("", "", protoErr(codeEventsTrimmed, "events after %d are more than a resume replays; reload the history", req.LastSeq))
		}
	}()
	_ = c.ws.SetReadDeadline(time.Now().Add(c.idleLimit()))
	o := &c.g.opts
	c.tokenAt = o.Now()
	c.write(welcomeFrame{
		Type: typeWelcome, Re: req.ID, Session: c.sid, Token: c.g.tokens.mint(c.sid), Mode: c.mode,
		LastSeq: snap.LastSeq, Reset: reset, SkippedTo: skipped, Resumed: resumed, Snapshot: snap,
		Limits:           welcomeLimits{MaxFrameBytes: o.MaxFrameBytes, MaxUploadBytes: o.MaxUploadBytes, RatePerSecond: o.RatePerSecond, Burst: o.Burst, HeartbeatMS: o.Heartbeat.Milliseconds()},
		StoreUnavailable: c.g.store.down.Load(),
	})
	return from
}

// beat writes a heartbeat frame after cursor and a WebSocket ping; false
// when the socket is gone.
func (c *conn) beat(cursor uint64) bool {
	c.write(c.heartbeat(cursor))
	c.wmu.Lock()
	err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.g.opts.WriteTimeout))
	c.wmu.Unlock()
	if err != nil {
		c.ws.Close()
		return false
	}
	return true
}

// heartbeat is the heartbeat frame after cursor, with a fresh token when
// the socket's is past half its life.
func (c *conn) heartbeat(cursor uint64) heartbeatFrame {
	f := heartbeatFrame{Type: typeHeartbeat, LastSeq: cursor}
	if now := c.g.opts.Now(); now.Sub(c.tokenAt) > c.g.opts.TokenTTL/2 {
		c.tokenAt = now
		f.Token = c.g.tokens.mint(c.sid)
	}
	return f
}

// sendEvents writes one event frame per event, in order. Only the event
// writer calls it, so it reuses one frame buffer.
func (c *conn) sendEvents(m *callbackMapper, evs []flow.Event) bool {
	if len(evs) > 1 && c.cork != nil {
		c.cork.cork()
		defer func() {
			if err := c.cork.uncork(); err != nil {
				c.ws.Close()
			}
		}()
	}
	for i := range evs {
		ev := &evs[i]
		var cb *carbonCall
		if c.mode == modeDesk {
			cb = m.callbackFor(ev)
		}
		b, err := appendEventFrame(c.frame[:0], ev, cb)
		if err != nil {
			c.g.log.Error("gateway: encode event frame", "session", c.sid, "seq", ev.Seq, "err", err)
			return false
		}
		c.frame = b
		if !c.writeBytes(b) {
			return false
		}
		c.g.stats.add(&c.g.stats.eventsOut)
	}
	if cap(c.frame) > maxKeptFrame {
		c.frame = nil // a large event's buffer is not kept by an idle socket
	}
	return true
}

// op runs one session op. Commands run to the end even if the socket
// closes meanwhile (the engine applies what it accepted); the slow queries
// (opTable) stop with the socket, as nobody awaits them.
func (c *conn) op(req request) opResult {
	parent := context.WithoutCancel(c.ctx)
	if opTable[req.Op].slow {
		parent = c.ctx
	}
	ctx, cancel := context.WithTimeout(parent, c.g.opts.OpTimeout)
	defer cancel()
	s := c.sess
	bad := func(e *errFrame) opResult { return opResult{err: e} }
	if e := c.g.admitSessionOp(c.sid, req.Op); e != nil {
		return bad(e)
	}
	switch req.Op {
	case opPing:
		return opResult{v: map[string]uint64{"last_seq": s.LastSeq()}}
	case opSnapshot:
		snap, err := s.Snapshot(ctx)
		return opResult{snap, err}
	case opAreAnyAgentsOnline:
		a, msg, e := connectArgsOf(req)
		if e != nil {
			return bad(e)
		}
		if a.TimeoutMS > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(a.TimeoutMS)*time.Millisecond)
			defer cancel()
		}
		// Never AutoStart here: Carbon starts the chat itself
		// (skipConnectHumanAgentCard), and a chat it did not start is one
		// it does not show.
		st, err := s.AreAnyAgentsOnline(ctx, msg)
		var online any // Carbon: true, false or null
		switch st {
		case servicedesk.Online:
			online = true
		case servicedesk.Offline:
			online = false
		}
		return opResult{map[string]any{"online": online, "status": st}, err}
	case opStartChat:
		a, msg, e := connectArgsOf(req)
		if e != nil {
			return bad(e)
		}
		payload := a.Options.PreStartChatPayload
		h := servicedesk.Handoff{Transcript: browserTurns(a.Transcript)}
		if trust := c.g.opts.TrustConnectMessage; trust == nil || !trust(ctx, msg, payload) {
			msg, payload, h.Unverified = fromUser(msg, payload)
			h.TranscriptUnverified = len(h.Transcript) > 0
		}
		err := s.StartChat(ctx, msg, flow.StartOptions{Payload: payload, Handoff: h})
		return opResult{err: err}
	case opSendMessageToAgent:
		var a sendArgs
		if e := req.args(&a); e != nil {
			return bad(e)
		}
		var msg servicedesk.MessageRequest
		if len(a.Message) > 0 {
			if err := json.Unmarshal(a.Message, &msg); err != nil {
				return bad(protoErr(codeBadArgs, "sendMessageToAgent: message: %s", jsonProblem(err)))
			}
		}
		if a.MessageID != "" {
			msg.ID = a.MessageID
		}
		if len(msg.ID) > 128 {
			return bad(protoErr(codeBadArgs, "sendMessageToAgent: messageID longer than 128 bytes"))
		}
		if n := len(msg.Input.Text); n > c.g.opts.MaxMessageBytes {
			c.g.limited(limitMessageBytes, "session", c.sid)
			return bad(protoErr(codeMessageTooLong, "the message is %d bytes long; the most is %d", n, c.g.opts.MaxMessageBytes))
		}
		files := make([]servicedesk.FileUpload, 0, len(a.FileIDs))
		for _, fid := range a.FileIDs {
			f, ok := c.g.files.get(ctx, c.sid, fid)
			if !ok {
				return bad(protoErr(codeUnknownFile, "sendMessageToAgent: file %q was not uploaded in this session", fid))
			}
			files = append(files, f)
		}
		id, err := s.SendMessage(ctx, msg, files)
		return opResult{map[string]string{"messageID": id}, err}
	case opUserTyping:
		var a typingArgs
		if e := req.args(&a); e != nil {
			return bad(e)
		}
		if a.IsTyping == nil {
			return bad(protoErr(codeBadArgs, "userTyping: isTyping is required"))
		}
		typing := *a.IsTyping
		return opResult{err: c.g.coalesced(ctx, c.sid, req.Op, func(ctx context.Context) error { return s.UserTyping(ctx, typing) })}
	case opUserReadMessages:
		return opResult{err: c.g.coalesced(ctx, c.sid, req.Op, s.UserRead)}
	case opFilesSelectedForUpload:
		var a filesArgs
		if e := req.args(&a); e != nil {
			return bad(e)
		}
		ups := make([]servicedesk.FileUpload, 0, len(a.Uploads))
		for _, u := range a.Uploads {
			if u.ID == "" || len(u.ID) > 128 {
				return bad(protoErr(codeBadArgs, "filesSelectedForUpload: each upload needs an id of 1 to 128 bytes"))
			}
			ups = append(ups, servicedesk.FileUpload{ID: u.ID, Status: servicedesk.FileEdit,
				File: servicedesk.File{Name: u.File.Name, Size: u.File.Size, Type: u.File.Type}})
		}
		return opResult{err: s.SelectFiles(ctx, ups)}
	case opScreenShareStop:
		return opResult{err: s.StopScreenShare(ctx)}
	case opScreenShareAnswer:
		var a shareAnswerArgs
		if e := req.args(&a); e != nil {
			return bad(e)
		}
		switch servicedesk.ScreenShareState(a.State) {
		case servicedesk.ScreenShareAccepted:
			return opResult{err: s.AnswerScreenShare(ctx, true)}
		case servicedesk.ScreenShareDeclined:
			return opResult{err: s.AnswerScreenShare(ctx, false)}
		case servicedesk.ScreenShareCancelled:
			return opResult{err: s.CancelScreenShare(ctx)}
		}
		return bad(protoErr(codeBadArgs, "screenShareAnswer: state %q: want accepted, declined or cancelled", a.State))
	case opEndChat:
		var a endArgs
		if e := req.args(&a); e != nil {
			return bad(e)
		}
		// A desk-mode client is Carbon, which has ended the chat on screen
		// before it calls endChat: the server's pre-end hook cannot keep it.
		err := s.EndChat(ctx, flow.EndOptions{Payload: a.Info.PreEndChatPayload,
			EndedByAgent: a.Info.EndedByHumanAgent, Committed: c.mode == modeDesk})
		if errors.Is(err, flow.ErrNoChat) {
			// Carbon's endChat must be idempotent (it calls it again after
			// agentEndedChat).
			return opResult{v: map[string]bool{"ended": false}}
		}
		return opResult{map[string]bool{"ended": err == nil}, err}
	case opReconnect:
		return c.reconnect(ctx)
	}
	return bad(protoErr(codeUnknownOp, "unknown op %q", req.Op))
}

// reconnect answers Carbon's reconnect: true while an agent chat is on.
// A chat the engine is itself re-attaching (after a restart) is waited
// for: every change of state is an event, so the next event is when to
// look again.
func (c *conn) reconnect(ctx context.Context) opResult {
	sub := c.sess.Subscribe(c.sess.LastSeq())
	defer func() { sub.Close() }()
	for {
		snap, err := c.sess.Snapshot(ctx)
		if err != nil {
			return opResult{err: err}
		}
		switch snap.State {
		case flow.StateReconnecting, flow.StateStarting:
			if _, err := sub.Next(ctx); err != nil {
				if ctx.Err() != nil {
					return opResult{err: fmt.Errorf("gateway: session %s: reconnect: %w", c.sid, errDeadline)}
				}
				if errors.Is(err, flow.ErrEventsTrimmed) {
					sub.Close()
					sub = c.sess.Subscribe(c.sess.LastSeq())
					continue
				}
				return opResult{err: err}
			}
		case flow.StateConnected, flow.StateAgentLeft, flow.StateTransferring, flow.StateDisconnected:
			return opResult{v: map[string]any{"reconnected": true, "state": snap.State, "profile": snap.Profile, "last_seq": snap.LastSeq}}
		default:
			return opResult{v: map[string]any{"reconnected": false, "state": snap.State, "last_seq": snap.LastSeq}}
		}
	}
}

// connectArgsOf reads the arguments of areAnyAgentsOnline and startChat.
func connectArgsOf(req request) (connectArgs, servicedesk.MessageResponse, *errFrame) {
	var a connectArgs
	if e := req.args(&a); e != nil {
		return a, servicedesk.MessageResponse{}, e
	}
	msg, e := decodeResponse(a.ConnectMessage)
	return a, msg, e
}

// decodeResponse reads the bot's MessageResponse that holds the
// connect_to_agent item.
func decodeResponse(raw json.RawMessage) (servicedesk.MessageResponse, *errFrame) {
	var m servicedesk.MessageResponse
	if len(raw) == 0 || string(raw) == "null" {
		return m, nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, protoErr(codeBadArgs, "connectMessage: %s", jsonProblem(err))
	}
	return m, nil
}
