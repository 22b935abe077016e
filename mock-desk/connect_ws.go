package mockdesk

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
)

// websocket is the participant's WebSocket: subscribe, heartbeats, and the
// chat's items as aws/chat frames.
func (f *ConnectFace) websocket(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	g, ok := f.grants[r.URL.Query().Get("AuthToken")]
	if ok {
		delete(f.grants, r.URL.Query().Get("AuthToken"))
	}
	f.mu.Unlock()
	if !ok || time.Now().After(g.expiry) {
		connectError(w, http.StatusForbidden, "AccessDeniedException", "The WebSocket URL is not valid or has expired.")
		return
	}
	if err := f.reachable(g.p); err != nil {
		connectErrorOf(w, err)
		return
	}
	if !f.d.injectHTTP(w, r, SiteWSHandshake) {
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s := &wsConn{d: f.d, conn: conn, out: make(chan outFrame, 64), done: make(chan struct{}), faults: f.d.FrameFaults()}
	d := f.d
	d.mu.Lock()
	c := d.chats[g.p.chatID]
	if d.closed || c == nil {
		d.mu.Unlock()
		_ = conn.Close()
		return
	}
	// Connect replays nothing: a reconnection starts at the present.
	from := c.seq
	f.mu.Lock()
	if !g.p.connected {
		from = 0
		g.p.connected = true
	}
	f.mu.Unlock()
	d.conns[conn] = struct{}{}
	c.conns[s] = struct{}{}
	start := make(chan faceStream, 1)
	d.goLocked(func() { d.streamFace(s, start, f.frames) })
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.conns, conn)
		delete(c.conns, s)
		d.mu.Unlock()
		s.stop()
	}()
	ping := time.Duration(d.opts.PingInterval)
	once := sync.Once{}
	subscribe := func() { start <- faceStream{c, from} }
	for {
		_ = conn.SetReadDeadline(time.Now().Add(2 * ping))
		_, b, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var fr struct {
			Topic   string `json:"topic"`
			Content struct {
				Topics []string `json:"topics"`
			} `json:"content"`
		}
		if json.Unmarshal(b, &fr) != nil {
			continue
		}
		switch fr.Topic {
		case "aws/subscribe":
			s.send(rawFrame([]byte(`{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}`)))
			once.Do(subscribe)
		case "aws/heartbeat":
			s.send(rawFrame([]byte(`{"topic":"aws/heartbeat"}`)))
		}
	}
}

// frames renders one event as aws/chat frames: each item, stringified, as
// the content.
func (f *ConnectFace) frames(c *chat, e deskproto.Event) [][]byte {
	var out [][]byte
	for _, it := range f.items(c, e) {
		inner, _ := json.Marshal(it)
		fr, _ := json.Marshal(map[string]string{"topic": "aws/chat", "contentType": "application/json", "content": string(inner)})
		out = append(out, fr)
	}
	return out
}
