package chatwootface

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

var upgrader = websocket.Upgrader{Subprotocols: []string{"actioncable-v1-json"}, CheckOrigin: func(*http.Request) bool { return true }}

const writeWait = 10 * time.Second

// cable is one ActionCable connection of a contact: a writer goroutine
// (frames with the desk's faults, pings), the handler reading commands.
type cable struct {
	f      *Face
	conn   *websocket.Conn
	ff     *mockdesk.FrameFaults
	out    chan frame
	ctx    context.Context
	cancel context.CancelFunc
	ident  string
	// confirmed opens once the subscription's confirmation is queued:
	// events wait for it, as ActionCable confirms a subscription only once
	// its streams are in place and sends nothing of them before.
	confirmed chan struct{}
	confirm   sync.Once
	opened    time.Time // a drop since cuts the cable, whenever it subscribes

	mu      sync.Mutex
	contact *contact
	follows map[int64]bool
}

type frame struct {
	b     []byte
	event bool
}

// cable serves /cable: the handshake's faults, then welcome, subscribe,
// confirm or reject, pings, and the contact's events.
func (f *Face) cable(w http.ResponseWriter, r *http.Request) {
	if err := f.d.RequestFault(r.Context(), mockdesk.SiteWSHandshake); err != nil {
		var fe *mockdesk.FaultError
		status := http.StatusServiceUnavailable
		if errors.As(err, &fe) {
			w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
			if errors.Is(err, mockdesk.ErrRateLimited) {
				status = http.StatusTooManyRequests
			}
		}
		http.Error(w, err.Error(), status)
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cb := &cable{f: f, conn: conn, ff: f.d.FrameFaults(), out: make(chan frame, 256), ctx: ctx, cancel: cancel, follows: map[int64]bool{},
		confirmed: make(chan struct{}), opened: time.Now()}
	defer cb.close()
	if !f.d.Go(cb.writeLoop) {
		return
	}
	cb.send(map[string]any{"type": "welcome"}, false)
	conn.SetReadLimit(f.d.Options().MaxBodyBytes)
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var cmd struct {
			Command    string `json:"command"`
			Identifier string `json:"identifier"`
		}
		if json.Unmarshal(b, &cmd) != nil || cmd.Command != "subscribe" {
			continue
		}
		var id struct {
			Channel     string `json:"channel"`
			PubsubToken string `json:"pubsub_token"`
		}
		_ = json.Unmarshal([]byte(cmd.Identifier), &id)
		f.mu.Lock()
		ct := f.byToken[id.PubsubToken]
		f.mu.Unlock()
		if id.Channel != "RoomChannel" || ct == nil {
			cb.send(map[string]any{"type": "reject_subscription", "identifier": cmd.Identifier}, false)
			continue
		}
		cb.subscribe(ct, cmd.Identifier)
	}
}

// subscribe follows the contact's conversations from now (the cable
// replays nothing), then confirms: whatever happens after the client
// learns it is subscribed reaches it.
func (cb *cable) subscribe(ct *contact, ident string) {
	cb.mu.Lock()
	cb.contact, cb.ident = ct, ident
	cb.mu.Unlock()
	cb.f.mu.Lock()
	ct.cables[cb] = struct{}{}
	convs := append([]*conversation(nil), ct.convs...)
	cb.f.mu.Unlock()
	for _, c := range convs {
		if !cb.follow(c, mockdesk.Latest) {
			return
		}
	}
	cb.send(map[string]any{"type": "confirm_subscription", "identifier": ident}, false)
	cb.confirm.Do(func() { close(cb.confirmed) })
}

// follow pushes a conversation's events after seq after, once the
// subscription is confirmed. It reports false when the connection was
// dropped instead (the chat cut off).
func (cb *cable) follow(c *conversation, after uint64) bool {
	cb.f.mu.Lock()
	chat := c.chat
	cb.f.mu.Unlock()
	cb.mu.Lock()
	if chat == nil || cb.follows[c.id] {
		cb.mu.Unlock()
		return true
	}
	cb.follows[c.id] = true
	cb.mu.Unlock()
	// A chat the desk cuts off now cannot be followed: the connection goes
	// the way of a network failure, and the client comes again.
	info, err := chat.Info(cb.ctx)
	if err != nil {
		cb.drop()
		return false
	}
	fl, err := chat.FollowSince(cb.ctx, after, cb.opened)
	if err != nil {
		cb.drop()
		return false
	}
	agent := info.Agent
	if after == 0 {
		agent = nil
	}
	r := newRenderer(cb.f, c, agent)
	cb.f.d.Go(func(context.Context) {
		select {
		case <-cb.confirmed:
		case <-cb.ctx.Done():
			return
		}
		for {
			evs, err := fl.Next(cb.ctx)
			if err != nil {
				if errors.Is(err, mockdesk.ErrUnavailable) {
					cb.drop()
				}
				return
			}
			for _, e := range evs {
				for _, ev := range r.events(e) {
					cb.event(ev[0].(string), ev[1])
				}
			}
		}
	})
	return true
}

// event sends one RoomChannel message of the subscription.
func (cb *cable) event(name string, data any) {
	cb.mu.Lock()
	ident := cb.ident
	cb.mu.Unlock()
	cb.send(map[string]any{"identifier": ident, "message": map[string]any{"event": name, "data": data}}, true)
}

func (cb *cable) send(v any, event bool) {
	b, _ := json.Marshal(v)
	select {
	case cb.out <- frame{b: b, event: event}:
	case <-cb.ctx.Done():
	}
}

func (cb *cable) writeLoop(desk context.Context) {
	defer cb.close()
	ping := time.NewTicker(time.Duration(cb.f.d.Options().PingInterval))
	defer ping.Stop()
	write := func(b []byte) bool { return facekit.WriteFrame(cb.ctx, cb.ff, cb.conn, b) }
	for {
		select {
		case fr := <-cb.out:
			if !write(fr.b) || (fr.event && cb.ff.Duplicate() && !write(fr.b)) {
				return
			}
		case <-ping.C:
			b, _ := json.Marshal(map[string]any{"type": "ping", "message": time.Now().Unix()})
			_ = cb.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if cb.conn.WriteMessage(websocket.TextMessage, b) != nil {
				return
			}
		case <-cb.ctx.Done():
			return
		case <-desk.Done():
			_ = cb.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "desk closed"), time.Now().Add(time.Second))
			return
		}
	}
}

// drop cuts the connection without a close frame.
func (cb *cable) drop() { _ = cb.conn.NetConn().Close() }

func (cb *cable) close() {
	cb.cancel()
	_ = cb.conn.Close()
	cb.mu.Lock()
	ct := cb.contact
	cb.mu.Unlock()
	if ct != nil {
		cb.f.mu.Lock()
		delete(ct.cables, cb)
		cb.f.mu.Unlock()
	}
}
