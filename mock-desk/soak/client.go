package soak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Client is one browser tab: it speaks the gateway protocol as
// /deskbridge.js does (hello with its token and last seq, events deduped by
// seq, a socket closed on a seq gap or a heartbeat ahead of it, reconnects
// with backoff) and, once an agent is there, sends messages one at a time,
// each with a unique messageID, waiting for its result and its echo. A
// message whose result it did not get is resent with the same messageID.
type Client struct {
	Name string
	url  string // ws://lb/ws
	cfg  ClientConfig
	// think is the mean pause before each new message.
	think time.Duration

	// ctl takes the fault injector's orders; the loop acts on them.
	ctl chan ctlOrder

	mu sync.Mutex
	// The session, as the tab keeps it.
	token     string
	sessionID string // the session the tokens name
	lastSeq   uint64
	// What the checker compares.
	sent  []string // messageIDs in the order first sent
	acked []string // messageIDs with a result, in the order first sent
	agent []AgentMsg
	trips []roundTrip
	anoms map[string]int
	// retries counts answers to retry (rate_limited, unavailable, …).
	retries map[string]int
	notes   []string // the first few anomalies, with their details
	phase   string
	welcAt  time.Time
	// Counters.
	reconnects, resends, sockets, midDrops int
}

// ClientConfig are the knobs of every client.
type ClientConfig struct {
	// EchoTimeout: a message whose echo does not come by then is given up
	// (the checker will say whether it or its echo was lost).
	EchoTimeout time.Duration
	// CallTimeout: an op unanswered by then closes the socket (the server
	// answers `unavailable` after 30 s while its store is away).
	CallTimeout time.Duration
	MaxBackoff  time.Duration
}

// AgentMsg is an agent message as the browser got it.
type AgentMsg struct {
	Seq  uint64 `json:"seq"`
	ID   string `json:"id"`
	Text string `json:"text"`
}

type roundTrip struct {
	firstSent, done time.Time
}

type ctlOrder int

const (
	orderDrop        ctlOrder = iota + 1 // close the socket abruptly
	orderDropMidSend                     // close it right after the next send frame
)

// errStop ends a client's run; the others make it reconnect.
var errStop = errors.New("stop")

func newClient(name, lbAddr string, cfg ClientConfig) *Client {
	return &Client{Name: name, url: "ws://" + lbAddr + "/ws", cfg: cfg, ctl: make(chan ctlOrder, 4), anoms: map[string]int{}, retries: map[string]int{}, phase: "new"}
}

func (c *Client) anomaly(kind, format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.anoms[kind]++
	if len(c.notes) < 5 {
		c.notes = append(c.notes, fmt.Sprintf("%s %s: %s: %s", time.Now().Format("15:04:05.000"), c.Name, kind, fmt.Sprintf(format, args...)))
	}
}

// retried counts an answer the protocol says to retry.
func (c *Client) retried(kind string) {
	c.mu.Lock()
	c.retries[kind]++
	c.mu.Unlock()
}

func (c *Client) setPhase(p string) { c.mu.Lock(); c.phase = p; c.mu.Unlock() }

// Phase is where the client is: new, connecting, starting, waiting_agent,
// chatting, stopped.
func (c *Client) Phase() string { c.mu.Lock(); defer c.mu.Unlock(); return c.phase }

// Order asks the client to drop its socket (mid-send: right after it next
// writes a message). It never blocks: a client with orders pending skips it.
func (c *Client) order(o ctlOrder) bool {
	select {
	case c.ctl <- o:
		return true
	default:
		return false
	}
}

// recoveredAfter returns when the first message first sent at or after t0
// completed its round trip (result and echo).
func (c *Client) recoveredAfter(t0 time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rt := range c.trips {
		if !rt.firstSent.Before(t0) {
			return rt.done, true
		}
	}
	return time.Time{}, false
}

// frame is any frame from the gateway; only what the client uses.
type frame struct {
	Type    string          `json:"type"`
	Re      string          `json:"re"`
	Seq     uint64          `json:"seq"`
	LastSeq uint64          `json:"last_seq"`
	Token   string          `json:"token"`
	Session string          `json:"session"`
	Reset   bool            `json:"reset"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code         string `json:"code"`
		Message      string `json:"message"`
		RetryAfterMs int    `json:"retry_after_ms"`
	} `json:"error"`
	Snapshot *struct {
		State string `json:"state"`
	} `json:"snapshot"`
	Event *struct {
		Type      string `json:"type"`
		MessageID string `json:"message_id"`
		Message   *struct {
			ID     string `json:"id"`
			Output struct {
				Generic []struct {
					Text string `json:"text"`
				} `json:"generic"`
			} `json:"output"`
		} `json:"message"`
		Text string `json:"text"`
	} `json:"event"`
}

// socket is one WebSocket to the gateway and its reader.
type socket struct {
	ws     *websocket.Conn
	frames chan frame
	err    error // why the reader ended, once frames is closed
}

func (s *socket) read() {
	defer close(s.frames)
	for {
		// A silent socket is dead: 2.5 heartbeats (20 s).
		_ = s.ws.SetReadDeadline(time.Now().Add(50 * time.Second))
		_, b, err := s.ws.ReadMessage()
		if err != nil {
			s.err = err
			return
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			s.err = fmt.Errorf("bad frame %q: %w", b, err)
			return
		}
		s.frames <- f
	}
}

// cut closes the socket without a close frame, as a lost network does.
func (s *socket) cut() { _ = s.ws.NetConn().Close() }

func (s *socket) send(v any) error {
	_ = s.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return s.ws.WriteJSON(v)
}

// run is the client's life: sockets one after another until stop is closed
// and the message in flight has completed, or ctx ends.
func (c *Client) run(ctx context.Context, stop <-chan struct{}, n *counters) {
	st := &chatState{stop: stop, n: n}
	failures := 0
	for ctx.Err() == nil {
		c.setPhase("connecting")
		s, err := c.dial(ctx, st)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// Backoff as /deskbridge.js: half the base plus a random half.
			base := min(c.cfg.MaxBackoff, 500*time.Millisecond<<min(failures, 6))
			failures++
			sleepCtx(ctx, base/2+rand.N(base/2+1))
			continue
		}
		failures = 0
		err = c.session(ctx, s, st)
		s.cut()
		for range s.frames { // let the reader end
		}
		if errors.Is(err, errStop) {
			break
		}
		c.mu.Lock()
		c.reconnects++
		c.mu.Unlock()
	}
	c.setPhase("stopped")
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// dial opens a socket and says hello; it returns once welcomed.
func (c *Client) dial(ctx context.Context, st *chatState) (*socket, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.DialContext(ctx, c.url, http.Header{})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusServiceUnavailable {
			c.anomaly("handshake_"+resp.Status, "%v", err)
		}
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	s := &socket{ws: ws, frames: make(chan frame, 256)}
	go s.read()
	c.mu.Lock()
	hello := map[string]any{"op": "hello", "id": "h", "mode": "desk", "last_seq": c.lastSeq}
	if c.token != "" {
		hello["token"] = c.token
	}
	c.sockets++
	c.mu.Unlock()
	fail := func(err error) (*socket, error) {
		s.cut()
		for range s.frames {
		}
		return nil, err
	}
	if err := s.send(hello); err != nil {
		return fail(err)
	}
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-t.C:
			return fail(errors.New("no welcome in 15s"))
		case f, ok := <-s.frames:
			if !ok {
				return fail(fmt.Errorf("closed before welcome: %w", s.err))
			}
			if f.Re != "h" {
				continue
			}
			if f.Type != "welcome" {
				code := "?"
				if f.Error != nil {
					code = f.Error.Code
				}
				switch code {
				case "too_many_connections", "shutting_down", "unavailable":
					// The protocol's "reconnect later": counted, not odd.
					c.retried("hello_" + code)
				default:
					c.anomaly("hello_"+code, "hello answered %+v", f.Error)
				}
				return fail(fmt.Errorf("hello answered %s", code))
			}
			c.mu.Lock()
			if f.Reset {
				// The server lost the session: everything after seq 0
				// comes again. A persistent store must never do this.
				c.mu.Unlock()
				c.anomaly("session_reset", "welcome reset at last_seq %d", c.lastSeq)
				c.mu.Lock()
				c.lastSeq = 0
			}
			// Every welcome brings a fresh token (tokens expire); the
			// session it names must be the same.
			if c.sessionID != "" && f.Session != c.sessionID {
				c.mu.Unlock()
				c.anomaly("new_session", "the token was not taken: a new session")
				c.mu.Lock()
			}
			c.token, c.sessionID = f.Token, f.Session
			c.welcAt = time.Now()
			c.mu.Unlock()
			if f.Snapshot != nil {
				switch f.Snapshot.State {
				case "waiting", "starting":
					st.started = true
				case "connected", "disconnected", "reconnecting", "transferring", "agent_left":
					st.started, st.joined = true, true
				}
			}
			return s, nil
		}
	}
}

// chatState is where the client's chat is; it lives across sockets.
type chatState struct {
	stop    <-chan struct{}
	n       *counters
	started bool
	joined  bool
	// The message in flight: sent (maybe not acknowledged), echo awaited.
	cur       string
	curFirst  time.Time
	curAcked  bool
	curEchoed bool
	tripped   bool // its round trip is counted
	// thinkUntil: no new message before then.
	thinkUntil time.Time
	ackedAt    time.Time
	next       int
	callID     int
}

// counters are the run's totals, shared by every client.
type counters struct {
	acked, echoed atomic.Int64
}

// session drives one socket until it fails (reconnect) or the client stops.
func (c *Client) session(ctx context.Context, s *socket, st *chatState) error {
	var (
		waitID   string // the op whose answer is awaited
		waitOp   string
		deadline <-chan time.Time
		retry    <-chan time.Time
		echoWait <-chan time.Time
		midDrop  bool
	)
	call := func(op string, args any) error {
		st.callID++
		waitID, waitOp = fmt.Sprintf("%s%d", op[:1], st.callID), op
		t := time.NewTimer(c.cfg.CallTimeout)
		deadline = t.C
		return s.send(map[string]any{"op": op, "id": waitID, "args": args})
	}
	// act sends what comes next, if nothing is awaited.
	act := func() error {
		if waitID != "" || retry != nil {
			return nil
		}
		switch {
		case !st.started:
			c.setPhase("starting")
			return call("startChat", map[string]any{"connectMessage": map[string]any{"output": map[string]any{"generic": []any{
				map[string]any{"response_type": "connect_to_agent", "transfer_info": map[string]any{
					"summary_message_to_agent": []any{map[string]any{"response_type": "text", "text": "soak " + c.Name}}}}}}}})
		case !st.joined:
			c.setPhase("waiting_agent")
			return nil
		}
		c.setPhase("chatting")
		if st.cur != "" && st.curAcked && !st.curEchoed {
			if time.Since(st.ackedAt) < c.cfg.EchoTimeout {
				if echoWait == nil {
					echoWait = time.After(time.Until(st.ackedAt.Add(c.cfg.EchoTimeout)) + time.Millisecond)
				}
				return nil
			}
			c.anomaly("echo_timeout", "no echo of %s %v after its result", st.cur, c.cfg.EchoTimeout)
			st.cur = ""
		}
		if st.cur == "" || (st.curAcked && st.curEchoed) {
			select {
			case <-st.stop:
				return errStop
			default:
			}
			if c.think > 0 {
				if st.thinkUntil.IsZero() {
					st.thinkUntil = time.Now().Add(rand.N(2*c.think + 1))
				}
				if wait := time.Until(st.thinkUntil); wait > 0 {
					retry = time.After(wait)
					return nil
				}
				st.thinkUntil = time.Time{}
			}
			st.next++
			st.cur, st.curFirst = fmt.Sprintf("%s-m%05d", c.Name, st.next), time.Now()
			st.curAcked, st.curEchoed, st.tripped = false, false, false
			echoWait = nil
			c.mu.Lock()
			c.sent = append(c.sent, st.cur)
			c.mu.Unlock()
		} else if !st.curAcked {
			c.mu.Lock()
			c.resends++
			c.mu.Unlock()
		}
		if st.curAcked {
			return nil
		}
		err := call("sendMessageToAgent", map[string]any{"messageID": st.cur, "message": map[string]any{"input": map[string]any{"message_type": "text", "text": st.cur}}})
		if err == nil && midDrop {
			// The reconnect mid-send: the frame is out, its result will
			// never be read on this socket.
			c.mu.Lock()
			c.midDrops++
			c.mu.Unlock()
			return errors.New("dropped mid-send")
		}
		return err
	}
	done := func() {
		if st.curAcked && st.curEchoed && st.cur != "" && !st.tripped {
			st.tripped = true
			c.mu.Lock()
			c.trips = append(c.trips, roundTrip{firstSent: st.curFirst, done: time.Now()})
			c.mu.Unlock()
		}
	}
	for {
		if err := act(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return errStop
		case o := <-c.ctl:
			switch o {
			case orderDrop:
				return errors.New("dropped by the fault injector")
			case orderDropMidSend:
				midDrop = true
			}
		case <-deadline:
			c.anomaly("call_timeout", "%s %s unanswered after %v", waitOp, waitID, c.cfg.CallTimeout)
			return errors.New("call timeout")
		case <-retry:
			retry = nil
		case <-echoWait:
			echoWait = nil
		case f, ok := <-s.frames:
			if !ok {
				return fmt.Errorf("socket closed: %w", s.err)
			}
			switch f.Type {
			case "heartbeat":
				c.mu.Lock()
				behind := f.LastSeq > c.lastSeq
				c.mu.Unlock()
				if behind {
					return errors.New("heartbeat ahead: missed events")
				}
			case "event":
				if err := c.event(f, st); err != nil {
					return err
				}
				done()
			case "result", "error":
				if f.Re != waitID {
					continue
				}
				op := waitOp
				waitID, deadline = "", nil
				if f.Type == "result" {
					if op == "startChat" {
						st.started = true
					} else {
						if !st.curAcked {
							st.curAcked, st.ackedAt = true, time.Now()
							c.mu.Lock()
							c.acked = append(c.acked, st.cur)
							c.mu.Unlock()
							st.n.acked.Add(1)
						}
						done()
					}
					continue
				}
				code := f.Error.Code
				switch {
				case op == "startChat" && code == "chat_running":
					st.started = true
				case code == "rate_limited" || code == "unavailable" || code == "shutting_down":
					c.retried(op + "_" + code)
					wait := time.Duration(f.Error.RetryAfterMs) * time.Millisecond
					if wait <= 0 {
						wait = 500 * time.Millisecond
					}
					retry = time.After(wait)
				default:
					c.anomaly("error_"+op+"_"+code, "%s", f.Error.Message)
					retry = time.After(time.Second)
				}
			}
		}
	}
}

// event takes one event frame: duplicates (seq seen) are dropped, a gap
// closes the socket to resume from the last seq, as /deskbridge.js does.
func (c *Client) event(f frame, st *chatState) error {
	c.mu.Lock()
	last := c.lastSeq
	if f.Seq <= last {
		c.mu.Unlock()
		return nil
	}
	if f.Seq != last+1 {
		c.mu.Unlock()
		c.anomaly("seq_gap", "event seq %d after %d", f.Seq, last)
		return errors.New("seq gap")
	}
	c.lastSeq = f.Seq
	c.mu.Unlock()
	if f.Event == nil {
		return nil
	}
	switch f.Event.Type {
	case "agent_joined":
		st.joined = true
	case "chat_ended":
		// An agent chat ended that nobody asked to end: start another.
		c.anomaly("chat_ended", "seq %d: %s", f.Seq, f.Event.Text)
		st.started, st.joined = false, false
	case "agent_message":
		m := AgentMsg{Seq: f.Seq, ID: f.Event.MessageID}
		if f.Event.Message != nil {
			var parts []string
			for _, g := range f.Event.Message.Output.Generic {
				parts = append(parts, g.Text)
			}
			m.Text = strings.Join(parts, " ")
			if m.ID == "" {
				m.ID = f.Event.Message.ID
			}
		}
		c.mu.Lock()
		c.agent = append(c.agent, m)
		c.mu.Unlock()
		if st.cur != "" && m.Text == "echo: "+st.cur && !st.curEchoed {
			st.curEchoed = true
			st.n.echoed.Add(1)
		}
	}
	return nil
}
