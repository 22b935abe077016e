package mockdesk

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// faceStream starts a vendor face's stream of a chat's events after seq
// from.
type faceStream struct {
	c    *chat
	from uint64
}

// streamFace is the writer of a vendor face's WebSocket: it writes the
// raw frames queued on s.out (answers) and, once start delivers a stream,
// the chat's events as render turns them into frames, with the WS faults
// (latency, drops, duplicated frames), pings, and a close on shutdown.
// Callers of render hold d.mu.
func (d *Desk) streamFace(s *wsConn, start <-chan faceStream, render func(c *chat, e deskproto.Event) [][]byte) {
	defer close(s.done)
	defer s.stop()
	ping := time.NewTicker(time.Duration(d.opts.PingInterval))
	defer ping.Stop()
	var c *chat
	var sent uint64
	for {
		var changed <-chan struct{}
		if c != nil {
			d.mu.Lock()
			pending := append([]deskproto.Event(nil), c.events[sent:]...)
			var frames [][]byte
			for _, e := range pending {
				frames = append(frames, render(c, e)...)
			}
			changed = c.changed
			d.mu.Unlock()
			for _, fr := range frames {
				if !s.write(fr) {
					return
				}
				if d.faults.hit("ws", FaultWSDuplicate, d.faults.config().WS.DuplicateRate) && !s.write(fr) {
					return
				}
			}
			if len(pending) > 0 {
				sent = pending[len(pending)-1].Seq
			}
		}
		select {
		case fr := <-s.out:
			if !s.write(fr.frame.Event) {
				return
			}
		case st := <-start:
			c, sent, start = st.c, st.from, nil
		case <-changed:
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

// rawFrame queues an encoded frame for a face's writer.
func rawFrame(b []byte) outFrame { return outFrame{frame: ServerFrame{Type: "raw", Event: b}} }

// agentDirectory is what a directory outside a vendor's desk knows of its
// agents: their whole profiles, by the key the vendor shows customers.
type agentDirectory struct {
	mu sync.Mutex
	m  map[string]servicedesk.AgentProfile
}

func (a *agentDirectory) remember(key string, p servicedesk.AgentProfile) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]servicedesk.AgentProfile{}
	}
	a.m[key] = p
}

func (a *agentDirectory) lookup(key string) (servicedesk.AgentProfile, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.m[key]
	return p, ok
}
