package genesysface_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/gorilla/websocket"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	genesysface "github.com/deskbridge/deskbridge/mock-desk/faces/genesys"
)

// A guest configures its session on the face's WebSocket and autostarts
// the conversation: a chat of the desk, with the summary attribute as the
// agent's first view.
func Example() {
	desk, _ := mockdesk.New(mockdesk.Options{})
	defer desk.Close()
	srv := httptest.NewServer(genesysface.New(desk, genesysface.Options{}))
	defer srv.Close()
	ctx := context.Background()

	c, _, _ := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1?deploymentId=dep", nil)
	defer c.Close()
	_ = c.WriteJSON(map[string]any{"action": "configureSession", "token": "guest-1", "deploymentId": "dep"})
	var env struct {
		Class string `json:"class"`
		Code  int    `json:"code"`
	}
	_ = c.ReadJSON(&env)
	fmt.Println(env.Class, env.Code)
	_ = c.WriteJSON(map[string]any{"action": "onMessage", "token": "guest-1", "message": map[string]any{
		"type": "Event", "events": []any{map[string]any{"eventType": "Presence", "presence": map[string]string{"type": "Join"}}},
		"channel": map[string]any{"metadata": map[string]any{"customAttributes": map[string]string{"summary": "Card declined"}}},
	}})

	ac, _ := desk.AwaitChat(ctx)
	fmt.Println(ac.Summary())
	// Output:
	// SessionResponse 200
	// Card declined
}
