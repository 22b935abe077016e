package salesforceface_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	salesforceface "github.com/deskbridge/deskbridge/mock-desk/faces/salesforce"
)

const org = "00D000000000001"

type client struct {
	t    *testing.T
	url  string
	auth string
}

func (c *client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.url+path, rd)
	if c.auth != "" {
		req.Header.Set("Authorization", "Bearer "+c.auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestFace: a token, a conversation, an agent's join and message on the
// stream, a replay after Last-Event-Id, the entries list, and refusals of
// what the API refuses.
func TestFace(t *testing.T) {
	d, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	srv := httptest.NewServer(salesforceface.New(d, salesforceface.Options{OrgID: org, DeveloperName: "Web"}))
	defer srv.Close()
	c := &client{t: t, url: srv.URL}
	if code, _ := c.do("POST", "/iamessage/api/v2/authorization/unauthenticated/access-token", map[string]any{"orgId": "00Dother", "esDeveloperName": "Web", "capabilitiesVersion": "1", "platform": "Web"}); code != 400 {
		t.Fatalf("another org: %d", code)
	}
	code, tok := c.do("POST", "/iamessage/api/v2/authorization/unauthenticated/access-token", map[string]any{"orgId": org, "esDeveloperName": "Web", "capabilitiesVersion": "1", "platform": "Web"})
	if code != 200 || tok["accessToken"] == "" || tok["lastEventId"] != "0" {
		t.Fatalf("token: %d %v", code, tok)
	}
	if code, _ := c.do("POST", "/iamessage/api/v2/conversation", map[string]any{}); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	c.auth = tok["accessToken"].(string)
	if code, _ := c.do("POST", "/iamessage/api/v2/conversation", map[string]any{"conversationId": "NOT-A-UUID", "esDeveloperName": "Web"}); code != 400 {
		t.Fatalf("bad id: %d", code)
	}
	conv := "5b1e0f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	if code, _ := c.do("POST", "/iamessage/api/v2/conversation", map[string]any{"conversationId": conv, "esDeveloperName": "Web", "routingAttributes": map[string]string{"Summary": "refund"}}); code != 201 {
		t.Fatalf("create: %d", code)
	}
	ctx := context.Background()
	chatID, err := d.AwaitChatID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := d.ChatSummary(chatID); s != "refund" {
		t.Fatalf("summary %q", s)
	}
	if err := d.AgentJoin(ctx, chatID, servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AgentSay(ctx, chatID, servicedesk.TextResponse("hello")); err != nil {
		t.Fatal(err)
	}
	read := func(last string, want int) []string {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/eventrouter/v1/sse", nil)
		req.Header.Set("Authorization", "Bearer "+c.auth)
		req.Header.Set("X-Org-Id", org)
		req.Header.Set("Last-Event-Id", last)
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(cctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got []string
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		id := ""
		for sc.Scan() && len(got) < want {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(line, "event: "); ok && v != "ping" {
				got = append(got, id+" "+v)
			}
		}
		return got
	}
	all := read("", 3)
	if len(all) != 3 || !strings.HasSuffix(all[0], "CONVERSATION_ROUTING_RESULT") || !strings.HasSuffix(all[1], "CONVERSATION_PARTICIPANT_CHANGED") || !strings.HasSuffix(all[2], "CONVERSATION_MESSAGE") {
		t.Fatalf("stream %v", all)
	}
	after := strings.Fields(all[1])[0]
	if again := read(after, 1); len(again) != 1 || again[0] != all[2] {
		t.Fatalf("replay after %s: %v", after, again)
	}
	code, list := c.do("GET", "/iamessage/api/v2/conversation/"+conv+"/entries?direction=FromStart&limit=50", nil)
	entries, _ := list["conversationEntries"].([]any)
	if code != 200 || len(entries) != 3 {
		t.Fatalf("entries %d %v", code, list)
	}
	last := entries[2].(map[string]any)
	if last["entryType"] != "Message" || last["entryPayload"].(map[string]any)["abstractMessage"].(map[string]any)["staticContent"].(map[string]any)["text"] != "hello" {
		t.Fatalf("entry %v", last)
	}
	if code, _ := c.do("POST", "/iamessage/api/v2/conversation/"+conv+"/message", map[string]any{"message": map[string]any{"id": "m-1", "messageType": "StaticContentMessage", "staticContent": map[string]any{"formatType": "Text", "text": "hi"}}, "esDeveloperName": "Web"}); code != 202 {
		t.Fatalf("send: %d", code)
	}
	if code, _ := c.do("POST", "/iamessage/api/v2/conversation/"+conv+"/message", map[string]any{"message": map[string]any{"id": "m-1", "messageType": "StaticContentMessage", "staticContent": map[string]any{"formatType": "Text", "text": "other"}}, "esDeveloperName": "Web"}); code != 409 {
		t.Fatalf("an id reused for another message: %d", code)
	}
	if msgs, _ := d.CustomerMessages(chatID); len(msgs) != 1 || msgs[0].IdempotencyKey != "m-1" {
		t.Fatalf("desk messages %+v", msgs)
	}
	if code, _ := c.do("DELETE", "/iamessage/api/v2/conversation/"+conv+"?esDeveloperName=Web", nil); code != 204 {
		t.Fatalf("close: %d", code)
	}
	code, open := c.do("GET", "/iamessage/api/v2/conversation/list?inclClosedConvs=false", nil)
	if code != 200 || open["openConversationsFound"] != 0.0 {
		t.Fatalf("list after close: %v", open)
	}
}
