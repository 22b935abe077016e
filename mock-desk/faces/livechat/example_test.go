package livechatface_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gorilla/websocket"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	livechatface "github.com/deskbridge/deskbridge/mock-desk/faces/livechat"
)

// A server gets a customer token by the agent token grant, logs the
// customer in on the RTM socket and starts a chat whose opening event is
// the agent's summary.
func Example() {
	desk, _ := mockdesk.New(mockdesk.Options{})
	defer desk.Close()
	srv := httptest.NewServer(livechatface.New(desk, livechatface.Options{AgentToken: "agent"}))
	defer srv.Close()
	ctx := context.Background()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v2/customer/token",
		bytes.NewBufferString(`{"grant_type":"agent_token","client_id":"app","response_type":"token"}`))
	req.Header.Set("Authorization", "Bearer agent")
	resp, _ := http.DefaultClient.Do(req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	c, _, _ := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v3.6/customer/rtm/ws?organization_id=org", nil)
	defer c.Close()
	var answer struct {
		Action  string `json:"action"`
		Success bool   `json:"success"`
	}
	_ = c.WriteJSON(map[string]any{"request_id": "1", "action": "login", "payload": map[string]any{"token": "Bearer " + tok.AccessToken}})
	_ = c.ReadJSON(&answer)
	fmt.Println(answer.Action, answer.Success)
	_ = c.WriteJSON(map[string]any{"request_id": "2", "action": "start_chat", "payload": map[string]any{
		"chat": map[string]any{"thread": map[string]any{"events": []any{map[string]any{"type": "message", "text": "Card declined", "recipients": "all"}}}}}})
	_ = c.ReadJSON(&answer)
	fmt.Println(answer.Action, answer.Success)

	ac, _ := desk.AwaitChat(ctx)
	fmt.Println(ac.Summary())
	// Output:
	// login true
	// start_chat true
	// Card declined
}
