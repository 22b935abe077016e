package oracleface_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	oracleface "github.com/deskbridge/deskbridge/mock-desk/faces/oracle"
)

type client struct {
	t                 *testing.T
	base, jwt, sessID string
	engagement        string // the consumer API's base, from establishSessions
	pool              string
}

func (c *client) do(method, path string, body any, basic bool) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	u := c.base + path
	if !basic {
		u = c.engagement + path
	}
	req, _ := http.NewRequest(method, u, rd)
	if basic {
		req.SetBasicAuth("chat_api", "secret")
	} else {
		req.Header.Set("Authorization", "Bearer "+c.jwt)
		if c.sessID != "" {
			req.Header.Set("SessionId", c.sessID)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func names(out map[string]any) []string {
	msgs, _ := out["systemMessages"].([]any)
	var n []string
	for _, m := range msgs {
		n = append(n, m.(map[string]any)["messageName"].(string))
	}
	return n
}

func world(t *testing.T, opts oracleface.Options) (*mockdesk.Desk, *oracleface.Face, *client) {
	d, err := mockdesk.New(mockdesk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts.User, opts.Password = "chat_api", "secret"
	f := oracleface.New(d, opts)
	srv := httptest.NewServer(f)
	t.Cleanup(func() { _ = d.Close(); srv.CloseClientConnections(); srv.Close() })
	c := &client{t: t, base: srv.URL}
	info, _ := json.Marshal(map[string]any{"firstName": "Jo", "lastName": "Doe", "emailAddress": "jo@example.com", "question": "refund please",
		"customFields": []map[string]string{{"name": "c$tier", "type": "STRING", "value": "gold"}}})
	code, est := c.do("POST", oracleface.EstablishPath, map[string]any{"sessionInformation": string(info)}, true)
	if code != 200 {
		t.Fatalf("establishSessions: %d %v", code, est)
	}
	var server struct {
		Domain string `json:"domain"`
		Pool   string `json:"pool"`
		Port   int    `json:"port"`
	}
	if err := json.Unmarshal([]byte(est["sessionServerResponse"].(string)), &server); err != nil || server.Pool == "" {
		t.Fatalf("sessionServerResponse %v: %v", est["sessionServerResponse"], err)
	}
	c.jwt, c.pool = est["jwt"].(string), server.Pool
	c.engagement = "http://" + server.Domain + ":" + itoa(server.Port) + "/engagement/api/consumer/" + est["siteName"].(string) + "/v1/"
	return d, f, c
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestFace: establishSessions, an engagement with the hand-off, the held
// getMessages carrying the agent's join, message, typing and end in
// sequence, postMessage, activity and getQueueStats, and the refusals.
func TestFace(t *testing.T) {
	d, f, c := world(t, oracleface.Options{Hold: 2 * time.Second})
	ctx := context.Background()
	q := "?pool=" + url.QueryEscape(c.pool)
	if code, _ := (&client{t: t, base: c.base, engagement: c.base}).do("POST", oracleface.EstablishPath, map[string]any{}, false); code != 401 {
		t.Fatalf("establishSessions without Basic credentials: %d", code)
	}
	if code, _ := c.do("POST", "requestEngagement?pool=other", map[string]any{}, false); code != 400 {
		t.Fatalf("another pool: %d", code)
	}
	code, eng := c.do("POST", "requestEngagement"+q, map[string]any{"clientTransactionId": 7}, false)
	if code != 200 || eng["sessionId"] == "" || eng["clientTransactionId"] != 7.0 {
		t.Fatalf("requestEngagement: %d %v", code, eng)
	}
	ac, err := d.AwaitChat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chatID := ac.ID()
	if s, _ := d.ChatSummary(chatID); s != "refund please" {
		t.Fatalf("summary %q", s)
	}
	if code, _ := c.do("POST", "getMessages"+q, map[string]any{}, false); code != 404 {
		t.Fatalf("getMessages without SessionId: %d", code)
	}
	c.sessID = eng["sessionId"].(string)
	if code, out := c.do("GET", "getQueueStats"+q+"&request="+url.QueryEscape(`{"queueId":1,"chatProactiveAvailableType":"AGENTS"}`), nil, false); code != 200 || out["availableAgentSessions"].(float64) < 1 {
		t.Fatalf("getQueueStats: %d %v", code, out)
	}
	ada := servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}
	if err := d.AgentJoin(ctx, chatID, ada); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AgentSay(ctx, chatID, servicedesk.NewResponse(servicedesk.TextItem("hello"), servicedesk.LinkButtonItem("Form", "https://example.com/f"))); err != nil {
		t.Fatal(err)
	}
	var all []map[string]any
	for len(all) < 3 {
		code, out := c.do("POST", "getMessages"+q, map[string]any{}, false)
		if code != 200 {
			t.Fatalf("getMessages: %d %v", code, out)
		}
		for _, m := range out["systemMessages"].([]any) {
			all = append(all, m.(map[string]any))
		}
	}
	if all[0]["messageName"] != "RNEngagementWaitInformationChangedMessage" || all[1]["messageName"] != "RNEngagementParticipantAddedMessage" || all[2]["messageName"] != "RNEngagementMessagePostedMessage" {
		t.Fatalf("messages %v", all)
	}
	for i, m := range all {
		if m["sequenceNumber"] != float64(i+1) {
			t.Fatalf("message %d has sequenceNumber %v", i, m["sequenceNumber"])
		}
	}
	if all[2]["body"] != "hello\n\n[Form](https://example.com/f)" {
		t.Fatalf("body %q", all[2]["body"])
	}
	if p, ok := f.Agent(all[1]["clientIdString"].(string)); !ok || p.ID != ada.ID || p.Nickname != ada.Nickname {
		t.Fatalf("Agent(%v) = %v %v", all[1]["clientIdString"], p, ok)
	}
	if code, _ := c.do("POST", "postMessage"+q, map[string]any{"body": "my card", "clientTransactionId": 42}, false); code != 200 {
		t.Fatalf("postMessage: %d", code)
	}
	m, err := d.AwaitCustomerMessageInfo(ctx, chatID)
	if err != nil || m.Request.ID != "42" || m.Request.Input.Text != "my card" {
		t.Fatalf("desk message %+v %v", m, err)
	}
	if code, _ := c.do("POST", "postMessage"+q, map[string]any{"body": "again", "clientTransactionId": 43, "messageId": "engine-7"}, false); code != 200 {
		t.Fatalf("postMessage with a messageId: %d", code)
	}
	if m, err := d.AwaitCustomerMessageInfo(ctx, chatID); err != nil || m.Request.ID != "engine-7" {
		t.Fatalf("the client's messageId names the desk message: %+v %v", m, err)
	}
	if code, _ := c.do("POST", "activity"+q, map[string]any{"mode": "RESPONDING"}, false); code != 200 {
		t.Fatalf("activity: %d", code)
	}
	if on, err := d.AwaitCustomerTyping(ctx, chatID); err != nil || !on {
		t.Fatalf("typing %v %v", on, err)
	}
	if code, _ := c.do("POST", "activity"+q, map[string]any{"mode": "DANCING"}, false); code != 400 {
		t.Fatalf("a mode that is no activity: %d", code)
	}
	if err := ac.End(ctx); err != nil {
		t.Fatal(err)
	}
	code, out := c.do("POST", "getMessages"+q, map[string]any{}, false)
	if n := names(out); code != 200 || len(n) != 1 || n[0] != "RNEngagementConcludedMessage" {
		t.Fatalf("after the agent's end: %d %v", code, out)
	}
	if code, _ := c.do("POST", "getMessages"+q, map[string]any{}, false); code != 409 {
		t.Fatalf("getMessages after the conclusion: %d", code)
	}
	if f.PeakGetMessages(c.sessID) != 1 {
		t.Fatalf("peak in flight %d", f.PeakGetMessages(c.sessID))
	}
	c.jwt = "expired"
	if code, _ := c.do("POST", "postMessage"+q, map[string]any{"body": "x"}, false); code != 401 {
		t.Fatalf("a wrong JWT: %d", code)
	}
}

// TestFaceHeldRequestFaults: a stalled getMessages is held and answered
// empty, a dropped one gets no answer, and neither loses the messages: the
// next request has them, each once.
func TestFaceHeldRequestFaults(t *testing.T) {
	d, _, c := world(t, oracleface.Options{Hold: 300 * time.Millisecond})
	ctx := context.Background()
	q := "?pool=" + url.QueryEscape(c.pool)
	_, eng := c.do("POST", "requestEngagement"+q, map[string]any{}, false)
	c.sessID = eng["sessionId"].(string)
	chatID, _ := d.AwaitChatID(ctx)
	if code, out := c.do("POST", "getMessages"+q, map[string]any{}, false); code != 200 || len(names(out)) != 1 {
		t.Fatalf("first getMessages: %d %v", code, out)
	}
	d.SetFaults(mockdesk.Faults{Poll: mockdesk.PollFaults{StallRate: 1}})
	if err := d.AgentJoin(ctx, chatID, servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if code, out := c.do("POST", "getMessages"+q, map[string]any{}, false); code != 200 || len(names(out)) != 0 || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("stalled getMessages: %d %v after %v", code, out, time.Since(start))
	}
	d.SetFaults(mockdesk.Faults{})
	// A held request dropped mid-wait: no answer at all.
	done := make(chan int, 1)
	go func() {
		code, _ := c.do("POST", "getMessages"+q, map[string]any{}, false)
		done <- code
	}()
	if code, out := c.do("POST", "getMessages"+q, map[string]any{}, false); code != 200 || len(names(out)) != 1 {
		// The goroutine's request may have taken the join; then this one
		// was held behind it and answered empty.
		if code != 200 || len(names(out)) != 0 {
			t.Fatalf("getMessages: %d %v", code, out)
		}
		if c2 := <-done; c2 != 200 {
			t.Fatalf("the other getMessages: %d", c2)
		}
	} else {
		<-done
	}
	held := make(chan int, 1)
	go func() {
		code, _ := c.do("POST", "getMessages"+q, map[string]any{}, false)
		held <- code
	}()
	time.Sleep(100 * time.Millisecond)
	if err := d.DropConnections(ctx, chatID); err != nil {
		t.Fatal(err)
	}
	if code := <-held; code != -1 {
		t.Fatalf("a dropped getMessages was answered %d", code)
	}
	if _, err := d.AgentSay(ctx, chatID, servicedesk.TextResponse("still here")); err != nil {
		t.Fatal(err)
	}
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		if code, out := c.do("POST", "getMessages"+q, map[string]any{}, false); code == 200 {
			got = names(out)
		} else {
			time.Sleep(50 * time.Millisecond) // the partition after a drop
		}
	}
	if len(got) != 1 || got[0] != "RNEngagementMessagePostedMessage" {
		t.Fatalf("after the drop: %v", got)
	}
	d.SetFaults(mockdesk.Faults{Poll: mockdesk.PollFaults{HTTPFaults: mockdesk.HTTPFaults{Rate429: 1}}})
	if code, _ := c.do("POST", "getMessages"+q, map[string]any{}, false); code != 429 {
		t.Fatalf("poll 429 fault: %d", code)
	}
}
