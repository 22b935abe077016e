package facekit

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/deskproto"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}

const writeWait = 10 * time.Second

// Socket is a face's WebSocket to its customer. The face's handler reads
// it (Read); one writer goroutine, which the desk's Close waits for,
// writes the queued answers (Send) and, once Stream starts it, the chat's
// events as the face renders them, with the desk's frame faults, pings,
// and a close frame when the desk closes. A drop of the chat
// (DropConnections) cuts the socket abruptly, as a network failure would.
type Socket struct {
	d      *mockdesk.Desk
	conn   *websocket.Conn
	faults *mockdesk.FrameFaults
	ping   time.Duration
	out    chan []byte
	start  chan stream
	done   chan struct{} // closed when the writer stops
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	began  sync.Once
	opened time.Time
}

type stream struct {
	batches <-chan []deskproto.Event
	render  func([]deskproto.Event) [][]byte
}

// Accept answers a WebSocket handshake: the desk's handshake faults first
// (429 or 503 with Retry-After), then the upgrade and the socket's writer.
// It reports false when it has answered the request otherwise.
func Accept(d *mockdesk.Desk, w http.ResponseWriter, r *http.Request) (*Socket, bool) {
	if err := d.RequestFault(r.Context(), mockdesk.SiteWSHandshake); err != nil {
		status := http.StatusServiceUnavailable
		var fe *mockdesk.FaultError
		if errors.As(err, &fe) {
			w.Header().Set("Retry-After", itoa(fe.RetryAfterSeconds()))
			if errors.Is(err, mockdesk.ErrRateLimited) {
				status = http.StatusTooManyRequests
			}
		}
		http.Error(w, err.Error(), status)
		return nil, false
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, false // the upgrader has answered
	}
	opts := d.Options()
	conn.SetReadLimit(opts.MaxBodyBytes)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Socket{d: d, conn: conn, faults: d.FrameFaults(), ping: time.Duration(opts.PingInterval),
		out: make(chan []byte, 64), start: make(chan stream), done: make(chan struct{}), ctx: ctx, cancel: cancel, opened: time.Now()}
	if !d.Go(s.writeLoop) {
		s.Close()
		return nil, false
	}
	return s, true
}

// Follow follows chat after seq after for this socket: a DropConnections
// of the chat since the socket opened (while it logged in, before it
// knew its chat) cuts it as surely as one that comes later.
func (s *Socket) Follow(ctx context.Context, chat *mockdesk.CustomerChat, after uint64) (*mockdesk.Follower, error) {
	return chat.FollowSince(ctx, after, s.opened)
}

// Read returns the next frame; the customer must send something (a
// heartbeat) within two ping intervals.
func (s *Socket) Read() ([]byte, error) {
	_ = s.conn.SetReadDeadline(time.Now().Add(2 * s.ping))
	_, b, err := s.conn.ReadMessage()
	return b, err
}

// Send queues a frame for the writer; false once the writer has stopped.
func (s *Socket) Send(frame []byte) bool {
	select {
	case s.out <- frame:
		return true
	case <-s.done:
		return false
	}
}

// Stream starts writing the events f reads, each batch as render turns it
// into frames (render runs on the writer). Only the first call counts.
func (s *Socket) Stream(f *mockdesk.Follower, render func([]deskproto.Event) [][]byte) {
	s.began.Do(func() {
		batches := make(chan []deskproto.Event)
		ok := s.d.Go(func(context.Context) {
			defer close(batches)
			for {
				evs, err := f.Next(s.ctx)
				if err != nil {
					if errors.Is(err, mockdesk.ErrUnavailable) {
						s.drop()
					}
					return
				}
				select {
				case batches <- evs:
				case <-s.ctx.Done():
					return
				}
			}
		})
		if !ok {
			return
		}
		select {
		case s.start <- stream{batches: batches, render: render}:
		case <-s.done:
		}
	})
}

// Close closes the socket and stops its goroutines. Safe to call more
// than once.
func (s *Socket) Close() {
	s.once.Do(func() {
		s.cancel()
		_ = s.conn.Close()
	})
}

// drop cuts the connection without a close frame.
func (s *Socket) drop() { _ = s.conn.NetConn().Close() }

func (s *Socket) writeLoop(desk context.Context) {
	defer close(s.done)
	defer s.Close()
	ping := time.NewTicker(s.ping)
	defer ping.Stop()
	var st stream
	for {
		select {
		case b := <-s.out:
			if !s.write(b) {
				return
			}
		case st = <-s.start:
		case evs, ok := <-st.batches:
			if !ok {
				st.batches = nil // the chat is over: answers only
				continue
			}
			for _, fr := range st.render(evs) {
				if !s.write(fr) || (s.faults.Duplicate() && !s.write(fr)) {
					return
				}
			}
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return
			}
		case <-s.ctx.Done():
			return
		case <-desk.Done():
			_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "desk closed"), time.Now().Add(time.Second))
			return
		}
	}
}

// write sends one frame with the desk's frame faults; false once the
// connection is gone (then cut abruptly).
func (s *Socket) write(b []byte) bool { return WriteFrame(s.ctx, s.faults, s.conn, b) }

// WriteFrame writes one text frame to conn with the connection's frame
// faults ff; false once the connection is gone, then cut abruptly (no
// close frame), as a network failure would. For faces that run a
// WebSocket of their own.
func WriteFrame(ctx context.Context, ff *mockdesk.FrameFaults, conn *websocket.Conn, b []byte) bool {
	err := ff.Write(ctx, b, func(b []byte) error {
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		return conn.WriteMessage(websocket.TextMessage, b)
	})
	if err != nil {
		_ = conn.NetConn().Close()
		return false
	}
	return true
}
