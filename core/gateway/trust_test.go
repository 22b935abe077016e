package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
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
	c := e.connect("", modeFlow, 0)
	var texts []string
	for _, args := range []any{
		map[string]any{"message": "not an object"},
		map[string]any{"message": map[string]any{"input": map[string]any{"text": 7}}},
		map[string]any{"fileIDs": "not a list"},
	} {
		f := c.call(opSendMessageToAgent, args)
		if f.Type != typeError || f.Error.Code != codeBadArgs {
			t.Fatalf("%v: %+v", args, f)
		}
		texts = append(texts, f.Error.Message)
	}
	f := c.call(opUserTyping, map[string]any{"isTyping": true}) // no chat
	if f.Type != typeError || f.Error.Code != codeNoChat {
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

// TestStrictUploads: a file's extension must be on the allowlist and
// agree with its declared type and its content; control and direction
// characters in names are refused. Before, an HTML file with a PNG header
// named invoice.html, and a name with CR LF given by filename*, passed.
func TestStrictUploads(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.UploadTypes = "image/*,.pdf,.txt" })
	c := e.connect("", modeFlow, 0)
	e.startAndJoin(c)
	jpeg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 64)...)
	polyglot := append(append([]byte{}, pngBytes...), "<html><script>alert(1)</script></html>"...)
	disp := func(name string) string { return `form-data; name="file"; filename="` + name + `"` }
	for i, tc := range []struct {
		disposition, typ string
		data             []byte
		status           int
	}{
		{disp("receipt.png"), "image/png", pngBytes, http.StatusCreated},
		{disp("scan.jpg"), "image/jpg", jpeg, http.StatusCreated},
		{disp("notes.txt"), "text/plain; charset=utf-8", []byte("plain words"), http.StatusCreated},
		{disp("invoice.html"), "image/png", polyglot, http.StatusUnsupportedMediaType},
		{disp("setup.exe"), "application/octet-stream", []byte("MZ\x90\x00"), http.StatusUnsupportedMediaType},
		{disp("logo.svg"), "image/svg+xml", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), http.StatusUnsupportedMediaType},
		{disp("README"), "text/plain", []byte("words"), http.StatusUnsupportedMediaType},
		{disp("cat.png"), "text/plain", pngBytes, http.StatusUnsupportedMediaType},
		{disp("notes.txt"), "text/plain", []byte("<html><script>alert(1)</script>"), http.StatusUnsupportedMediaType},
		{disp("photo.png"), "image/png", jpeg, http.StatusUnsupportedMediaType},
		{`form-data; name="file"; filename*=UTF-8''evil%0D%0AX-Injected%3A%201.png`, "image/png", pngBytes, http.StatusBadRequest},
		{`form-data; name="file"; filename*=UTF-8''invoice%E2%80%AEfdp.png`, "image/png", pngBytes, http.StatusBadRequest},
	} {
		code, ecode := e.uploadAs(c.welcome.Token, fmt.Sprint("f", i), tc.disposition, tc.typ, tc.data)
		if code != tc.status {
			t.Errorf("%s as %s: %d %s, want %d", tc.disposition, tc.typ, code, ecode, tc.status)
		}
	}
}

// TestBrowserClaimsMarked: the hand-off summary, the message to the agent
// and the preStartChatPayload a browser sends reach the desk marked as the
// user's, unless TrustConnectMessage vouches for them. Before, a user
// could tell the agent, as "the bot", that the bot had verified them.
func TestBrowserClaimsMarked(t *testing.T) {
	claim := servicedesk.NewResponse(servicedesk.GenericItem{
		ResponseType:        servicedesk.ResponseConnectToAgent,
		MessageToHumanAgent: "bot: identity verified",
		TransferInfo:        &servicedesk.TransferInfo{SummaryMessageToAgent: []servicedesk.GenericItem{servicedesk.TextItem("The bot verified this user's identity.")}},
	})
	for _, trusted := range []bool{false, true} {
		var seen flow.PreStartChat
		var mu sync.Mutex
		e := newEnv(t, func(o *Options) {
			o.Flow.PreStartChat = func(_ context.Context, ev *flow.PreStartChat) error {
				mu.Lock()
				seen = *ev
				mu.Unlock()
				return nil
			}
			if trusted {
				o.TrustConnectMessage = func(context.Context, servicedesk.MessageResponse, json.RawMessage) bool { return true }
			}
		})
		c := e.connect("", modeFlow, 0)
		c.mustCall(opStartChat, map[string]any{"connectMessage": claim, "options": map[string]any{"preStartChatPayload": map[string]any{"verified": true}}})
		chat, err := e.desk.NextChat(ctxT(t))
		mustf(t, err, "chat")
		mu.Lock()
		summary, _, _ := seen.ConnectMessage.Handoff()
		item, _ := seen.ConnectMessage.ConnectToAgent()
		payload := string(seen.Payload)
		mu.Unlock()
		marked := strings.HasPrefix(summary, fromUserLabel) && strings.HasPrefix(item.MessageToHumanAgent, fromUserLabel) &&
			strings.Contains(chat.Summary(), fromUserLabel) && payload == `{"from_user":{"verified":true}}`
		plain := summary == "The bot verified this user's identity." && payload == `{"verified":true}`
		if trusted && !plain || !trusted && !marked {
			t.Errorf("trusted %v: summary %q, message %q, desk summary %q, payload %s", trusted, summary, item.MessageToHumanAgent, chat.Summary(), payload)
		}
	}
}

// TestBrowserTranscript: a page's transcript reaches the desk in the
// hand-off, marked as the browser's unless TrustConnectMessage vouches for
// the request; turns of anyone but the user and the bot are dropped.
func TestBrowserTranscript(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		var seen servicedesk.Handoff
		var mu sync.Mutex
		e := newEnv(t, func(o *Options) {
			o.Flow.PreStartChat = func(_ context.Context, ev *flow.PreStartChat) error {
				mu.Lock()
				seen = ev.Handoff
				mu.Unlock()
				return nil
			}
			if trusted {
				o.TrustConnectMessage = func(context.Context, servicedesk.MessageResponse, json.RawMessage) bool { return true }
			}
		})
		c := e.connect("", modeFlow, 0)
		c.mustCall(opStartChat, map[string]any{"connectMessage": connectMessage(), "transcript": []map[string]any{
			{"from": "user", "text": "my card was declined", "at": "2026-12-02T04:00:00Z"},
			{"from": "agent", "text": "I am the agent, trust me"},
			{"from": "bot", "text": "Let me get you a person."},
			{"from": "user", "text": ""},
		}})
		_, err := e.desk.NextChat(ctxT(t))
		mustf(t, err, "chat")
		mu.Lock()
		h := seen
		mu.Unlock()
		if len(h.Transcript) != 2 || h.Transcript[0].Text != "my card was declined" || h.Transcript[1].From != servicedesk.TurnBot ||
			!h.Transcript[0].At.Equal(time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)) {
			t.Errorf("transcript %+v", h.Transcript)
		}
		if h.TranscriptUnverified == trusted {
			t.Errorf("trusted %v: transcript unverified %v", trusted, h.TranscriptUnverified)
		}
	}
}
