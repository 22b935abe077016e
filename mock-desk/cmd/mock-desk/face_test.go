package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFaceFlag: -face puts a vendor's wire format in front of the desk;
// the console stays where it was.
func TestFaceFlag(t *testing.T) {
	for _, c := range []struct{ face, method, path string }{
		{"chatwoot", "POST", "/api/v1/accounts/1/conversations/1/toggle_status"},              // the application API without a bot token: 401
		{"connect", "PUT", "/contact/chat"},                                                   // StartChatContact without SigV4: 403
		{"egain", "POST", "/initialize"},                                                      // initialize without the customer id: 401
		{"genesys", "GET", "/api/v2/webmessaging/messages"},                                   // history without a JWT: 401
		{"kustomer", "POST", "/v2.1/chat/handoff"},                                            // the chat API without the API key: 401
		{"livechat", "POST", "/v3.6/customer/action/list_group_statuses?organization_id=org"}, // a Web API call without a customer token: 401
		{"oracle", "POST", "/services/rest/crossChannelServices/latest/establishSessions"},    // no Basic auth: 401
		{"salesforce", "POST", "/iamessage/api/v2/conversation"},                              // a conversation without an access token: 401
		{"twilio", "GET", "/v1/Conversations/CH1"},                                            // no Basic auth: 401
		{"zendesk", "POST", "/v2/apps/5ebee0975ac5304b664a12fa/users"},                        // a user without the API key: 401
	} {
		t.Run(c.face, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"-port", "0", "-face", c.face, "-log-level", "warn"}, pw, func(string) string { return "secret" })
				_ = pw.Close()
			}()
			sc := bufio.NewScanner(pr)
			var console string
			for sc.Scan() {
				if u, ok := strings.CutPrefix(sc.Text(), "agent console: "); ok {
					console = u
					break
				}
			}
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			base := strings.TrimSuffix(console, "/console/")
			client := &http.Client{Timeout: 5 * time.Second}
			defer client.CloseIdleConnections()
			req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader("{}"))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 403 && resp.StatusCode != 401 {
				t.Fatalf("%s %s through -face %s: %d, want the face's refusal", c.method, c.path, c.face, resp.StatusCode)
			}
			if resp, err := client.Get(console); err != nil || resp.StatusCode != 200 {
				t.Fatalf("console behind the face: %v %v", resp, err)
			} else {
				resp.Body.Close()
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no shutdown")
			}
		})
	}
	if err := run(context.Background(), []string{"-face", "nosuchface"}, io.Discard, func(string) string { return "" }); err == nil {
		t.Fatal("an unknown face was accepted")
	}
}
