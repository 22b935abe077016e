package zendeskface_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	zendeskface "github.com/deskbridge/deskbridge/mock-desk/faces/zendesk"
)

// The face answers in Sunshine Conversations' shapes: its error body, the
// user-author activity rule, pages of messages, and retried webhooks.
func TestFaceShapes(t *testing.T) {
	desk, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	got := make(chan map[string]any, 16)
	fails := 2
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "hook" {
			t.Errorf("X-API-Key %q", r.Header.Get("X-API-Key"))
		}
		if fails > 0 { // Zendesk tries again
			fails--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		select {
		case got <- body:
		default:
		}
	}))
	defer hook.Close()
	face := zendeskface.New(desk, zendeskface.Options{AppID: "app1", KeyID: "k", KeySecret: "s", WebhookURL: hook.URL, WebhookSecret: "hook", RetryBase: time.Millisecond})
	srv := httptest.NewServer(face)
	defer srv.Close()
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+"/v2/apps/app1"+path, strings.NewReader(body))
		req.SetBasicAuth("k", "s")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	_, u := call("POST", "/users", `{"externalId":"c1"}`)
	if st, out := call("POST", "/users", `{"externalId":"c1"}`); st != 409 || !strings.Contains(jsonOf(out), `"code":"conflict"`) {
		t.Fatalf("second user: %d %v", st, out)
	}
	uid := u["user"].(map[string]any)["id"].(string)
	_, c := call("POST", "/conversations", `{"type":"personal","participants":[{"userId":"`+uid+`"}]}`)
	cid := c["conversation"].(map[string]any)["id"].(string)
	if st, out := call("POST", "/conversations/"+cid+"/activity", `{"author":{"type":"user","userId":"`+uid+`"},"type":"typing:start"}`); st != 400 {
		t.Fatalf("user typing: %d %v", st, out)
	}
	for range 101 {
		if st, out := call("POST", "/conversations/"+cid+"/messages", `{"author":{"type":"user","userId":"`+uid+`"},"content":{"type":"text","text":"hi"}}`); st != 201 {
			t.Fatalf("post: %d %v", st, out)
		}
	}
	_, page := call("GET", "/conversations/"+cid+"/messages", "")
	meta := page["meta"].(map[string]any)
	if n := len(page["messages"].([]any)); n != 100 || meta["hasMore"] != true || meta["beforeCursor"] == nil {
		t.Fatalf("last page: %d messages, meta %v", n, meta)
	}
	select {
	case body := <-got:
		ev := body["events"].([]any)[0].(map[string]any)
		if ev["type"] != "conversation:message" || body["app"].(map[string]any)["id"] != "app1" {
			t.Fatalf("delivery %v", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook after two failed tries")
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }
