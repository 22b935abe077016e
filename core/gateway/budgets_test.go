package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/gorilla/websocket"
)

// TestMessageTooLong: a user message longer than MaxMessageBytes is
// refused and never reaches the desk; one of exactly the limit is sent.
func TestMessageTooLong(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxMessageBytes = 1000 })
	c := e.connect("", modeFlow, 0)
	chat := e.startAndJoin(c)
	f := c.call(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest(strings.Repeat("x", 1001)), "messageID": "long"})
	if f.Type != typeError || f.Error.Code != codeMessageTooLong {
		t.Fatalf("a 1001-byte message: %+v", f)
	}
	c.mustCall(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest(strings.Repeat("y", 1000)), "messageID": "ok"})
	m, err := chat.AwaitMessage(ctxT(t))
	if err != nil || m.ID != "ok" {
		t.Fatalf("the desk got %+v (%v); want only the message within the limit", m, err)
	}
}

// TestEventMemoryBounded: sessions whose agent sends large messages as
// fast as it can hold no more than the store's byte bounds of events, per
// session and in all; before, the store held every event (1024 each).
func TestEventMemoryBounded(t *testing.T) {
	const per, total = 96 << 10, 200 << 10
	store := flow.NewMemoryStore(1024).LimitEventBytes(per, total)
	e := newEnv(t, func(o *Options) { o.Flow.Store = store; o.Flow.EventLogBytes = 32 << 10 })
	big := servicedesk.TextResponse(strings.Repeat("z", 8<<10))
	peak := int64(0)
	for range 3 {
		c := e.connect("", modeFlow, 0)
		chat := e.startAndJoin(c)
		for range 60 {
			mustf(t, chat.Say(ctxT(t), big), "say")
			c.event(flow.EventAgentMessage)
			peak = max(peak, store.EventBytes())
		}
	}
	if peak > total+(16<<10) {
		t.Fatalf("the store held %d bytes of events; bound %d", peak, total)
	}
	if peak < total/2 {
		t.Fatalf("the store held only %d bytes: the test did not reach the bound", peak)
	}
}

// rawUpload starts a POST /v1/files that declares a body of size bytes
// and sends only its first part, as a slow client does; the body is never
// finished.
func (e *env) rawUpload(token string, size int) net.Conn {
	e.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	mustf(e.t, err, "dial")
	e.t.Cleanup(func() { conn.Close() })
	const boundary = "XyZ"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file_id\"\r\n\r\nslow\r\n--" + boundary +
		"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
	fmt.Fprintf(conn, "POST /v1/files HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n%s%s",
		conn.RemoteAddr(), token, boundary, size, head, pngBytes)
	return conn
}

// status reads the response to a raw request, or fails when none comes
// while the request's body is unfinished.
func status(t *testing.T, conn net.Conn) (int, string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body is still coming: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Error errFrame `json:"error"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out.Error.Code
}

// TestUploadRefusedBeforeBody: an upload to a session with no running
// chat (never one, or one that ended) is answered before its body is
// read, and so is one that declares more than the limit; before, the
// gateway read 10 MiB first.
func TestUploadRefusedBeforeBody(t *testing.T) {
	e := newEnv(t, nil)
	idle := e.connect("", modeFlow, 0)
	if code, ecode := status(t, e.rawUpload(idle.welcome.Token, 10<<20)); code != http.StatusConflict || ecode != codeNoChat {
		t.Fatalf("upload without a chat: %d %s", code, ecode)
	}
	c := e.connect("", modeFlow, 0)
	e.startAndJoin(c)
	if code, ecode := status(t, e.rawUpload(c.welcome.Token, 20<<20)); code != http.StatusRequestEntityTooLarge || ecode != codeFileTooLarge {
		t.Fatalf("upload declaring 20 MiB: %d %s", code, ecode)
	}
	if code, _ := e.upload(c.welcome.Token, "f1", "a.png", "image/png", pngBytes); code != http.StatusCreated {
		t.Fatalf("upload in the chat: %d", code)
	}
	c.mustCall(opEndChat, nil) // ending, or ended: no more files either way
	if code, ecode := status(t, e.rawUpload(c.welcome.Token, 1<<20)); code != http.StatusConflict || ecode != codeNoChat {
		t.Fatalf("upload once the chat was ended: %d %s", code, ecode)
	}
	c.event(flow.EventChatEnded)
	if code, ecode := status(t, e.rawUpload(c.welcome.Token, 1<<20)); code != http.StatusConflict || ecode != codeNoChat {
		t.Fatalf("upload after the chat ended: %d %s", code, ecode)
	}
}

// TestUploadsInFlightBounded: slow uploads hold at most
// MaxSessionUploadsInFlight per session and MaxUploadsInFlight in all;
// more are answered 429 at once, and room comes back when they end.
func TestUploadsInFlightBounded(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxUploadsInFlight = 2; o.MaxSessionUploadsInFlight = 1 })
	a := e.connect("", modeFlow, 0)
	e.startAndJoin(a)
	b := e.connect("", modeFlow, 0)
	e.startAndJoin(b)
	c := e.connect("", modeFlow, 0)
	e.startAndJoin(c)
	slowA := e.rawUpload(a.welcome.Token, 512<<10)
	waitHeld(t, e, 1)
	if code, _ := e.upload(a.welcome.Token, "a2", "a.png", "image/png", pngBytes); code != http.StatusTooManyRequests {
		t.Fatalf("a second upload of one session: %d, want 429", code)
	}
	slowB := e.rawUpload(b.welcome.Token, 512<<10)
	waitHeld(t, e, 2)
	if code, _ := e.upload(c.welcome.Token, "c1", "a.png", "image/png", pngBytes); code != http.StatusTooManyRequests {
		t.Fatalf("a third upload in all: %d, want 429", code)
	}
	slowA.Close()
	slowB.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _ := e.upload(c.welcome.Token, "c1", "a.png", "image/png", pngBytes)
		if code == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload after the slow ones went: %d", code)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := e.gw.Stats().Limited[limitUploadsInFlight]; n < 2 {
		t.Fatalf("uploads_in_flight counted %d times", n)
	}
}

// waitHeld waits until n uploads are being received.
func waitHeld(t *testing.T, e *env, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.gw.files.mu.Lock()
		got := e.gw.files.inFlight
		e.gw.files.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d uploads in flight, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestUploadByteBudgets: a chat's uploads and all uploads together stay
// within their byte budgets, refused before the body is read; a chat's
// uploads are let go when it ends.
func TestUploadByteBudgets(t *testing.T) {
	const file = 40 << 10
	e := newEnv(t, func(o *Options) {
		o.MaxChatUploadBytes = 100 << 10
		o.MaxUploadBytesTotal = 150 << 10
		o.Flow.IdleTTL, o.Flow.AbandonAfter = time.Hour, time.Hour
	})
	data := append(append([]byte{}, pngBytes...), bytes.Repeat([]byte{0}, file-len(pngBytes))...)
	a := e.connect("", modeFlow, 0)
	e.startAndJoin(a)
	b := e.connect("", modeFlow, 0)
	e.startAndJoin(b)
	for i := range 2 {
		if code, _ := e.upload(a.welcome.Token, fmt.Sprint("a", i), "a.png", "image/png", data); code != http.StatusCreated {
			t.Fatalf("upload %d of a: %d", i, code)
		}
	}
	if code, ecode := e.upload(a.welcome.Token, "a2", "a.png", "image/png", data); code != http.StatusRequestEntityTooLarge || ecode != codeFileTooLarge {
		t.Fatalf("a third file past the chat's budget: %d %s", code, ecode)
	}
	if code, _ := e.upload(b.welcome.Token, "b0", "a.png", "image/png", data); code != http.StatusCreated {
		t.Fatalf("upload of b: %d", code)
	}
	if code, ecode := e.upload(b.welcome.Token, "b1", "a.png", "image/png", data); code != http.StatusInsufficientStorage || ecode != codeStoreFull {
		t.Fatalf("an upload past the total: %d %s", code, ecode)
	}
	if held := e.gw.Stats().UploadBytesHeld; held > 150<<10 {
		t.Fatalf("%d upload bytes held; bound %d", held, 150<<10)
	}
	a.mustCall(opEndChat, nil)
	a.event(flow.EventChatEnded)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := e.gw.OpenFile(ctxT(t), a.welcome.Session, "a0")
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a's upload is still kept after its chat ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _ := e.upload(b.welcome.Token, "b1", "a.png", "image/png", data); code != http.StatusCreated {
		t.Fatalf("upload of b once a's were let go: %d", code)
	}
	if held := e.gw.Stats().UploadBytesHeld; held != 2*file {
		t.Fatalf("%d upload bytes held; want b's two files (%d)", held, 2*file)
	}
}

// TestHistoryBounded: a history answer holds at most MaxHistoryItems
// items of at most MaxHistoryBytes of events, the newest, and pages back
// with ?before; a hello replay from 0 sends at most MaxHistoryBytes and
// says the rest was trimmed. Before, both sent the whole log.
func TestHistoryBounded(t *testing.T) {
	const maxBytes = 64 << 10
	e := newEnv(t, func(o *Options) { o.MaxHistoryBytes = maxBytes; o.MaxHistoryItems = 20 })
	c := e.connect("", modeFlow, 0)
	chat := e.startAndJoin(c)
	const n = 60
	for i := range n {
		mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse(fmt.Sprintf("%03d %s", i, strings.Repeat("h", 2<<10)))), "say")
		c.event(flow.EventAgentMessage)
	}
	page := func(before uint64) (historyAnswer, int) {
		url := e.srv.URL + "/v1/history"
		if before > 0 {
			url += fmt.Sprintf("?before=%d", before)
		}
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+c.welcome.Token)
		resp, err := http.DefaultClient.Do(req)
		mustf(t, err, "history")
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var h historyAnswer
		mustf(t, json.Unmarshal(b, &h), "decode %s", b)
		return h, len(b)
	}
	var texts []string
	before := uint64(0)
	for range 10 {
		h, size := page(before)
		if len(h.Items) > 20 || size > 2*maxBytes {
			t.Fatalf("a history page of %d items, %d bytes", len(h.Items), size)
		}
		var got []string
		for _, it := range h.Items {
			b, _ := json.Marshal(it.Message)
			var m servicedesk.MessageResponse
			_ = json.Unmarshal(b, &m)
			if txt := m.PlainText(); len(txt) > 3 && txt[3] == ' ' && txt[0] >= '0' && txt[0] <= '9' {
				got = append(got, txt[:3])
			}
		}
		texts = append(got, texts...)
		if h.Complete {
			break
		}
		if h.Before == 0 || (before != 0 && h.Before >= before) {
			t.Fatalf("incomplete page without a way back: before %d after %d", h.Before, before)
		}
		before = h.Before
	}
	if len(texts) != n || texts[0] != "000" || texts[n-1] != fmt.Sprintf("%03d", n-1) {
		t.Fatalf("paging gave %d messages (%v…); want all %d in order", len(texts), texts[:min(3, len(texts))], n)
	}

	// A hello replay from 0.
	ws, _, err := websocket.DefaultDialer.Dial(e.wsURL(), nil)
	mustf(t, err, "dial")
	defer ws.Close()
	mustf(t, ws.WriteJSON(map[string]any{"op": "hello", "id": "h", "token": c.welcome.Token, "mode": modeFlow}), "hello")
	replayed, trimmed := 0, false
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		mustf(t, err, "read")
		var f frame
		_ = json.Unmarshal(b, &f)
		if f.Type == typeError && f.Error.Code == codeEventsTrimmed {
			trimmed = true
		}
		if f.Type == typeEvent {
			replayed += len(b)
			if f.Seq == c.lastSeq {
				break
			}
		}
	}
	if !trimmed || replayed > maxBytes+(8<<10) {
		t.Fatalf("replay of %d bytes (bound %d), trimmed said %v", replayed, maxBytes, trimmed)
	}
}
