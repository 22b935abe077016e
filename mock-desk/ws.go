package mockdesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/deskproto"
)

// clientMsg is a decoded client frame, with its start request parsed.
type clientMsg struct {
	deskproto.ClientFrame
	start deskproto.StartRequest
}

func decodeClientFrame(b []byte) (clientMsg, error) {
	fr, err := decodeJSON[deskproto.ClientFrame](b)
	f := clientMsg{ClientFrame: fr}
	if err != nil {
		return f, err
	}
	bad := func(what string) (clientMsg, error) {
		return f, fmt.Errorf("%s frame: %s: %w", f.Type, what, ErrBadRequest)
	}
	switch f.Type {
	case "hello":
		if f.ChatID == "" || f.ChatToken == "" {
			return bad("needs chat_id and chat_token")
		}
	case "start":
		raw := f.Start
		if len(raw) == 0 {
			raw = []byte("{}")
		}
		if f.start, err = decodeStart(raw); err != nil {
			return f, err
		}
	case "message":
		if f.Message == nil {
			return bad("missing message")
		}
	case "typing":
		if f.Typing == nil {
			return bad("missing typing")
		}
	case "screen_share":
		if f.State == "" {
			return bad("missing state")
		}
	case "read", "end", "screen_share_stop", "availability", "ping":
	case "":
		return f, fmt.Errorf("frame without type: %w", ErrBadRequest)
	default:
		return bad("unknown type")
	}
	return f, nil
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	// CheckOrigin is gorilla's default: no Origin (a server-side client)
	// or the same host.
}

const wsWriteWait = 10 * time.Second

// wsConn is one customer WebSocket: the handler goroutine reads, one
// writer goroutine writes everything, in order.
type wsConn struct {
	d      *Desk
	conn   *websocket.Conn
	out    chan outFrame
	done   chan struct{} // closed when the writer stops
	quit   chan struct{} // closed by stop: the reader is gone
	once   sync.Once
	faults *FrameFaults

	// Attachment, read and written by the reader only.
	chatID, token string
}

type outFrame struct {
	frame deskproto.ServerFrame
	// attach, on a welcome, starts the event stream after seq from.
	attach *attachment
}

type attachment struct {
	chatID string
	from   uint64
}

func (d *Desk) handleWS(w http.ResponseWriter, r *http.Request) {
	if !d.injectHTTP(w, r, SiteWSHandshake) {
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	s := &wsConn{d: d, conn: conn, out: make(chan outFrame, 64), done: make(chan struct{}), faults: d.FrameFaults(), quit: make(chan struct{})}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "desk closed"), time.Now().Add(time.Second))
		_ = conn.Close()
		return
	}
	d.conns[conn] = struct{}{}
	d.goLocked(s.writeLoop)
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.conns, conn)
		if c := d.chats[s.chatID]; c != nil {
			delete(c.conns, s)
		}
		d.mu.Unlock()
		s.stop()
	}()
	s.readLoop()
}

func (s *wsConn) stop() {
	s.once.Do(func() {
		if s.quit != nil {
			close(s.quit)
		}
		_ = s.conn.Close()
	})
}

func (s *wsConn) readLoop() {
	d := s.d
	ping := time.Duration(d.opts.PingInterval)
	s.conn.SetReadLimit(d.opts.MaxBodyBytes)
	_ = s.conn.SetReadDeadline(time.Now().Add(2 * ping))
	s.conn.SetPongHandler(func(string) error {
		return s.conn.SetReadDeadline(time.Now().Add(2 * ping))
	})
	for {
		typ, b, err := s.conn.ReadMessage()
		if err != nil {
			return
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(2 * ping))
		if typ != websocket.TextMessage {
			s.send(outFrame{frame: errFrame("", fmt.Errorf("binary frame: %w", ErrBadRequest))})
			continue
		}
		f, err := decodeClientFrame(b)
		if err != nil {
			s.send(outFrame{frame: errFrame(f.RequestID, err)})
			continue
		}
		s.send(s.handle(f))
	}
}

// send queues a frame for the writer; false once the writer has stopped.
func (s *wsConn) send(f outFrame) bool {
	select {
	case s.out <- f:
		return true
	case <-s.done:
		return false
	}
}

func errFrame(reqID string, err error) deskproto.ServerFrame {
	eb := errorBody(err)
	return deskproto.ServerFrame{Type: "error", RequestID: reqID, Error: &eb.Error}
}

// handle runs one client frame and returns the answer.
func (s *wsConn) handle(f clientMsg) outFrame {
	d := s.d
	ctx := d.ctx
	ack := func(err error) outFrame {
		if err != nil {
			return outFrame{frame: errFrame(f.RequestID, err)}
		}
		return outFrame{frame: deskproto.ServerFrame{Type: "ack", RequestID: f.RequestID}}
	}
	switch f.Type {
	case "ping":
		return outFrame{frame: deskproto.ServerFrame{Type: "pong", RequestID: f.RequestID}}
	case "availability":
		a, err := d.Availability(ctx)
		if err != nil {
			return ack(err)
		}
		return outFrame{frame: deskproto.ServerFrame{Type: "availability", RequestID: f.RequestID, Availability: &a}}
	case "hello", "start":
		if s.chatID != "" {
			return ack(fmt.Errorf("this connection already follows chat %s: %w", s.chatID, ErrWrongState))
		}
		var token string
		var from uint64
		if f.Type == "start" {
			res, err := d.StartChat(ctx, f.start)
			if err != nil {
				return ack(err)
			}
			f.ChatID, token = res.ChatID, res.ChatToken
		} else {
			token, from = f.ChatToken, f.LastSeq
		}
		info, err := d.chatInfo(f.ChatID, token)
		if err != nil {
			return ack(err)
		}
		if from > info.LastSeq {
			return ack(fmt.Errorf("mockdesk: hello: last_seq %d of chat %s at %d: %w", from, f.ChatID, info.LastSeq, ErrBadCursor))
		}
		s.chatID, s.token = f.ChatID, token
		d.mu.Lock()
		d.chats[f.ChatID].conns[s] = struct{}{}
		d.mu.Unlock()
		fr := deskproto.ServerFrame{Type: "welcome", RequestID: f.RequestID, Chat: &info}
		if f.Type == "start" {
			fr.ChatToken = token
		}
		return outFrame{frame: fr, attach: &attachment{chatID: f.ChatID, from: from}}
	}
	if s.chatID == "" {
		return ack(fmt.Errorf("%s before hello or start: %w", f.Type, ErrUnauthorized))
	}
	if fr, ok := s.refuseAction(f); ok {
		return outFrame{frame: fr}
	}
	switch f.Type {
	case "message":
		res, err := d.sendMessage(ctx, s.chatID, s.token, f.IdempotencyKey, *f.Message, f.FileIDs)
		if err != nil {
			return ack(err)
		}
		return outFrame{frame: deskproto.ServerFrame{Type: "ack", RequestID: f.RequestID, Result: &res}}
	case "typing":
		return ack(d.customerTyping(ctx, s.chatID, s.token, *f.Typing))
	case "read":
		return ack(d.customerRead(ctx, s.chatID, s.token, f.MessageID))
	case "end":
		return ack(d.customerEnd(ctx, s.chatID, s.token))
	case "screen_share":
		return ack(d.screenShareAnswer(ctx, s.chatID, s.token, f.ScreenShareID, f.State))
	case "screen_share_stop":
		return ack(d.screenShareStop(ctx, s.chatID, s.token))
	}
	return ack(fmt.Errorf("frame %q: %w", f.Type, ErrBadRequest))
}

// refuseAction injects the action faults: an error frame instead of the
// work.
func (s *wsConn) refuseAction(f clientMsg) (deskproto.ServerFrame, bool) {
	var fe *FaultError
	if !errors.As(s.d.RequestFault(s.d.ctx, SiteWSAction), &fe) {
		return deskproto.ServerFrame{}, false
	}
	fr := errFrame(f.RequestID, fmt.Errorf("%s (injected): %w", f.Type, fe.code))
	fr.Error.RetryAfter = max(1, int(fe.RetryAfter.Round(time.Second)/time.Second))
	return fr, true
}

// writeLoop writes queued answers, the attached chat's events and pings.
func (s *wsConn) writeLoop() {
	d := s.d
	defer close(s.done)
	defer s.stop()
	ping := time.NewTicker(time.Duration(d.opts.PingInterval))
	defer ping.Stop()
	var chatID string
	var sent uint64
	for {
		var changed <-chan struct{}
		if chatID != "" {
			d.mu.RLock()
			c := d.chats[chatID]
			pending := c.events[sent:]
			changed = c.changed
			d.mu.RUnlock()
			for _, e := range s.disorder(pending) {
				if !s.write(append(append([]byte(`{"type":"event","event":`), eventJSON(e)...), '}')) {
					return
				}
				sent = max(sent, e.Seq)
			}
		}
		select {
		case f := <-s.out:
			if !s.write(mustJSON(f.frame)) {
				return
			}
			if f.attach != nil {
				chatID, sent = f.attach.chatID, f.attach.from
			}
		case <-changed:
		case <-s.quit:
			return
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
				return
			}
		case <-d.ctx.Done():
			_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "desk closed"), time.Now().Add(time.Second))
			return
		}
	}
}

// disorder injects duplicated and swapped event frames into a batch about
// to be written.
func (s *wsConn) disorder(evs []deskproto.Event) []deskproto.Event {
	cfg := s.d.faults.config().WS
	if cfg.DuplicateRate <= 0 && cfg.ReorderRate <= 0 {
		return evs
	}
	out := make([]deskproto.Event, 0, len(evs)+1)
	for _, e := range evs {
		out = append(out, e)
		if s.d.faults.hit("ws", FaultWSDuplicate, cfg.DuplicateRate) {
			out = append(out, e)
		}
	}
	if len(out) > 1 && s.d.faults.hit("ws", FaultWSReorder, cfg.ReorderRate) {
		i := len(out) - 2
		out[i], out[i+1] = out[i+1], out[i]
	}
	return out
}

// write sends one frame with the WS faults; false once the connection is
// gone (then closed abruptly: no close frame, as when a proxy or network
// drops it).
func (s *wsConn) write(b []byte) bool {
	err := s.faults.Write(context.Background(), b, func(b []byte) error {
		_ = s.conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
		return s.conn.WriteMessage(websocket.TextMessage, b)
	})
	if err != nil {
		_ = s.conn.NetConn().Close()
		return false
	}
	return true
}
