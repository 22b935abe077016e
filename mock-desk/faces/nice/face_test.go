package niceface_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	niceface "github.com/deskbridge/deskbridge/mock-desk/faces/nice"
)

// A guest's first SendMessage opens a contact whose summary is its text;
// the agent's join and message come as CaseInboxAssigneeChanged and
// MessageCreated, and the contact's end as CaseStatusChanged closed.
func TestGuestChat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	desk, err := mockdesk.New(mockdesk.Options{PingInterval: mockdesk.Duration(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	srv := httptest.NewServer(niceface.New(desk, niceface.Options{BrandID: 7, ChannelID: "chat_1"}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/?brandId=7&channelId=chat_1&customerId=cust-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(8 * time.Second))
	send := func(eventType string, data map[string]any) {
		t.Helper()
		f := map[string]any{"action": "chatWindowEvent", "eventId": "ev-" + eventType, "payload": map[string]any{
			"eventType": eventType, "brand": map[string]any{"id": 7}, "channel": map[string]any{"id": "chat_1"},
			"consumerIdentity": map[string]any{"idOnExternalPlatform": "cust-1", "firstName": "Ann"}, "data": data}}
		if err := c.WriteJSON(f); err != nil {
			t.Fatal(err)
		}
	}
	await := func(eventType string) map[string]any {
		t.Helper()
		for {
			var f map[string]any
			if err := c.ReadJSON(&f); err != nil {
				t.Fatalf("awaiting %s: %v", eventType, err)
			}
			if f["eventType"] == eventType {
				return f
			}
		}
	}
	send("SendMessage", map[string]any{"thread": map[string]any{"idOnExternalPlatform": "th-1"}, "idOnExternalPlatform": "m-1",
		"messageContent": map[string]any{"type": "TEXT", "payload": map[string]any{"text": "Summary: card declined"}}})
	if ans := await("MessageCreated"); ans["eventId"] != "ev-SendMessage" {
		t.Fatalf("answer %v", ans)
	}
	chat, err := desk.AwaitChat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := chat.Join(ctx, servicedesk.AgentProfile{ID: "agent-ada", Nickname: "Ada"}); err != nil {
		t.Fatal(err)
	}
	joined := await("CaseInboxAssigneeChanged")["data"].(map[string]any)
	if u := joined["inboxAssignee"].(map[string]any); u["nickname"] != "Ada" {
		t.Fatalf("assignee %v", u)
	}
	if _, err := chat.Say(ctx, servicedesk.TextResponse("Hello Ann")); err != nil {
		t.Fatal(err)
	}
	msg := await("MessageCreated")["data"].(map[string]any)["message"].(map[string]any)
	b, _ := json.Marshal(msg["messageContent"])
	if msg["direction"] != "outbound" || !strings.Contains(string(b), "Hello Ann") {
		t.Fatalf("agent message %v", msg)
	}
	send("EndContact", map[string]any{"thread": map[string]any{"idOnExternalPlatform": "th-1"}})
	if st := await("CaseStatusChanged")["data"].(map[string]any)["case"].(map[string]any)["status"]; st != "closed" {
		t.Fatalf("status %v", st)
	}
}
