package egainface_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	egainface "github.com/deskbridge/deskbridge/mock-desk/faces/egain"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type push struct {
	Authorization string `json:"authorization"`
	EGainMessage  string `json:"eGainMessage"`
	Status        string `json:"status"`
	MessageID     string `json:"messageId"`
	Error         *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type hub struct{ ID, Type, Value string }

func (p push) hub(t *testing.T) hub {
	t.Helper()
	var m hub
	if err := json.Unmarshal([]byte(p.EGainMessage), &m); err != nil {
		t.Fatalf("eGainMessage %q: %v", p.EGainMessage, err)
	}
	return m
}

// TestEGainFace walks the face as the starter kit's client: availability,
// initialize (its authorization, a retry answered the same), the
// WebSocket's opening frame, agent events, messages both ways with their
// answers, a replay after lastMessageId on a new connection, and the end.
func TestEGainFace(t *testing.T) {
	d, err := mockdesk.New(mockdesk.Options{})
	must(t, err)
	face := egainface.New(d, egainface.Options{EntryPointID: "1001", CustomerID: "cust-1"})
	srv := httptest.NewServer(face)
	client := &http.Client{Transport: &http.Transport{}}
	defer func() { client.CloseIdleConnections(); _ = d.Close(); srv.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	get := func(path string) (int, string) {
		resp, err := client.Get(srv.URL + path)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	must(t, d.SetAgentsOnline(ctx, false))
	if code, body := get("/system/egain/chat/entrypoint/agentAvailability/1001"); code != 200 || !strings.Contains(body, `available="false"`) {
		t.Fatalf("availability offline: %d %s", code, body)
	}
	must(t, d.SetAgentsOnline(ctx, true))
	if _, body := get("/system/egain/chat/entrypoint/agentAvailability/1001"); !strings.Contains(body, `<agentAvailability available="true"`) {
		t.Fatalf("availability online: %s", body)
	}
	if code, _ := get("/system/egain/chat/entrypoint/agentAvailability/9"); code != 404 {
		t.Fatalf("unknown entry point: %d", code)
	}

	initialize := func(auth string) (int, string) {
		body, _ := json.Marshal(map[string]any{"sessionId": "s-1", "userId": "u-1", "entryPointId": "1001",
			"customer":   map[string]string{"id": "c-42", "name": "Grace"},
			"attributes": []map[string]string{{"name": "summary", "value": "card declined"}, {"name": "topic", "value": "billing"}}})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/initialize", bytes.NewReader(body))
		req.Header.Set("Authorization", auth)
		resp, err := client.Do(req)
		must(t, err)
		defer resp.Body.Close()
		var out struct{ SessionToken string }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.SessionToken
	}
	if code, _ := initialize(base64.StdEncoding.EncodeToString([]byte("other"))); code != 401 {
		t.Fatalf("a foreign customer id: %d", code)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("cust-1"))
	code, token := initialize(auth)
	if code != 200 || token == "" {
		t.Fatalf("initialize: %d %q", code, token)
	}
	if _, again := initialize(auth); again != token {
		t.Fatalf("a retried initialize answered %q, want %q", again, token)
	}
	chatID, err := d.AwaitChatID(ctx)
	must(t, err)
	view, err := d.ChatView(chatID)
	must(t, err)
	if view.Summary != "card declined" || view.Attributes["topic"] != "billing" || view.Customer.Name != "Grace" {
		t.Fatalf("the agent's view: %+v", view)
	}

	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?userId=u-1&sessionId=s-1&sessionToken="
	if _, resp, err := websocket.DefaultDialer.DialContext(ctx, wsURL+"wrong", nil); err == nil || resp.StatusCode != 401 {
		t.Fatal("a wrong session token was accepted")
	}
	dial := func(last string) *websocket.Conn {
		c, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL+token, nil)
		must(t, err)
		must(t, c.WriteJSON(map[string]string{"userId": "u-1", "sessionId": "s-1", "CustomerId": "cust-1", "sessionToken": token, "lastMessageId": last}))
		return c
	}
	var read func(c *websocket.Conn) push
	read = func(c *websocket.Conn) push {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var p push
		must(t, c.ReadJSON(&p))
		if p.Authorization != token {
			t.Fatalf("frame authorization %q", p.Authorization)
		}
		if p.Status == "connected" {
			return read(c)
		}
		return p
	}
	conn := dial("")
	ada := servicedesk.AgentProfile{ID: "agent-ada", Nickname: "Ada"}
	must(t, d.AgentJoin(ctx, chatID, ada))
	join := read(conn).hub(t)
	if join.Type != "agent.join" || join.Value != `{"agentName":"Ada"}` || join.ID == "" {
		t.Fatalf("join %+v", join)
	}
	if p, ok := face.Agent("Ada"); !ok || p.ID != "agent-ada" {
		t.Fatalf("directory: %+v", p)
	}
	must(t, conn.WriteJSON(map[string]string{"CustomerId": "cust-1", "sessionId": "s-1", "sessionToken": token, "message": "hello", "messageId": "m-1"}))
	if ack := read(conn); ack.MessageID != "m-1" || ack.Error != nil {
		t.Fatalf("ack %+v", ack)
	}
	info, err := d.AwaitCustomerMessageInfo(ctx, chatID)
	must(t, err)
	if info.Request.Input.Text != "hello" || info.IdempotencyKey != "m-1" {
		t.Fatalf("the desk's message %+v", info)
	}
	_, err = d.AgentSay(ctx, chatID, servicedesk.NewResponse(servicedesk.TextItem("See **this**"), servicedesk.LinkButtonItem("Form", "https://e.example/f?a=1&b=2")))
	must(t, err)
	text := read(conn).hub(t)
	if text.Type != "text" || text.Value != "See **this**\n\n<a href=\"https://e.example/f?a=1&amp;b=2\" target=\"_blank\">Form</a>" {
		t.Fatalf("text %+v", text)
	}
	conn.Close()

	// A new connection after the join replays what came after it.
	conn = dial(join.ID)
	defer conn.Close()
	if again := read(conn).hub(t); again.ID != text.ID {
		t.Fatalf("replay after %s: %+v, want %s", join.ID, again, text.ID)
	}
	must(t, conn.WriteJSON(map[string]string{"sessionId": "s-1", "sessionToken": token, "type": "typing.start", "messageId": "t-1"}))
	if ack := read(conn); ack.MessageID != "t-1" || ack.Status != "accepted" {
		t.Fatalf("typing ack %+v", ack)
	}
	if on, err := d.AwaitCustomerTyping(ctx, chatID); err != nil || !on {
		t.Fatalf("typing: %v %v", on, err)
	}
	must(t, conn.WriteJSON(map[string]string{"sessionId": "s-1", "sessionToken": token, "message": "End conversation"}))
	for {
		if p := read(conn); p.Status == "Conversation ended" {
			break
		}
	}
	if v, _ := d.ChatView(chatID); v.State != mockdesk.StateEnded || v.EndedBy != mockdesk.EndedByCustomer {
		t.Fatalf("after the end: %+v", v)
	}
}

// TestEGainFaceRefusal: a refused chat shows as agent.unavailable with the
// desk's reason, then the end.
func TestEGainFaceRefusal(t *testing.T) {
	d, err := mockdesk.New(mockdesk.Options{})
	must(t, err)
	face := egainface.New(d, egainface.Options{})
	srv := httptest.NewServer(face)
	client := &http.Client{Transport: &http.Transport{}}
	defer func() { client.CloseIdleConnections(); _ = d.Close(); srv.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must(t, d.RefuseNextChat(ctx, "Closed for the holidays."))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/initialize", strings.NewReader(`{"sessionId":"s","userId":"u"}`))
	req.Header.Set("Authorization", base64.StdEncoding.EncodeToString([]byte("any")))
	resp, err := client.Do(req)
	must(t, err)
	var out struct{ SessionToken string }
	must(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	c, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?userId=u&sessionId=s&sessionToken="+out.SessionToken, nil)
	must(t, err)
	defer c.Close()
	must(t, c.WriteJSON(map[string]string{"userId": "u", "sessionId": "s", "sessionToken": out.SessionToken}))
	var first, second, connected push
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	must(t, c.ReadJSON(&first))
	must(t, c.ReadJSON(&second))
	must(t, c.ReadJSON(&connected))
	if connected.Status != "connected" {
		t.Fatalf("after the replay: %+v, want the connected status", connected)
	}
	if m := first.hub(t); m.Type != "agent.unavailable" || m.Value != "Closed for the holidays." || second.Status != "Conversation ended" {
		t.Fatalf("refusal: %+v then %+v", m, second)
	}
}
