package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/gorilla/websocket"
)

// TestTokens: a wrong, forged or missing token never opens a session, and
// a token opens only its own session.
func TestTokens(t *testing.T) {
	e := newEnv(t, nil)
	a := e.connect("", modeDesk, 0)
	b := e.connect("", modeDesk, 0)
	chatA := e.startAndJoin(a)
	_ = chatA

	// Ops before hello are refused; hello then works on the same socket.
	c, _, err := e.dial(nil)
	mustf(t, err, "dial")
	if f := c.call(opStartChat, nil); f.Type != typeError || f.Error.Code != codeHelloFirst {
		t.Fatalf("op before hello: %+v", f)
	}
	// Bad tokens: garbage, the right id with another session's tag, a
	// tag under another secret.
	other := newTokens([]byte("another secret"), time.Hour, time.Now)
	idA, tagB := a.welcome.Session, b.welcome.Token[strings.LastIndexByte(b.welcome.Token, '.'):]
	for _, tok := range []string{"nope", "s1." + idA + tagB, other.mint(idA), a.welcome.Token + "x", strings.Repeat("s1.", 300)} {
		c.send(map[string]any{"op": "hello", "id": "h", "token": tok})
		f := c.next("bad token answer", func(f frame) bool { return f.Re == "h" })
		if f.Type != typeError || f.Error.Code != codeBadToken {
			t.Fatalf("token %q: %+v", tok, f)
		}
	}
	// The socket is unharmed: a fresh hello works.
	c.hello("", modeDesk, 0)
	if c.welcome.Session == idA || c.welcome.Session == b.welcome.Session {
		t.Fatal("a new session reused an existing id")
	}

	// HTTP: no token, a bad token, and another session's token.
	get := func(tok string) (int, historyAnswer) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/history", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		mustf(t, err, "history")
		defer resp.Body.Close()
		var h historyAnswer
		_ = json.NewDecoder(resp.Body).Decode(&h)
		return resp.StatusCode, h
	}
	if st, _ := get(""); st != 401 {
		t.Fatalf("history without token: %d", st)
	}
	if st, _ := get("s1." + idA + tagB); st != 401 {
		t.Fatalf("history with a forged token: %d", st)
	}
	if st, h := get(b.welcome.Token); st != 200 || len(h.Items) != 0 || h.Active {
		t.Fatalf("B's token read %d items of A's chat (status %d)", len(h.Items), st)
	}

	// B cannot send A's upload.
	code, _ := e.upload(a.welcome.Token, "f1", "note.txt", "text/plain", []byte("secret of A"))
	if code != 201 {
		t.Fatalf("upload: %d", code)
	}
	f := b.call(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest("x"), "messageID": "m", "fileIDs": []string{"f1"}})
	if f.Type != typeError || f.Error.Code != codeUnknownFile {
		t.Fatalf("B sent A's file: %+v", f)
	}
}

// TestOrigins: the allowlist decides every handshake and HTTP call.
func TestOrigins(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AllowedOrigins = []string{"https://shop.example.com"} })
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://shop.example.com", true},
		{"https://SHOP.example.com:443", true},
		{"", true}, // not a browser
		{e.srv.URL, true},
		{"https://evil.example.com", false},
		{"https://shop.example.com.evil.example", false},
		{"http://shop.example.com", false},
		{"null", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		c, resp, err := e.dial(h)
		if tc.ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", tc.origin, err)
				continue
			}
			c.hello("", modeDesk, 0)
			continue
		}
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: err %v, resp %v: want 403", tc.origin, err, resp)
			continue
		}
		var body struct {
			Error errFrame `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if body.Error.Code != codeForbiddenOrigin {
			t.Errorf("origin %q: body %+v", tc.origin, body)
		}
	}
	// CORS preflight for uploads from an allowed and a foreign page.
	for origin, want := range map[string]int{"https://shop.example.com": 204, "https://evil.example.com": 403} {
		req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/v1/files", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		mustf(t, err, "preflight")
		resp.Body.Close()
		if resp.StatusCode != want || (want == 204 && resp.Header.Get("Access-Control-Allow-Origin") != origin) {
			t.Errorf("preflight from %s: %d %v", origin, resp.StatusCode, resp.Header)
		}
	}
	if n := e.gw.Stats().OriginRejected; n < 5 {
		t.Errorf("origin rejections counted: %d", n)
	}
}

// TestFrameLimits: an oversized frame is answered and dropped; a huge one
// closes the socket with 1009; the session survives both.
func TestFrameLimits(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxFrameBytes = 1024 })
	c := e.connect("", modeDesk, 0)
	chat := e.startAndJoin(c)
	big := strings.Repeat("x", 2000)
	c.send(map[string]any{"op": opSendMessageToAgent, "id": "big", "args": map[string]any{"message": servicedesk.NewTextRequest(big)}})
	f := c.next("frame_too_large", func(f frame) bool { return f.Type == typeError })
	if f.Error.Code != codeFrameTooLarge {
		t.Fatalf("oversized frame: %+v", f.Error)
	}
	// Still usable, and the message that fits arrives.
	c.mustCall(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest("small"), "messageID": "s"})
	if m, err := chat.AwaitMessage(ctxT(t)); err != nil || m.Text != "small" {
		t.Fatalf("after the big frame: %+v %v", m, err)
	}

	// Past 16× the limit the socket closes with 1009.
	huge := strings.Repeat("y", 20*1024)
	_ = c.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"ping","pad":"`+huge+`"}`))
	<-c.done
	var ce *websocket.CloseError
	if !errors.As(c.closed, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("huge frame closed with %v; want 1009", c.closed)
	}
	// The session is unharmed: resume and chat on.
	c2 := e.connect(c.welcome.Token, modeDesk, c.lastSeq)
	if c2.welcome.Snapshot.State != flow.StateConnected {
		t.Fatalf("state after 1009: %s", c2.welcome.Snapshot.State)
	}
	c2.mustCall(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest("again"), "messageID": "a"})
	if m, err := chat.AwaitMessage(ctxT(t)); err != nil || m.Text != "again" {
		t.Fatalf("after 1009: %+v %v", m, err)
	}
}

// TestRateLimit: a flood is refused frame by frame with retry_after_ms;
// what was accepted is all delivered, in order; after a pause the socket
// works again.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RatePerSecond = 10; o.Burst = 5 })
	c := e.connect("", modeDesk, 0)
	chat := e.startAndJoin(c)
	time.Sleep(600 * time.Millisecond) // refill after the setup calls
	const n = 40
	for i := range n {
		c.send(map[string]any{"op": opSendMessageToAgent, "id": jsonSeq(uint64(i)), "args": map[string]any{
			"message": servicedesk.NewTextRequest("m" + jsonSeq(uint64(i))), "messageID": "m" + jsonSeq(uint64(i))}})
	}
	var accepted []string
	limited := 0
	for i := range n {
		id := jsonSeq(uint64(i))
		f := c.next("answer "+id, func(f frame) bool { return f.Re == id })
		switch {
		case f.Type == typeResult:
			accepted = append(accepted, "m"+id)
		case f.Error.Code == codeRateLimited && f.Error.RetryAfterMS > 0:
			limited++
		default:
			t.Fatalf("answer %s: %+v", id, f)
		}
	}
	if limited == 0 || len(accepted) < 5 {
		t.Fatalf("accepted %d, limited %d", len(accepted), limited)
	}
	for _, want := range accepted {
		m, err := chat.AwaitMessage(ctxT(t))
		if err != nil || m.ID != want {
			t.Fatalf("desk got %+v (%v), want %s: accepted messages must all arrive in order", m, err, want)
		}
	}
	time.Sleep(200 * time.Millisecond)
	c.mustCall(opPing, nil)
	if e.gw.Stats().Errors[codeRateLimited] != int64(limited) {
		t.Errorf("stats %v, limited %d", e.gw.Stats().Errors, limited)
	}
}

// TestMalformedFrames: each bad frame gets a clear error; the socket and
// the session go on.
func TestMalformedFrames(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect("", modeDesk, 0)
	e.startAndJoin(c)
	cases := []struct {
		raw  string
		code string
	}{
		{`not json`, codeBadFrame},
		{`[1,2]`, codeBadFrame},
		{`{"op":"ping"} {"op":"ping"}`, codeBadFrame},
		{`{"id":"x"}`, codeBadFrame},
		{`{"op":"launchMissiles","id":"x"}`, codeUnknownOp},
		{`{"op":"userTyping","id":"x","args":{"isTyping":"yes"}}`, codeBadArgs},
		{`{"op":"userTyping","id":"x","args":{}}`, codeBadArgs},
		{`{"op":"startChat","id":"x","args":{"connectMessage":{"output":{"generic":7}}}}`, codeBadArgs},
		{`{"op":"screenShareAnswer","id":"x","args":{"state":"maybe"}}`, codeBadArgs},
		{`{"op":"filesSelectedForUpload","id":"x","args":{"uploads":[{"id":""}]}}`, codeBadArgs},
		{`{"op":"hello","id":"x"}`, codeBadFrame},
		{`{"op":"startChat","id":"x"}`, codeChatRunning},
		{`{"op":"ping","id":"` + strings.Repeat("i", 100) + `"}`, codeBadFrame},
	}
	for _, tc := range cases {
		mustf(t, c.ws.WriteMessage(websocket.TextMessage, []byte(tc.raw)), "write")
		f := c.next("error for "+tc.raw, func(f frame) bool { return f.Type == typeError || f.Type == typeResult })
		if f.Type != typeError || f.Error.Code != tc.code || f.Error.Message == "" {
			t.Errorf("%s: got %+v, want code %s", tc.raw, f.Error, tc.code)
		}
	}
	mustf(t, c.ws.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2}), "binary")
	if f := c.next("binary", func(f frame) bool { return f.Type == typeError }); f.Error.Code != codeBadFrame {
		t.Errorf("binary frame: %+v", f.Error)
	}
	snap := c.mustCall(opSnapshot, nil)
	if !strings.Contains(string(snap), `"state":"connected"`) {
		t.Fatalf("session harmed: %s", snap)
	}
}

// upload posts one file and returns the status and the error code.
func (e *env) upload(token, fileID, name, typ string, data []byte) (int, string) {
	e.t.Helper()
	return e.uploadAs(token, fileID, `form-data; name="file"; filename="`+name+`"`, typ, data)
}

// uploadAs uploads with the file part's Content-Disposition as given.
func (e *env) uploadAs(token, fileID, disposition, typ string, data []byte) (int, string) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("file_id", fileID)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{disposition}
	h["Content-Type"] = []string{typ}
	pw, _ := mw.CreatePart(h)
	_, _ = pw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/files", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Error errFrame `json:"error"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out.Error.Code
}

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

// TestUploads: limits and types are enforced with clear errors; a good
// file reaches the desk with its message.
func TestUploads(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxUploadBytes = 4096 })
	c := e.connect("", modeDesk, 0)
	chat := e.startAndJoin(c)
	tok := c.welcome.Token
	for _, tc := range []struct {
		name, typ string
		data      []byte
		status    int
		code      string
	}{
		{"big.txt", "text/plain", bytes.Repeat([]byte("a"), 5000), 413, codeFileTooLarge},
		{"run.exe", "application/x-msdownload", []byte("MZ\x90\x00"), 415, codeFileType},
		{"cat.png", "image/png", []byte("<script>alert(1)</script>"), 415, codeFileType},
		{"notes.txt", "text/plain", []byte("<html><script>alert(1)</script></html>"), 415, codeFileType},
		{"pic.svg", "image/svg+xml", []byte(`<svg onload="alert(1)"/>`), 415, codeFileType},
		{"", "text/plain", []byte("x"), 400, codeBadArgs},
	} {
		if st, code := e.upload(tok, "f-"+tc.name, tc.name, tc.typ, tc.data); st != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, st, code, tc.status, tc.code)
		}
	}
	if st, code := e.upload("", "f", "a.txt", "text/plain", []byte("x")); st != 401 || code != codeUnauthorized {
		t.Errorf("no token: %d %s", st, code)
	}
	if st, _ := e.upload(tok, "img-1", "cat.png", "image/png", pngBytes); st != 201 {
		t.Fatalf("good upload: %d", st)
	}
	c.mustCall(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest("see picture"), "messageID": "m1", "fileIDs": []string{"img-1"}})
	m, err := chat.AwaitMessage(ctxT(t))
	mustf(t, err, "await")
	if len(m.Files) != 1 || !bytes.Equal(m.Files[0].Data, pngBytes) || m.Files[0].Type != "image/png" {
		t.Fatalf("desk got %+v", m)
	}
	f := c.callback(cbSetFileUploadStatus)
	if string(f.Callback.Args[0]) != `"img-1"` || string(f.Callback.Args[1]) != "false" {
		t.Fatalf("file status callback %s", f.Callback.Args)
	}
	// Files the user picked are checked early against the desk's rules.
	c.mustCall(opFilesSelectedForUpload, map[string]any{"uploads": []map[string]any{{"id": "sel-1", "file": map[string]any{"name": "x.exe", "size": 10, "type": "application/x-msdownload"}}}})
	f = c.callback(cbSetFileUploadStatus)
	if string(f.Callback.Args[0]) != `"sel-1"` || string(f.Callback.Args[1]) != "true" {
		t.Fatalf("selected file status %s", f.Callback.Args)
	}
}

// TestShutdownDrains: a socket gets the events it has not seen, then 1001;
// new sockets get 503.
func TestShutdownDrains(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect("", modeDesk, 0)
	idle, _, err := e.dial(nil) // never says hello
	mustf(t, err, "dial")
	chat := e.startAndJoin(c)
	s, _ := e.gw.Engine().Lookup(c.welcome.Session)
	before := s.LastSeq()
	mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse("last words")), "say")
	// Logged by the engine; whether the socket wrote it yet or not, it
	// must arrive before the close.
	for deadline := time.Now().Add(5 * time.Second); s.LastSeq() == before && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mustf(t, e.gw.Shutdown(ctx), "shutdown")
	c.next("last words", func(f frame) bool { return f.Type == typeEvent && f.Event.Type == flow.EventAgentMessage })
	<-c.done
	var ce *websocket.CloseError
	if !errors.As(c.closed, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("closed with %v; want 1001", c.closed)
	}
	<-idle.done
	_, resp, err := e.dial(nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after shutdown: %v %v", err, resp)
	}
}

// TestAbandonedChatEnds: a chat whose tab is gone ends after AbandonAfter,
// and the desk is told.
func TestAbandonedChatEnds(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Flow.AbandonAfter = 100 * time.Millisecond
		o.Flow.IdleTTL = 150 * time.Millisecond
	})
	c := e.connect("", modeDesk, 0)
	chat := e.startAndJoin(c)
	c.ws.Close()
	<-c.done
	mustf(t, chat.AwaitEnded(ctxT(t)), "abandoned chat ended")
	deadline := time.Now().Add(5 * time.Second)
	for e.gw.Stats().Sessions > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := e.gw.Stats().Sessions; n != 0 {
		t.Fatalf("%d sessions kept after IdleTTL", n)
	}
}

// TestTooManySockets: a session's sockets are bounded.
func TestTooManySockets(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxConnsPerSession = 1 })
	a := e.connect("", modeDesk, 0)
	b, _, err := e.dial(nil)
	mustf(t, err, "dial")
	b.send(map[string]any{"op": "hello", "id": "h", "token": a.welcome.Token})
	f := b.next("refusal", func(f frame) bool { return f.Type == typeError })
	if f.Error.Code != codeTooManyConns {
		t.Fatalf("%+v", f.Error)
	}
	<-b.done
	a.mustCall(opPing, nil)
}

// FuzzDecodeRequest: the frame decoder never panics, and what it accepts
// has a known op and a bounded id.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"op":"hello","id":"1","token":"s1.x.y","mode":"desk","last_seq":3}`,
		`{"op":"sendMessageToAgent","id":"2","args":{"message":{"input":{"text":"hi"}},"messageID":"m","fileIDs":["a"]}}`,
		`{"op":"userTyping","args":{"isTyping":true}}`, `{}`, `[]`, `{"op":1}`, "\x00", `{"op":"hello","mode":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRequest(b)
		if len(r.ID) > maxRequestID {
			t.Fatalf("id of %d bytes", len(r.ID))
		}
		if err != nil {
			if err.Code == "" || err.Message == "" {
				t.Fatalf("error without code or message: %+v", err)
			}
			return
		}
		if r.Op == "" {
			t.Fatal("accepted a frame without op")
		}
		if r.Op == opHello && r.Mode != modeDesk && r.Mode != modeFlow {
			t.Fatalf("accepted mode %q", r.Mode)
		}
		// Argument decoding of every op must not panic either.
		var a struct {
			connectArgs
			sendArgs
			filesArgs
		}
		_ = r.args(&a)
	})
}

func TestCallbackMapping(t *testing.T) {
	var m callbackMapper
	p := &servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}
	tr := true
	pos := 3.0
	for _, tc := range []struct {
		ev   flow.Event
		want string
	}{
		{flow.Event{Type: flow.EventState, State: flow.StateWaiting}, ""},
		{flow.Event{Type: flow.EventQueueUpdate, Availability: &servicedesk.AgentAvailability{PositionInQueue: &pos}}, `{"method":"updateAgentAvailability","args":[{"positionInQueue":3}]}`},
		{flow.Event{Type: flow.EventAgentJoined, Profile: p}, `{"method":"agentJoined","args":[{"id":"ada","nickname":"Ada","user_type":"human"}]}`},
		{flow.Event{Type: flow.EventAgentTyping, Typing: &tr}, `{"method":"agentTyping","args":[true]}`},
		{flow.Event{Type: flow.EventUserMessage}, ""},
		{flow.Event{Type: flow.EventMessageStatus, Status: flow.MessageSent, MessageID: "m"}, ""},
		{flow.Event{Type: flow.EventMessageStatus, Status: flow.MessageFailed, MessageID: "m"}, `{"method":"setErrorStatus","args":[{"type":3,"messageID":"m"}]}`},
		{flow.Event{Type: flow.EventDisconnected}, `{"method":"setErrorStatus","args":[{"type":2,"isDisconnected":true}]}`},
		{flow.Event{Type: flow.EventReconnected}, `{"method":"setErrorStatus","args":[{"type":2,"isDisconnected":false}]}`},
		{flow.Event{Type: flow.EventTransfer}, `{"method":"beginTransferToAnotherAgent","args":[]}`},
		{flow.Event{Type: flow.EventAgentLeft}, `{"method":"agentLeftChat","args":[]}`},
		{flow.Event{Type: flow.EventScreenShare, ScreenShare: flow.ScreenShareAccepted}, ""},
		{flow.Event{Type: flow.EventScreenShare, ScreenShare: flow.ScreenShareCancelled}, `{"method":"screenShareEnded","args":[]}`},
		{flow.Event{Type: flow.EventChatEnded, Reason: flow.EndByAgent}, `{"method":"agentEndedChat","args":[]}`},
		{flow.Event{Type: flow.EventChatEnded, Reason: flow.EndByUser}, ""},
		{flow.Event{Type: flow.EventError, ErrorType: servicedesk.ErrorConnecting, Text: "Busy"}, ""},
		{flow.Event{Type: flow.EventChatEnded, Reason: flow.EndConnectingError, RequestCancelled: true}, `{"method":"setErrorStatus","args":[{"type":1,"messageToUser":"Busy"}]}`},
		{flow.Event{Type: flow.EventChatEnded, Reason: flow.EndConnectingError}, `{"method":"agentEndedChat","args":[]}`},
		{flow.Event{Type: flow.EventChatEnded, Reason: flow.EndJoinTimeout, RequestCancelled: true, Text: "No agent"}, `{"method":"setErrorStatus","args":[{"type":1,"messageToUser":"No agent"}]}`},
	} {
		got := ""
		if cb := m.callbackFor(&tc.ev); cb != nil {
			b, _ := json.Marshal(cb)
			got = string(b)
		}
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.ev.Type, got, tc.want)
		}
	}
}

// The frame decoder's refusals say what is wrong with the frame.
func TestDecodeRequestRefusals(t *testing.T) {
	for _, c := range []struct{ frame, code, message string }{
		{`{"op":"ping","id":"1"}{"op":"ping"}`, codeBadFrame, "a frame must hold one JSON object, not several"},
		{`{"op":"ping","id":"1"`, codeBadFrame, "the frame is not valid JSON: the text ends too early"},
		{`{"op":"ping",,}`, codeBadFrame, "the frame is not valid JSON: a syntax error at byte 14"},
		{`{"op":7}`, codeBadFrame, `the frame is not valid JSON: "op" has the wrong kind of value (a JSON number)`},
		{`[1]`, codeBadFrame, "a frame must be one JSON object"},
		{`{"id":"1"}`, codeBadFrame, `the frame has no "op"`},
		{`{"op":"fly"}`, codeUnknownOp, `unknown op "fly"`},
		{`{"op":"hello","mode":"x"}`, codeBadArgs, `mode "x": want "desk" or "flow"`},
	} {
		_, err := decodeRequest([]byte(c.frame))
		if err == nil || err.Code != c.code || err.Message != c.message {
			t.Errorf("%s: %+v, want %s %q", c.frame, err, c.code, c.message)
		}
	}
	r, err := decodeRequest([]byte(" \n{\"op\":\"ping\",\"id\":\"7\"}\n "))
	if err != nil || r.Op != opPing || r.ID != "7" {
		t.Errorf("a frame with spaces around: %+v, %v", r, err)
	}
}
