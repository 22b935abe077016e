package chatwootface_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	chatwootface "github.com/deskbridge/deskbridge/mock-desk/faces/chatwoot"
)

func do(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestFace: refusals Chatwoot makes (an unknown inbox, a bad identifier
// hash, a rejected subscription), then a contact's conversation: the
// cable's welcome and confirmation, the agent's assignment and message as
// events, the messages list with the contact's and the agent's.
func TestFace(t *testing.T) {
	d, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srv := httptest.NewServer(chatwootface.New(d, chatwootface.Options{InboxIdentifier: "inb", HMACToken: "sekrit"}))
	defer srv.Close()
	base := srv.URL + "/public/api/v1/inboxes/inb/contacts"
	if code, _ := do(t, "POST", srv.URL+"/public/api/v1/inboxes/other/contacts", "{}"); code != 404 {
		t.Fatalf("unknown inbox: %d", code)
	}
	if code, b := do(t, "POST", base, `{"identifier":"u1","identifier_hash":"00"}`); code != 401 || !strings.Contains(string(b), "HMAC failed") {
		t.Fatalf("bad hash: %d %s", code, b)
	}
	_, b := do(t, "POST", base, `{"name":"Ada"}`)
	var c struct {
		SourceID    string `json:"source_id"`
		PubsubToken string `json:"pubsub_token"`
	}
	_ = json.Unmarshal(b, &c)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/cable", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	next := func() map[string]any {
		t.Helper()
		for {
			var m map[string]any
			if err := ws.ReadJSON(&m); err != nil {
				t.Fatal(err)
			}
			if m["type"] != "ping" {
				return m
			}
		}
	}
	if m := next(); m["type"] != "welcome" {
		t.Fatalf("first frame %v", m)
	}
	_ = ws.WriteJSON(map[string]string{"command": "subscribe", "identifier": `{"channel":"RoomChannel","pubsub_token":"nope"}`})
	if m := next(); m["type"] != "reject_subscription" {
		t.Fatalf("unknown token: %v", m)
	}
	ident := `{"channel":"RoomChannel","pubsub_token":"` + c.PubsubToken + `"}`
	_ = ws.WriteJSON(map[string]string{"command": "subscribe", "identifier": ident})
	if m := next(); m["type"] != "confirm_subscription" || m["identifier"] != ident {
		t.Fatalf("confirm: %v", m)
	}
	_, b = do(t, "POST", base+"/"+c.SourceID+"/conversations", `{"custom_attributes":{"bot_summary":"refund"}}`)
	var conv struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	_ = json.Unmarshal(b, &conv)
	if conv.Status != "open" {
		t.Fatalf("conversation %s", b)
	}
	path := base + "/" + c.SourceID + "/conversations/" + itoa(conv.ID)
	if code, _ := do(t, "POST", path+"/messages", `{"content":"hello","echo_id":"e-1"}`); code != 200 {
		t.Fatalf("post: %d", code)
	}
	if m := next(); m["message"].(map[string]any)["data"].(map[string]any)["echo_id"] != "e-1" {
		t.Fatalf("echo: %v", m)
	}
	ctx := context.Background()
	chat, err := d.AwaitChatID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := d.ChatSummary(chat); s != "refund" {
		t.Fatalf("summary %q", s)
	}
	ada := servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman}
	if err := d.AgentJoin(ctx, chat, ada); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AgentSay(ctx, chat, servicedesk.NewResponse(servicedesk.TextItem("hi, Ada here"))); err != nil {
		t.Fatal(err)
	}
	var events []string
	for len(events) < 2 {
		m := next()
		msg := m["message"].(map[string]any)
		events = append(events, msg["event"].(string))
	}
	if strings.Join(events, ",") != "conversation.updated,message.created" {
		t.Fatalf("events %v", events)
	}
	_, b = do(t, "GET", path+"/messages", "")
	var list []struct {
		ID          int64  `json:"id"`
		Content     string `json:"content"`
		MessageType int    `json:"message_type"`
	}
	_ = json.Unmarshal(b, &list)
	if len(list) != 2 || list[0].Content != "hello" || list[0].MessageType != 0 || list[1].Content != "hi, Ada here" || list[1].MessageType != 1 || list[0].ID >= list[1].ID {
		t.Fatalf("messages %s", b)
	}
	_, b = do(t, "GET", path+"/messages?before="+itoa(list[1].ID), "")
	if err := json.Unmarshal(b, &list); err != nil || len(list) != 1 || list[0].Content != "hello" {
		t.Fatalf("before: %s", b)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestFaceStoresEveryPost: Chatwoot stores every POST of a message,
// echo_id or not: a second POST with the same echo_id is a second
// message at the desk (filed as echo_id#2), not a replay of the first.
func TestFaceStoresEveryPost(t *testing.T) {
	d, path := newConversation(t, chatwootface.Options{})
	for range 2 {
		if code, b := do(t, "POST", path, `{"content":"hello","echo_id":"e-1"}`); code != 200 {
			t.Fatalf("post: %d %s", code, b)
		}
	}
	chat, err := d.AwaitChatID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := d.CustomerMessages(chat)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range msgs {
		keys = append(keys, m.IdempotencyKey)
	}
	if strings.Join(keys, ",") != "e-1,e-1#2" {
		t.Fatalf("messages at the desk: %v", keys)
	}
}

// TestFaceAttachments: a multipart message's attachments[] become the
// chat's files at the desk and the answer's attachments (file_type,
// data_url, file_size); a file the desk refuses, or one past
// MaxAttachmentBytes, refuses the message: 422 with the reason in
// Rails' record-invalid shape, and nothing of it is a message.
func TestFaceAttachments(t *testing.T) {
	d, path := newConversation(t, chatwootface.Options{MaxAttachmentBytes: 64})
	post := func(echo, name, ctype string, content []byte) (int, []byte) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("content", "see attached")
		_ = mw.WriteField("echo_id", echo)
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="attachments[]"; filename="`+name+`"`)
		h.Set("Content-Type", ctype)
		p, _ := mw.CreatePart(h)
		_, _ = p.Write(content)
		_ = mw.Close()
		resp, err := http.Post(path, mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	png := []byte("\x89PNG\r\n\x1a\n-pixels")
	code, b := post("e-1", "receipt.png", "image/png", png)
	var msg struct {
		Attachments []struct {
			ID       int64  `json:"id"`
			FileType string `json:"file_type"`
			DataURL  string `json:"data_url"`
			FileSize int    `json:"file_size"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(b, &msg); code != 200 || err != nil || len(msg.Attachments) != 1 || msg.Attachments[0].FileType != "image" ||
		msg.Attachments[0].FileSize != len(png) || msg.Attachments[0].DataURL == "" {
		t.Fatalf("post with a file: %d %s", code, b)
	}
	chat, err := d.AwaitChatID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if files, _ := d.Files(chat); len(files) != 1 || files[0].Name != "receipt.png" || files[0].MessageID != "e-1" {
		t.Fatalf("files at the desk: %+v", files)
	}
	for _, tc := range []struct{ name, ctype, content, reason string }{
		{"tool.exe", "application/x-msdownload", "MZ", "This type of file can't be uploaded."},
		{"big.txt", "text/plain", strings.Repeat("x", 65), "File size is too big"},
	} {
		code, b := post("e-"+tc.name, tc.name, tc.ctype, []byte(tc.content))
		var refusal struct {
			Message    string   `json:"message"`
			Attributes []string `json:"attributes"`
		}
		if err := json.Unmarshal(b, &refusal); code != http.StatusUnprocessableEntity || err != nil || refusal.Message != tc.reason || len(refusal.Attributes) != 1 {
			t.Errorf("%s: %d %s, want 422 with %q", tc.name, code, b, tc.reason)
		}
	}
	msgs, _ := d.CustomerMessages(chat)
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Request.Input.Text)
	}
	if len(msgs) == 0 || msgs[0].Request.Input.Text != "see attached" || len(msgs[0].FileIDs) != 1 || strings.Count(strings.Join(texts, "|"), "see attached") != 1 {
		t.Fatalf("messages at the desk: %q", texts)
	}
}

// newConversation serves a face over a new desk for a contact's open
// conversation and returns the desk and the conversation's messages URL.
func newConversation(t *testing.T, opts chatwootface.Options) (*mockdesk.Desk, string) {
	t.Helper()
	d, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	opts.InboxIdentifier = "inb"
	srv := httptest.NewServer(chatwootface.New(d, opts))
	t.Cleanup(srv.Close)
	base := srv.URL + "/public/api/v1/inboxes/inb/contacts"
	_, b := do(t, "POST", base, `{"name":"Ada"}`)
	var c struct {
		SourceID string `json:"source_id"`
	}
	_ = json.Unmarshal(b, &c)
	_, b = do(t, "POST", base+"/"+c.SourceID+"/conversations", `{}`)
	var conv struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(b, &conv)
	return d, base + "/" + c.SourceID + "/conversations/" + itoa(conv.ID) + "/messages"
}
