package genesysface_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	genesysface "github.com/deskbridge/deskbridge/mock-desk/faces/genesys"
)

// TestGenesysFace walks the Genesys face as a raw guest: configureSession,
// autostart, agent events, messages with customMessageId, attachments,
// getJwt and the history, action faults, resume and closeSession.
func TestGenesysFace(t *testing.T) {
	d, err := mockdesk.New(mockdesk.Options{})
	must(t, err)
	face := genesysface.New(d, genesysface.Options{DeploymentID: "dep"})
	srv := httptest.NewServer(face)
	client := &http.Client{Transport: &http.Transport{}}
	defer func() { client.CloseIdleConnections(); _ = d.Close(); srv.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1?deploymentId=dep"
	if _, resp, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1?deploymentId=other", nil); err == nil || resp.StatusCode != 403 {
		t.Fatal("a foreign deployment was accepted")
	}
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL, nil)
		must(t, err)
		return c
	}
	conn := dial()
	defer conn.Close()
	const token = "0f8fad5b-d9cb-469f-a165-70867728950e"
	send := func(c *websocket.Conn, v map[string]any) {
		t.Helper()
		v["token"] = token
		must(t, c.WriteJSON(v))
	}
	read := func(c *websocket.Conn) envelope {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var env envelope
		must(t, c.ReadJSON(&env))
		return env
	}
	body := func(env envelope) map[string]any {
		m, _ := env.Body.(map[string]any)
		return m
	}
	send(conn, map[string]any{"action": "onMessage", "tracingId": "x", "message": map[string]any{"type": "Text", "text": "early"}})
	if env := read(conn); env.Code != 4007 {
		t.Fatalf("before configureSession: %+v", env)
	}
	send(conn, map[string]any{"action": "configureSession", "deploymentId": "dep", "startNew": false, "tracingId": "c1"})
	env := read(conn)
	if b := body(env); env.Class != "SessionResponse" || env.TracingID != "c1" || b["newSession"] != true || b["allowedMedia"] == nil || b["blockedExtensions"] == nil {
		t.Fatalf("session %+v", env)
	}
	send(conn, map[string]any{"action": "onMessage", "tracingId": "a1", "message": map[string]any{"type": "Event",
		"events":  []any{map[string]any{"eventType": "Presence", "presence": map[string]string{"type": "Join"}}},
		"channel": map[string]any{"metadata": map[string]any{"customAttributes": map[string]string{"summary": "card declined"}}}}})
	chatID, err := d.AwaitChatID(ctx)
	must(t, err)
	if s, _ := d.ChatSummary(chatID); s != "card declined" {
		t.Fatalf("summary %q", s)
	}
	ada := servicedesk.AgentProfile{ID: "agent-ada", Nickname: "Ada", ProfilePictureURL: "https://e/ada.png"}
	must(t, d.AgentJoin(ctx, chatID, ada))
	env = read(conn)
	msg := body(env)
	if env.Class != "StructuredMessage" || msg["direction"] != "Outbound" || msg["type"] != "Event" || !strings.Contains(mustString(msg["events"]), `"Join"`) || !strings.Contains(mustString(msg["channel"]), `"nickname":"Ada"`) {
		t.Fatalf("join %+v", env)
	}
	if p, ok := face.Agent("Ada"); !ok || p.ID != "agent-ada" {
		t.Fatalf("directory %v", p)
	}
	_, err = d.AgentSay(ctx, chatID, servicedesk.NewResponse(servicedesk.TextItem("Hi"), servicedesk.ImageItem("https://e/x.png", "x.png"), servicedesk.LinkButtonItem("Form", "https://e/f")))
	must(t, err)
	msg = body(read(conn))
	if msg["text"] != "Hi" || !strings.Contains(mustString(msg["content"]), `"mediaType":"Image"`) || !strings.Contains(mustString(msg["content"]), `"type":"Link"`) {
		t.Fatalf("agent message %v", msg)
	}
	// A guest message, twice with one customMessageId: stored once.
	for range 2 {
		send(conn, map[string]any{"action": "onMessage", "tracingId": "m1", "message": map[string]any{"type": "Text", "text": "hello", "metadata": map[string]string{"customMessageId": "k-1"}}})
		if env := read(conn); env.TracingID != "m1" || body(env)["direction"] != "Inbound" {
			t.Fatalf("echo %+v", env)
		}
	}
	if msgs, _ := d.CustomerMessages(chatID); len(msgs) != 1 || msgs[0].IdempotencyKey != "k-1" {
		t.Fatalf("stored %v", msgs)
	}
	// Action faults: a 429 with retryAfter.
	must(t, d.InjectFault(mockdesk.FaultWSAction429, 1))
	send(conn, map[string]any{"action": "onMessage", "tracingId": "m2", "message": map[string]any{"type": "Text", "text": "x"}})
	if env := read(conn); env.Code != 429 || env.Class != "TooManyRequestsErrorMessage" || body(env)["retryAfter"] == nil {
		t.Fatalf("429 %+v", env)
	}
	// An attachment: presigned URL, PUT, UploadSuccessEvent, then sent.
	send(conn, map[string]any{"action": "onAttachment", "tracingId": "u1", "attachmentId": "att-1", "fileName": "n.txt", "fileType": "text/plain", "fileSize": 2, "errorsAsJson": true})
	env = read(conn)
	pre := body(env)
	if env.Class != "PresignedUrlResponse" {
		t.Fatalf("presigned %+v", env)
	}
	req, _ := http.NewRequest("PUT", pre["url"].(string), strings.NewReader("hi"))
	for k, v := range pre["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	resp, err := client.Do(req)
	must(t, err)
	resp.Body.Close()
	if env := read(conn); env.Class != "UploadSuccessEvent" || body(env)["attachmentId"] != "att-1" {
		t.Fatalf("upload event %+v", env)
	}
	send(conn, map[string]any{"action": "onAttachment", "tracingId": "u2", "attachmentId": "att-2", "fileName": "x.exe", "fileType": "application/x-msdownload", "fileSize": 2})
	if env := read(conn); env.Code != 4001 {
		t.Fatalf("blocked file %+v", env)
	}
	// getJwt and the history, newest first.
	send(conn, map[string]any{"action": "getJwt", "tracingId": "j1"})
	jwt := body(read(conn))["jwt"].(string)
	hreq, _ := http.NewRequest("GET", srv.URL+"/api/v2/webmessaging/messages?pageSize=1&pageNumber=1", nil)
	hreq.Header.Set("Authorization", "Bearer "+jwt)
	resp, err = client.Do(hreq)
	must(t, err)
	var page struct {
		Entities  []map[string]any `json:"entities"`
		PageCount int              `json:"pageCount"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	must(t, json.Unmarshal(b, &page))
	if len(page.Entities) != 1 || page.Entities[0]["text"] != "Hi" || page.PageCount != 2 {
		t.Fatalf("history %s", b)
	}
	// A second connection resumes the session.
	conn2 := dial()
	defer conn2.Close()
	send(conn2, map[string]any{"action": "configureSession", "deploymentId": "dep", "tracingId": "c2"})
	if b := body(read(conn2)); b["newSession"] != false || b["readOnly"] != false {
		t.Fatalf("resume %v", b)
	}
	send(conn2, map[string]any{"action": "closeSession", "tracingId": "z"})
	// The Presence Disconnect and the answer come in either order.
	var answered, disconnected bool
	for !answered || !disconnected {
		env := read(conn2)
		switch {
		case env.TracingID == "z" && env.Class == "SessionResponse" && body(env)["readOnly"] == true:
			answered = true
		case env.Class == "StructuredMessage" && strings.Contains(mustString(body(env)["events"]), `"Disconnect"`):
			disconnected = true
		default:
			t.Fatalf("after closeSession %+v", env)
		}
	}
	if st, _ := d.ChatState(chatID); st != mockdesk.StateEnded {
		t.Fatalf("state after closeSession %s", st)
	}
}

func mustString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// envelope is a frame of the face, as a guest reads it.
type envelope struct {
	Type      string `json:"type"`
	Class     string `json:"class"`
	Code      int    `json:"code"`
	Body      any    `json:"body"`
	TracingID string `json:"tracingId,omitempty"`
}
