package kustomerface_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	kustomerface "github.com/deskbridge/deskbridge/mock-desk/faces/kustomer"
)

type delivery struct {
	event string
	body  map[string]any
}

// harness is a face with a webhook receiver that checks every signature
// and fails the first failFirst deliveries.
func harness(t *testing.T, failFirst int) (*mockdesk.Desk, func(method, path, body string) (int, map[string]any), <-chan delivery) {
	t.Helper()
	desk, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = desk.Close() })
	got := make(chan delivery, 64)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if sig := r.Header.Get("X-Kustomer-Webhook-Signature"); sig != kustomerface.Sign("tok", b) {
			t.Errorf("signature %q does not sign the body", sig)
		}
		if failFirst > 0 { // Kustomer tries again
			failFirst--
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		got <- delivery{r.Header.Get("X-Kustomer-Webhook-Event"), body}
	}))
	t.Cleanup(hook.Close)
	face := kustomerface.New(desk, kustomerface.Options{APIKey: "key", WebhookToken: "tok", WebhookURL: hook.URL, RetryBase: time.Millisecond})
	srv := httptest.NewServer(face)
	t.Cleanup(srv.Close)
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer key")
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
	return desk, call, got
}

func data(out map[string]any) map[string]any { m, _ := out["data"].(map[string]any); return m }

func await(t *testing.T, got <-chan delivery, name string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case d := <-got:
			if d.event == name && match(d.body) {
				return d.body
			}
		case <-deadline:
			t.Fatalf("no %s delivery", name)
		}
	}
}

// A whole chat through the face: the customer, the hand-off's rules, a
// customer message once per externalId, an attachment by the presigned
// form, the agent's join, message and end as webhooks, and pages.
func TestFaceChat(t *testing.T) {
	desk, call, got := harness(t, 2)
	ctx := context.Background()
	if st, _ := call("POST", "/v1/customers", `{}`); st != 201 {
		t.Fatalf("customer: %d", st)
	}
	st, c := call("POST", "/v1/customers", `{"name":"Jane","externalId":"crm-1"}`)
	if st != 201 {
		t.Fatalf("customer: %d", st)
	}
	cid := data(c)["id"].(string)
	if st, out := call("POST", "/v1/customers", `{"externalId":"crm-1"}`); st != 409 || out["errors"] == nil {
		t.Fatalf("second customer: %d %v", st, out)
	}
	if st, out := call("GET", "/v1/customers/externalId=crm-1", ""); st != 200 || data(out)["id"] != cid {
		t.Fatalf("by externalId: %d %v", st, out)
	}
	if st, _ := call("POST", "/v2.1/chat/handoff", `{"customerId":"`+cid+`","from":"bot","messages":[{"direction":"out","body":"hi","date":"2026-01-01T10:00:00Z"}]}`); st != 400 {
		t.Fatalf("one message: %d, want 400", st)
	}
	st, s := call("POST", "/v2.1/chat/handoff", `{"customerId":"`+cid+`","from":"bot","externalId":"ext","messages":[`+
		`{"direction":"out","body":"How can I help?","date":"2026-01-01T10:00:00Z"},{"direction":"in","body":"A human, please","date":"2026-01-01T10:00:01Z"}]}`)
	if st != 201 || data(s)["type"] != "chat_session" {
		t.Fatalf("handoff: %d %v", st, s)
	}
	sid := data(s)["id"].(string)
	chat, err := desk.AwaitChatID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := desk.AgentJoin(ctx, chat, servicedesk.AgentProfile{ID: "u-ada", Nickname: "Ada"}); err != nil {
		t.Fatal(err)
	}
	up := await(t, got, "kustomer.conversation.update", func(b map[string]any) bool { return strings.Contains(jsonOf(b["changes"]), "assignedUsers") })
	if data(up)["id"] != sid || !strings.Contains(jsonOf(data(up)), `"assignedUsers":["u-ada"]`) {
		t.Fatalf("assignment %v", up)
	}
	if st, u := call("GET", "/v1/users/u-ada", ""); st != 200 || data(u)["attributes"].(map[string]any)["displayName"] != "Ada" {
		t.Fatalf("user: %d %v", st, u)
	}

	msg := `{"customerId":"` + cid + `","session":"` + sid + `","body":"my card","externalId":"m1"}`
	_, m1 := call("POST", "/v2.1/chat/messages", msg)
	_, m2 := call("POST", "/v2.1/chat/messages", msg)
	if data(m1)["id"] == nil || data(m1)["id"] != data(m2)["id"] {
		t.Fatalf("a resent externalId made another message: %v %v", m1, m2)
	}
	if got, err := desk.AwaitCustomerMessage(ctx, chat); err != nil || got.Input.Text != "my card" {
		t.Fatalf("desk got %+v, %v", got, err)
	}

	// An attachment: the record, the presigned form, the message.
	_, a := call("POST", "/v1/attachments", `{"name":"a.txt","contentType":"text/plain","contentLength":5}`)
	upload := a["meta"].(map[string]any)["upload"].(map[string]any)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for k, v := range upload["fields"].(map[string]any) {
		_ = mw.WriteField(k, v.(string))
	}
	fw, _ := mw.CreateFormFile("file", "a.txt")
	_, _ = fw.Write([]byte("hello"))
	_ = mw.Close()
	resp, err := http.Post(upload["url"].(string), mw.FormDataContentType(), &form)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("upload: %v %v", resp, err)
	}
	resp.Body.Close()
	aid := data(a)["id"].(string)
	if st, out := call("POST", "/v2.1/chat/messages", `{"customerId":"`+cid+`","session":"`+sid+`","attachments":[{"_id":"`+aid+`"}]}`); st != 201 {
		t.Fatalf("attachment message: %d %v", st, out)
	}
	if f, err := desk.AwaitCustomerFile(ctx, chat); err != nil || f.File.Name != "a.txt" {
		t.Fatalf("desk file %+v, %v", f, err)
	}

	if _, err := desk.AgentSay(ctx, chat, servicedesk.NewResponse(servicedesk.TextItem("Sorry!"), servicedesk.LinkButtonItem("Form", "https://example.com/f"))); err != nil {
		t.Fatal(err)
	}
	out := await(t, got, "kustomer.message.create", func(b map[string]any) bool { return strings.Contains(jsonOf(b), `"direction":"out"`) })
	if !strings.Contains(jsonOf(out), `Sorry!\n\n[Form](https://example.com/f)`) || !strings.Contains(jsonOf(out), `"id":"u-ada"`) {
		t.Fatalf("agent message %v", out)
	}
	_, newest := call("GET", "/v2.1/chat/sessions/"+sid+"/messages?pageSize=2&sort=-createdAt", "")
	page := newest["data"].([]any)
	if len(page) != 2 || page[0].(map[string]any)["attributes"].(map[string]any)["direction"] != "out" || newest["links"].(map[string]any)["next"] == nil {
		t.Fatalf("newest page %v", newest)
	}

	if err := desk.DeskEnd(ctx, chat, "resolved"); err != nil {
		t.Fatal(err)
	}
	await(t, got, "kustomer.conversation.update", func(b map[string]any) bool { return strings.Contains(jsonOf(b["changes"]), `"after":"done"`) })
	if st, conv := call("GET", "/v1/conversations/"+sid, ""); st != 200 || data(conv)["attributes"].(map[string]any)["status"] != "done" {
		t.Fatalf("conversation %d %v", st, conv)
	}
	if st, _ := call("POST", "/v2.1/chat/messages", `{"customerId":"`+cid+`","session":"`+sid+`","body":"late"}`); st != 409 {
		t.Fatalf("message to an ended session: %d, want 409", st)
	}
}

// The face refuses what Kustomer refuses: a wrong key, a bad page, a
// refused chat, and injected REST faults with Retry-After.
func TestFaceRefusals(t *testing.T) {
	desk, call, got := harness(t, 0)
	ctx := context.Background()
	_, c := call("POST", "/v1/customers", `{"externalId":"x"}`)
	cid := data(c)["id"].(string)
	handoff := `{"customerId":"` + cid + `","from":"bot","messages":[{"direction":"out","body":"a","date":"2026-01-01T10:00:00Z"},{"direction":"in","body":"b","date":"2026-01-01T10:00:01Z"}]}`
	if err := desk.RefuseNextChat(ctx, "All agents are offline"); err != nil {
		t.Fatal(err)
	}
	// Kustomer takes the import; the desk closes the conversation.
	if st, out := call("POST", "/v2.1/chat/handoff", handoff); st != 201 {
		t.Fatalf("refused chat: %d %v", st, out)
	}
	await(t, got, "kustomer.conversation.update", func(b map[string]any) bool { return strings.Contains(jsonOf(b["changes"]), `"after":"done"`) })
	if _, err := desk.AwaitChatID(ctx); err != nil {
		t.Fatal(err)
	}
	_, s := call("POST", "/v2.1/chat/handoff", handoff)
	sid := data(s)["id"].(string)
	if st, _ := call("GET", "/v2.1/chat/sessions/"+sid+"/messages?pageSize=500", ""); st != 400 {
		t.Fatalf("pageSize 500: %d", st)
	}
	chat, err := desk.AwaitChatID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	desk.SetFaults(mockdesk.Faults{REST: mockdesk.HTTPFaults{Rate429: 1, RetryAfter: mockdesk.Duration(2 * time.Second)}})
	if st, out := call("GET", "/v1/conversations/"+sid, ""); st != 429 || out["errors"] == nil {
		t.Fatalf("with 429 faults: %d %v", st, out)
	}
	desk.SetFaults(mockdesk.Faults{})
	if err := desk.DropConnections(ctx, chat); err != nil {
		t.Fatal(err)
	}
	if st, _ := call("GET", "/v1/conversations/"+sid, ""); st != 503 {
		t.Fatalf("cut off: %d, want 503", st)
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }
