package facekit_test

import (
	"context"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// FollowChat sees every event once and in order across a dropped
// connection, and returns once the ended chat's events are read.
func TestFollowChat(t *testing.T) {
	desk, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc, err := desk.StartCustomerChat(ctx, mockdesk.ChatStart{Summary: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	var seen []deskproto.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		facekit.FollowChat(ctx, cc, 10*time.Millisecond, func(ev deskproto.Event) { seen = append(seen, ev) })
	}()
	if err := desk.AgentJoin(ctx, cc.ID(), servicedesk.AgentProfile{ID: "a", Nickname: "A"}); err != nil {
		t.Fatal(err)
	}
	if err := desk.DropConnections(ctx, cc.ID()); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"one", "two"} {
		if _, err := desk.AgentSay(ctx, cc.ID(), servicedesk.TextResponse(text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := desk.DeskEnd(ctx, cc.ID(), "done"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("FollowChat did not return after the chat ended")
	}
	var texts []string
	for i, ev := range seen {
		if i > 0 && ev.Seq != seen[i-1].Seq+1 {
			t.Fatalf("seq %d after %d", ev.Seq, seen[i-1].Seq)
		}
		if ev.Type == deskproto.EventAgentMessage {
			texts = append(texts, ev.Message.PlainText())
		}
	}
	if len(texts) != 2 || texts[0] != "one" || texts[1] != "two" || seen[len(seen)-1].Type != deskproto.EventChatEnded {
		t.Fatalf("messages %q, last event %+v", texts, seen[len(seen)-1])
	}
}
