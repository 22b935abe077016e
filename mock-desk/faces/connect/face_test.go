package connectface_test

import (
	"bytes"
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
	connectface "github.com/deskbridge/deskbridge/mock-desk/faces/connect"
)

// TestConnectFace walks the Amazon Connect face as a raw client would:
// StartChatContact, CreateParticipantConnection, the WebSocket, messages,
// receipts, the transcript with paging, attachments, errors, disconnect.
func TestConnectFace(t *testing.T) {
	d, err := mockdesk.New(mockdesk.Options{})
	must(t, err)
	face := connectface.New(d, connectface.Options{})
	srv := httptest.NewServer(face)
	client := &http.Client{Transport: &http.Transport{}}
	defer func() { client.CloseIdleConnections(); _ = d.Close(); srv.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	call := func(method, path, bearer string, body any) (int, http.Header, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(b))
		if bearer != "" {
			req.Header.Set("X-Amz-Bearer", bearer)
		}
		if path == "/contact/chat" {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/connect/aws4_request, SignedHeaders=host, Signature=abc")
		}
		resp, err := client.Do(req)
		must(t, err)
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, resp.Header, out
	}
	start := map[string]any{"InstanceId": "i", "ContactFlowId": "f", "ParticipantDetails": map[string]string{"DisplayName": "Jo"}, "Attributes": map[string]string{"summary": "refund please"}}
	if st, h, _ := call("PUT", "/contact/chat", "", map[string]any{"InstanceId": "i"}); st != 400 || h.Get("x-amzn-ErrorType") != "InvalidParameterException" {
		t.Fatalf("start without flow: %d %s", st, h.Get("x-amzn-ErrorType"))
	}
	st, _, res := call("PUT", "/contact/chat", "", start)
	if st != 200 || res["ContactId"] == "" || res["ParticipantToken"] == "" {
		t.Fatalf("start: %d %v", st, res)
	}
	chatID, ptoken := res["ContactId"].(string), res["ParticipantToken"].(string)
	if s, _ := d.ChatSummary(chatID); s != "refund please" {
		t.Fatalf("summary %q", s)
	}
	if st, h, _ := call("POST", "/participant/connection", "nope", map[string]any{"Type": []string{"WEBSOCKET"}}); st != 403 || h.Get("x-amzn-ErrorType") != "AccessDeniedException" {
		t.Fatalf("bad participant token: %d", st)
	}
	st, _, res = call("POST", "/participant/connection", ptoken, map[string]any{"Type": []string{"WEBSOCKET", "CONNECTION_CREDENTIALS"}, "ConnectParticipant": true})
	if st != 200 {
		t.Fatalf("connection: %d %v", st, res)
	}
	wsURL := res["Websocket"].(map[string]any)["Url"].(string)
	ctoken := res["ConnectionCredentials"].(map[string]any)["ConnectionToken"].(string)

	conn, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL, nil)
	must(t, err)
	defer conn.Close()
	if _, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL, nil); err == nil {
		t.Fatal("a WebSocket URL was used twice")
	}
	must(t, conn.WriteMessage(websocket.TextMessage, []byte(`{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}`)))
	read := func() map[string]any {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := conn.ReadMessage()
		must(t, err)
		var f map[string]any
		must(t, json.Unmarshal(b, &f))
		if f["topic"] != "aws/chat" {
			return f
		}
		var item map[string]any
		must(t, json.Unmarshal([]byte(f["content"].(string)), &item))
		return item
	}
	if f := read(); f["topic"] != "aws/subscribe" || f["content"].(map[string]any)["status"] != "success" {
		t.Fatalf("subscribe answer %v", f)
	}
	must(t, conn.WriteMessage(websocket.TextMessage, []byte(`{"topic":"aws/heartbeat"}`)))
	if f := read(); f["topic"] != "aws/heartbeat" {
		t.Fatalf("heartbeat answer %v", f)
	}
	ada := servicedesk.AgentProfile{ID: "agent-ada", Nickname: "Ada"}
	must(t, d.AgentJoin(ctx, chatID, ada))
	if it := read(); it["ContentType"] != "application/vnd.amazonaws.connect.event.participant.joined" || it["ParticipantRole"] != "AGENT" || it["DisplayName"] != "Ada" {
		t.Fatalf("joined item %v", it)
	}
	if p, ok := face.Agent("agent-ada"); !ok || p.Nickname != "Ada" {
		t.Fatalf("directory %v %v", p, ok)
	}
	must(t, d.AgentTyping(ctx, chatID, true))
	if it := read(); it["ContentType"] != "application/vnd.amazonaws.connect.event.typing" {
		t.Fatalf("typing item %v", it)
	}
	mid, err := d.AgentSay(ctx, chatID, servicedesk.NewResponse(servicedesk.TextItem("Hi"), servicedesk.ImageItem("https://e/x.png", "x"), servicedesk.LinkButtonItem("Form", "https://e/f")))
	must(t, err)
	if it := read(); it["Type"] != "MESSAGE" || it["Id"] != mid || it["ContentType"] != "text/markdown" || it["Content"] != "Hi\n\n![x](https://e/x.png)\n\n[Form](https://e/f)" {
		t.Fatalf("message item %v", it)
	}

	// SendMessage is stored once per ClientToken.
	for range 2 {
		if st, _, res := call("POST", "/participant/message", ctoken, map[string]string{"ContentType": "text/plain", "Content": "hello", "ClientToken": "k-1"}); st != 200 || res["Id"] == "" {
			t.Fatalf("send: %d %v", st, res)
		}
	}
	if msgs, _ := d.CustomerMessages(chatID); len(msgs) != 1 || msgs[0].IdempotencyKey != "k-1" {
		t.Fatalf("stored %v", msgs)
	}
	if st, h, _ := call("POST", "/participant/message", ctoken, map[string]string{"ContentType": "image/png", "Content": "x"}); st != 400 || h.Get("x-amzn-ErrorType") != "ValidationException" {
		t.Fatalf("bad content type: %d", st)
	}
	must(t, d.RejectNextMessage(ctx, chatID, "Not today"))
	if st, _, res := call("POST", "/participant/message", ctoken, map[string]string{"ContentType": "text/plain", "Content": "no", "ClientToken": "k-2"}); st != 400 || res["Message"] != "Not today" {
		t.Fatalf("rejected: %d %v", st, res)
	}
	// Read receipt both ways.
	if st, _, _ := call("POST", "/participant/event", ctoken, map[string]string{"ContentType": "application/vnd.amazonaws.connect.event.message.read", "Content": `{"messageId":"` + mid + `"}`}); st != 200 {
		t.Fatalf("read event: %d", st)
	}
	if id, err := d.AwaitCustomerRead(ctx, chatID); err != nil || id != mid {
		t.Fatalf("customer read %q %v", id, err)
	}
	must(t, d.AgentRead(ctx, chatID))
	if it := read(); it["Type"] != "MESSAGEMETADATA" {
		t.Fatalf("receipt item %v", it)
	}

	// The transcript, two items a page, forward from the join.
	var joinID string
	var ids []string
	req := map[string]any{"MaxResults": 2, "ScanDirection": "FORWARD", "SortOrder": "ASCENDING", "StartPosition": map[string]any{"MostRecent": 100}}
	for {
		st, _, res := call("POST", "/participant/transcript", ctoken, req)
		if st != 200 {
			t.Fatalf("transcript: %d %v", st, res)
		}
		for _, it := range res["Transcript"].([]any) {
			m := it.(map[string]any)
			ids = append(ids, m["Id"].(string))
			if strings.HasSuffix(m["ContentType"].(string), "participant.joined") {
				joinID = m["Id"].(string)
			}
		}
		if res["NextToken"] == nil {
			break
		}
		req["NextToken"] = res["NextToken"]
	}
	if len(ids) != 4 || ids[2] != mid || joinID != ids[0] {
		t.Fatalf("transcript ids %v", ids)
	}
	st, _, res = call("POST", "/participant/transcript", ctoken, map[string]any{"StartPosition": map[string]any{"Id": mid}, "ScanDirection": "FORWARD", "SortOrder": "ASCENDING"})
	if items := res["Transcript"].([]any); st != 200 || len(items) != 2 || items[0].(map[string]any)["Id"] != mid {
		t.Fatalf("from %s: %v", mid, res)
	}

	// An attachment: start, PUT with the headers asked for, complete.
	st, _, res = call("POST", "/participant/start-attachment-upload", ctoken, map[string]any{"ContentType": "text/plain", "AttachmentSizeInBytes": 5, "AttachmentName": "a.txt", "ClientToken": "f-1"})
	if st != 200 {
		t.Fatalf("start upload: %d %v", st, res)
	}
	meta := res["UploadMetadata"].(map[string]any)
	put, _ := http.NewRequest("PUT", meta["Url"].(string), strings.NewReader("hello"))
	resp, err := client.Do(put)
	must(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("PUT without the headers: %d", resp.StatusCode)
	}
	put, _ = http.NewRequest("PUT", meta["Url"].(string), strings.NewReader("hello"))
	for k, v := range meta["HeadersToInclude"].(map[string]any) {
		put.Header.Set(k, v.(string))
	}
	resp, err = client.Do(put)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	if st, _, res := call("POST", "/participant/complete-attachment-upload", ctoken, map[string]any{"AttachmentIds": []string{res["AttachmentId"].(string)}, "ClientToken": "f-1"}); st != 200 {
		t.Fatalf("complete: %d %v", st, res)
	}
	if files, _ := d.Files(chatID); len(files) != 1 || files[0].Name != "a.txt" {
		t.Fatalf("files %v", files)
	}
	if st, h, res := call("POST", "/participant/start-attachment-upload", ctoken, map[string]any{"ContentType": "application/x-msdownload", "AttachmentSizeInBytes": 2, "AttachmentName": "x.exe", "ClientToken": "f-2"}); st != 400 || h.Get("x-amzn-ErrorType") != "ValidationException" || res["Message"] == "" {
		t.Fatalf("refused type: %d %v", st, res)
	}

	// Disconnect ends the chat; the connection token then fails.
	if st, _, _ := call("POST", "/participant/disconnect", ctoken, map[string]string{"ClientToken": "d-1"}); st != 200 {
		t.Fatalf("disconnect: %d", st)
	}
	if it := read(); it["ContentType"] != "application/vnd.amazonaws.connect.event.chat.ended" {
		t.Fatalf("end item %v", it)
	}
	if st, _, _ := call("POST", "/participant/connection", ptoken, map[string]any{"Type": []string{"WEBSOCKET"}}); st != 403 {
		t.Fatalf("connection after the end: %d", st)
	}
}

// TestConnectFaceFaults: REST faults answer Connect's throttling and
// server errors.
func TestConnectFaceFaults(t *testing.T) {
	d, err := mockdesk.New(mockdesk.Options{})
	must(t, err)
	face := connectface.New(d, connectface.Options{})
	srv := httptest.NewServer(face)
	defer func() { _ = d.Close(); srv.Close() }()
	must(t, d.InjectFault(mockdesk.FaultREST429, 1))
	resp, err := http.Post(srv.URL+"/participant/message", "application/json", strings.NewReader(`{}`))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("x-amzn-ErrorType") != "ThrottlingException" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("429: %d %v", resp.StatusCode, resp.Header)
	}
	must(t, d.InjectFault(mockdesk.FaultREST5xx, 1))
	resp, err = http.Post(srv.URL+"/participant/message", "application/json", strings.NewReader(`{}`))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("x-amzn-ErrorType") != "InternalServerException" {
		t.Fatalf("5xx: %d", resp.StatusCode)
	}
	// Paths the face does not know reach the desk.
	resp, err = http.Get(srv.URL + "/v1/availability")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("desk path through the face: %d", resp.StatusCode)
	}
}
