package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestOriginsExact: an origin is exactly scheme://host[:port]; userinfo, a
// path, a query or another scheme than the gateway's own are refused, and
// a page on a name that points at the gateway (DNS rebinding) is not its
// own origin. Before, userinfo and paths passed and were echoed back, the
// own-origin check ignored the scheme, and a rebinding page passed.
func TestOriginsExact(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AllowedOrigins = []string{"https://shop.example.com", "https://app.example.com/"} })
	own := e.srv.URL // http://127.0.0.1:port
	port := own[strings.LastIndexByte(own, ':'):]
	for _, tc := range []struct {
		origin, host string
		ok           bool
	}{
		{"https://shop.example.com", "", true},
		{"https://app.example.com", "", true}, // listed with a trailing slash
		{own, "", true},
		{"https://user@shop.example.com", "", false},
		{"https://shop.example.com/path", "", false},
		{"https://shop.example.com/", "", false},
		{"https://shop.example.com?x", "", false},
		{"ftp://shop.example.com", "", false},
		{strings.Replace(own, "http://", "https://", 1), "", false},
		{"http://evil.example" + port, "evil.example" + port, false}, // rebinding
	} {
		req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/v1/history", nil)
		req.Header.Set("Origin", tc.origin)
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := http.DefaultClient.Do(req)
		mustf(t, err, "preflight")
		resp.Body.Close()
		if got := resp.StatusCode == http.StatusNoContent; got != tc.ok {
			t.Errorf("origin %q (Host %q): status %d, want allowed %v", tc.origin, tc.host, resp.StatusCode, tc.ok)
		}
		if !tc.ok && resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("origin %q echoed back", tc.origin)
		}
	}
}

// TestAllowedHosts: with AllowedHosts set, a request under another Host is
// refused, and the own origin counts only under a listed host.
func TestAllowedHosts(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AllowedHosts = []string{"chat.example.com", "127.0.0.1"} })
	for host, want := range map[string]int{"chat.example.com": 200, "127.0.0.1": 200, "evil.example": http.StatusMisdirectedRequest} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/deskbridge.js", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		mustf(t, err, "get")
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
}

// TestErrorBodiesInWords: error frames and bodies carry a code and a
// sentence, never Go type names, parser internals or session ids. Before,
// a bad argument was answered with encoding/json's message.
func TestErrorBodiesInWords(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect("", ModeFlow, 0)
	var texts []string
	for _, args := range []any{
		map[string]any{"message": "not an object"},
		map[string]any{"message": map[string]any{"input": map[string]any{"text": 7}}},
		map[string]any{"fileIDs": "not a list"},
	} {
		f := c.call(OpSendMessageToAgent, args)
		if f.Type != typeError || f.Error.Code != CodeBadArgs {
			t.Fatalf("%v: %+v", args, f)
		}
		texts = append(texts, f.Error.Message)
	}
	f := c.call(OpUserTyping, map[string]any{"isTyping": true}) // no chat
	if f.Type != typeError || f.Error.Code != CodeNoChat {
		t.Fatalf("typing without a chat: %+v", f)
	}
	texts = append(texts, f.Error.Message)
	mustf(t, c.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"ping","id":"x",}`)), "write")
	texts = append(texts, c.next("bad json", func(f frame) bool { return f.Type == typeError }).Error.Message)
	resp, err := http.Get(e.srv.URL + "/ws")
	mustf(t, err, "get /ws")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	texts = append(texts, string(b))
	for _, msg := range texts {
		for _, bad := range []string{"Go value", "Go struct", "servicedesk.", "flow:", "json:", "websocket:", c.welcome.Session} {
			if strings.Contains(msg, bad) {
				t.Errorf("error text %q shows %q", msg, bad)
			}
		}
	}
}
