package facekit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A socket streams a chat's events as the face renders them, answers in
// between, is cut abruptly by DropConnections, and gets a close frame
// when the desk closes.
func TestSocket(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	desk, err := mockdesk.New(mockdesk.Options{PingInterval: mockdesk.Duration(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	cc, err := desk.StartCustomerChat(ctx, mockdesk.ChatStart{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := facekit.Accept(desk, w, r)
		if !ok {
			return
		}
		defer s.Close()
		follow, err := cc.Follow(r.Context(), 0)
		if err != nil {
			return
		}
		for {
			b, err := s.Read()
			if err != nil {
				return
			}
			s.Send(append([]byte("ack "), b...))
			s.Stream(follow, func(evs []deskproto.Event) [][]byte {
				var out [][]byte
				for _, e := range evs {
					out = append(out, []byte(string(e.Type)))
				}
				return out
			})
		}
	}))
	defer srv.Close()
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		return c
	}
	read := func(c *websocket.Conn) string {
		t.Helper()
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	c := dial()
	defer c.Close()
	if err := c.WriteMessage(websocket.TextMessage, []byte("go")); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for len(got) < 3 {
		got[read(c)] = true
	}
	if !got["ack go"] || !got["capabilities"] || !got["queue_update"] {
		t.Fatalf("frames %v", got)
	}
	ac, _ := desk.Chat(cc.ID())
	if err := ac.Join(ctx, servicedesk.AgentProfile{ID: "agent-1", Nickname: "Ada"}); err != nil {
		t.Fatal(err)
	}
	if fr := read(c); fr != "agent_joined" {
		t.Fatalf("after join: %q", fr)
	}

	// A drop cuts the connection without a close frame.
	if err := desk.DropConnections(ctx, cc.ID()); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseAbnormalClosure) {
		t.Fatalf("after a drop: %v, want the connection cut (1006, no close frame)", err)
	}

	// The desk's Close sends a close frame.
	c2 := dial()
	defer c2.Close()
	if err := c2.WriteMessage(websocket.TextMessage, []byte("again")); err != nil {
		t.Fatal(err)
	}
	for read(c2) != "ack again" {
	}
	_ = desk.Close()
	for {
		_, _, err := c2.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("at the desk's close: %v, want going away", err)
		}
		break
	}
}

// InChat says who is in the chat at each event.
func TestInChat(t *testing.T) {
	ada := &servicedesk.AgentProfile{ID: "a", Nickname: "Ada"}
	in := facekit.NewInChat(nil)
	for _, step := range []struct {
		typ  deskproto.EventType
		want *servicedesk.AgentProfile
	}{
		{deskproto.EventAgentJoined, ada},
		{deskproto.EventAgentTyping, ada},
		{deskproto.EventTransferStarted, nil},
		{deskproto.EventAgentJoined, ada},
		{deskproto.EventAgentLeft, nil},
	} {
		in.See(deskproto.Event{Type: step.typ, Agent: ada})
		if in.Agent() != step.want {
			t.Fatalf("after %s: %v", step.typ, in.Agent())
		}
	}
}
