package mockdesk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// wsClient is a test customer on a WebSocket.
type wsClient struct {
	t       *testing.T
	conn    *websocket.Conn
	last    uint64 // seq of the last event read
	pending []deskproto.Event
}

func (h *harness) dialWS(t *testing.T) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/v1/ws"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &wsClient{t: t, conn: conn}
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	b, ok := v.([]byte)
	if !ok {
		b = mustJSON(v)
	}
	if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next server frame.
func (c *wsClient) read() (deskproto.ServerFrame, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := c.conn.ReadMessage()
	if err != nil {
		return deskproto.ServerFrame{}, err
	}
	var f deskproto.ServerFrame
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("bad server frame %s: %v", b, err)
	}
	return f, nil
}

// until reads frames until one of type typ (for "event", of event type
// evType) and returns the events read on the way, checking their order.
// Events read while waiting for another frame are kept for the next call.
func (c *wsClient) until(typ string, evType deskproto.EventType) (deskproto.ServerFrame, []deskproto.Event) {
	c.t.Helper()
	if typ == "event" {
		for i, e := range c.pending {
			if e.Type == evType {
				evs := c.pending[:i+1]
				c.pending = c.pending[i+1:]
				return deskproto.ServerFrame{Type: "event", Event: &e}, evs
			}
		}
	}
	for {
		f, err := c.read()
		if err != nil {
			c.t.Fatalf("waiting for %s %s: %v (events so far %v)", typ, evType, err, types(c.pending))
		}
		if f.Type == "event" {
			if f.Event == nil {
				c.t.Fatalf("event frame without an event")
			}
			e := *f.Event
			if e.Seq != c.last+1 {
				c.t.Fatalf("event seq %d after %d", e.Seq, c.last)
			}
			c.last = e.Seq
			c.pending = append(c.pending, e)
			if typ == "event" && e.Type == evType {
				evs := c.pending
				c.pending = nil
				return f, evs
			}
			continue
		}
		if f.Type == typ {
			return f, nil
		}
		if f.Type == "error" {
			c.t.Fatalf("waiting for %s: error frame %+v", typ, f.Error)
		}
	}
}

func TestWSFullChatAndResume(t *testing.T) {
	h := newHarness(t, Options{Agents: []AgentConfig{{Profile: ada, Online: true}, {Profile: grace, Online: true}}})
	ctx := ctxT(t)
	c := h.dialWS(t)

	c.send(deskproto.ClientFrame{Type: "availability", RequestID: "a"})
	if f, _ := c.until("availability", ""); !f.Availability.Online {
		t.Fatal("offline")
	}
	c.send(map[string]any{"type": "start", "request_id": "s", "start": deskproto.StartRequest{ConnectItem: connectItem("Card blocked.")}})
	w, _ := c.until("welcome", "")
	if w.ChatToken == "" || w.Chat.ChatID == "" || w.RequestID != "s" {
		t.Fatalf("welcome = %+v", w)
	}
	chat := deskproto.ChatInfo{ChatID: w.Chat.ChatID, ChatToken: w.ChatToken}
	c.until("event", deskproto.EventQueueUpdate)

	ac, _ := h.desk.AwaitChat(ctx)
	if ac.Summary() != "Card blocked." {
		t.Fatal(ac.Summary())
	}
	must(t, ac.Join(ctx, ada))
	c.until("event", deskproto.EventAgentJoined)

	c.send(deskproto.ClientFrame{Type: "message", RequestID: "m1", IdempotencyKey: "k1", Message: &servicedesk.MessageRequest{ID: "c1", Input: servicedesk.MessageInput{Text: "hi"}}})
	ack, _ := c.until("ack", "")
	if ack.RequestID != "m1" || ack.Result.MessageID == "" {
		t.Fatalf("ack = %+v", ack)
	}
	// A resend of the same key answers the same id.
	c.send(deskproto.ClientFrame{Type: "message", RequestID: "m1b", IdempotencyKey: "k1", Message: &servicedesk.MessageRequest{ID: "c1", Input: servicedesk.MessageInput{Text: "hi"}}})
	ack2, _ := c.until("ack", "")
	if ack2.Result.MessageID != ack.Result.MessageID || !ack2.Result.Replayed {
		t.Fatalf("replay ack = %+v", ack2.Result)
	}
	if m, _ := ac.AwaitCustomerMessage(ctx); m.ID != "c1" {
		t.Fatalf("message id %q", m.ID)
	}
	tr := true
	c.send(deskproto.ClientFrame{Type: "typing", RequestID: "t", Typing: &tr})
	c.until("ack", "")
	if on, _ := ac.AwaitCustomerTyping(ctx); !on {
		t.Fatal("typing not seen")
	}
	must(t, ac.Typing(ctx, true))
	c.until("event", deskproto.EventAgentTyping)
	mid, _ := ac.SayText(ctx, "Hello from **Ada**")
	c.until("event", deskproto.EventAgentMessage)
	c.send(deskproto.ClientFrame{Type: "read", RequestID: "r", MessageID: mid})
	c.until("ack", "")
	if id, _ := ac.AwaitCustomerRead(ctx); id != mid {
		t.Fatal(id)
	}
	must(t, ac.Read(ctx))
	c.until("event", deskproto.EventAgentRead)
	c.send(deskproto.ClientFrame{Type: "ping", RequestID: "p"})
	if p, _ := c.until("pong", ""); p.RequestID != "p" {
		t.Fatal(p)
	}

	// Drop the connection; the agent talks meanwhile; resume from the
	// last seq on a new socket gets exactly the missed events.
	seenUpTo := c.last
	_ = c.conn.Close()
	must(t, ac.Typing(ctx, false))
	_, _ = ac.SayText(ctx, "are you there?")
	go func() { _, _ = ac.RequestScreenShare(ctx) }()
	waitFor(t, func() bool { v, _ := h.desk.ChatView(chat.ChatID); return v.ScreenShare == "requested" })

	c2 := h.dialWS(t)
	c2.last = seenUpTo
	c2.send(deskproto.ClientFrame{Type: "hello", RequestID: "h", ChatID: chat.ChatID, ChatToken: chat.ChatToken, LastSeq: seenUpTo})
	c2.until("welcome", "")
	_, missed := c2.until("event", deskproto.EventScreenShareRequested)
	if got := strings.Join(types(missed), ","); got != "agent_typing,agent_message,screen_share_requested" {
		t.Fatalf("missed = %s", got)
	}
	c2.send(deskproto.ClientFrame{Type: "screen_share", RequestID: "ss", ScreenShareID: missed[2].ScreenShareID, State: servicedesk.ScreenShareDeclined})
	c2.until("ack", "")

	c2.send(deskproto.ClientFrame{Type: "end", RequestID: "e"})
	c2.until("ack", "")
	c2.until("event", deskproto.EventChatEnded)
	if by, _ := ac.AwaitEnded(ctx); by != EndedByCustomer {
		t.Fatal(by)
	}
	checkSeq(t, h.desk, chat.ChatID)
}

func TestWSBadInput(t *testing.T) {
	h := newHarness(t, Options{MaxBodyBytes: 2048})
	chat := h.start(deskproto.StartRequest{})
	other := h.start(deskproto.StartRequest{})
	c := h.dialWS(t)
	expectErr := func(frame any, code string) {
		t.Helper()
		c.send(frame)
		f, err := c.read()
		for err == nil && f.Type == "event" {
			f, err = c.read()
		}
		if err != nil || f.Type != "error" || f.Error.Code != code || f.Error.Message == "" {
			t.Fatalf("%v: got %+v %v, want error %s", frame, f, err, code)
		}
	}
	expectErr([]byte(`{"type":`), "bad_json")
	expectErr([]byte(`[1,2]`), "bad_json")
	expectErr([]byte(`{"type":"dance"}`), "bad_request")
	expectErr([]byte(`{}`), "bad_request")
	expectErr(deskproto.ClientFrame{Type: "message", Message: &servicedesk.MessageRequest{Input: servicedesk.MessageInput{Text: "x"}}}, "unauthorized")
	expectErr(deskproto.ClientFrame{Type: "hello", ChatID: chat.ChatID, ChatToken: other.ChatToken}, "unauthorized")
	expectErr(deskproto.ClientFrame{Type: "hello", ChatID: "ch_nope", ChatToken: "x"}, "chat_not_found")
	expectErr(deskproto.ClientFrame{Type: "hello", ChatID: chat.ChatID}, "bad_request")
	expectErr(deskproto.ClientFrame{Type: "hello", ChatID: chat.ChatID, ChatToken: chat.ChatToken, LastSeq: 99}, "bad_cursor")
	expectErr(map[string]any{"type": "start", "start": map[string]any{"connect_item": map[string]string{"response_type": "text"}}}, "bad_request")
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if f, _ := c.read(); f.Type != "error" {
		t.Fatal(f)
	}
	c.send(deskproto.ClientFrame{Type: "hello", ChatID: chat.ChatID, ChatToken: chat.ChatToken})
	c.until("welcome", "")
	expectErr(deskproto.ClientFrame{Type: "hello", ChatID: chat.ChatID, ChatToken: chat.ChatToken}, "wrong_state")
	expectErr(deskproto.ClientFrame{Type: "typing"}, "bad_request")
	expectErr(deskproto.ClientFrame{Type: "message"}, "bad_request")
	expectErr(deskproto.ClientFrame{Type: "message", Message: &servicedesk.MessageRequest{}}, "bad_request")
	expectErr(deskproto.ClientFrame{Type: "screen_share", State: "accepted"}, "no_screen_share")
	// A frame over the limit closes the connection with 1009 (or, when
	// the desk closes before the client has finished writing, a reset).
	big := []byte(`{"type":"message","message":{"input":{"text":"` + strings.Repeat("x", 4096) + `"}}}`)
	if err := c.conn.WriteMessage(websocket.TextMessage, big); err == nil {
		for {
			_, err := c.read()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) && ce.Code != websocket.CloseMessageTooBig {
					t.Fatalf("oversized frame: %v", err)
				}
				break
			}
		}
	}
	if msgs, _ := h.desk.CustomerMessages(chat.ChatID); len(msgs) != 0 {
		t.Fatalf("stored %d messages", len(msgs))
	}
}

func TestWSHeartbeatAndClose(t *testing.T) {
	h := newHarness(t, Options{PingInterval: Duration(50 * time.Millisecond)})
	c := h.dialWS(t)
	pings := make(chan struct{}, 10)
	c.conn.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return c.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			if _, _, err := c.conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for range 2 {
		select {
		case <-pings:
		case <-time.After(5 * time.Second):
			t.Fatal("no ping from the desk")
		}
	}
	// Close sends going-away and ends the connection.
	must(t, h.desk.Close())
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
