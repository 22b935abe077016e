package main

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// TestPausedOwnerIsFenced: two instances on one Redis. The owner of a chat
// is paused (SIGSTOP) past its lease; the other takes the chat over with
// the kit's Reconnect, and the conversation goes on there. The first is
// resumed with a user message still in its socket's buffer: its save is
// refused by Redis and its desk call by its own lease clock, so the desk
// gets that message once (from the browser's resend to the new owner).
func TestPausedOwnerIsFenced(t *testing.T) {
	desk, a, b := twoInstances(t, "2s")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, chat := chatOn(t, ctx, desk, a.url)
	_, err := chat.SayText(ctx, "a1 from the agent")
	check(t, "say", err)
	u.awaitAgentText("a1 from the agent")
	u.call("sendMessageToAgent", userMessage("u1", "u1 to the first owner"))
	if m, err := chat.AwaitCustomerMessage(ctx); err != nil || m.Input.Text != "u1 to the first owner" {
		t.Fatalf("desk got %+v, %v", m, err)
	}

	// Owner a stops dead; a message sits unread in its socket.
	check(t, "SIGSTOP a", a.cmd.Process.Signal(syscall.SIGSTOP))
	paused := true
	t.Cleanup(func() {
		if paused {
			_ = a.cmd.Process.Signal(syscall.SIGCONT)
		}
	})
	if err := u.ws.WriteJSON(map[string]any{"op": "sendMessageToAgent", "id": "p", "args": userMessage("u2", "u2 sent while the owner froze")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	u.ws.Close() // the browser gives up on the frozen socket

	// b takes over once a's lease runs out (2 s), through Reconnect.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if w := u.tryConnect(b.url); w != nil {
			if snap, _ := w["snapshot"].(map[string]any); snap["state"] == "connected" || snap["state"] == "reconnecting" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("b never took the chat over")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The browser resends what it got no answer for, with the same id.
	u.call("sendMessageToAgent", userMessage("u2", "u2 sent while the owner froze"))
	if m, err := chat.AwaitCustomerMessage(ctx); err != nil || m.Input.Text != "u2 sent while the owner froze" {
		t.Fatalf("after the takeover the desk got %+v, %v", m, err)
	}
	_, err = chat.SayText(ctx, "a2 after the takeover")
	check(t, "say after the takeover", err)
	u.awaitAgentText("a2 after the takeover")

	// a wakes up and reads the buffered message: refused.
	check(t, "SIGCONT a", a.cmd.Process.Signal(syscall.SIGCONT))
	paused = false
	time.Sleep(3 * time.Second) // a applies what it had and learns it lost the chat
	u.call("sendMessageToAgent", userMessage("u3", "u3 to the new owner"))
	if m, err := chat.AwaitCustomerMessage(ctx); err != nil || m.Input.Text != "u3 to the new owner" {
		t.Fatalf("after a woke the desk got %+v, %v (a's buffered message doubled?)", m, err)
	}
	if got := deskTexts(t, desk, chat.ID()); got != "u1 to the first owner | u2 sent while the owner froze | u3 to the new owner" {
		t.Fatalf("the desk got: %s", got)
	}
	if got := strings.Join(u.agentTexts, " | "); got != "a1 from the agent | a2 after the takeover" {
		t.Fatalf("the user saw: %s", got)
	}
	logs := a.log()
	if !strings.Contains(logs, "owned elsewhere") && !strings.Contains(logs, "lost the ownership") {
		t.Errorf("a's log says nothing of losing the chat:\n%s", lastLines(logs, 20))
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "owned elsewhere") || strings.Contains(line, "lost the ownership") || strings.Contains(line, "does not own") {
			t.Logf("a: %s", line)
		}
	}
}

// TestBrowserOnAnyInstance: a browser's socket lands on an instance that
// does not own its chat: events come from the store, requests go to the
// owner, nothing is lost or doubled; when the owner dies, the socket
// closes, the browser comes back, and the chat goes on at the survivor.
func TestBrowserOnAnyInstance(t *testing.T) {
	desk, a, b := twoInstances(t, "2s")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, chat := chatOn(t, ctx, desk, a.url) // a owns the chat: the session starts there
	u.await("agent joined", func(f map[string]any) bool {
		ev, _ := f["event"].(map[string]any)
		return ev["type"] == "agent_joined"
	})

	// The socket moves to b, which does not own the chat.
	u.ws.Close()
	w := u.connect(b.url)
	if w["reset"] == true || w["resumed"] != true {
		t.Fatalf("welcome on b: %v", w)
	}
	_, err := chat.SayText(ctx, "a1 read on b")
	check(t, "say", err)
	u.awaitAgentText("a1 read on b")
	u.call("sendMessageToAgent", userMessage("u1", "u1 sent through b"))
	if m, err := chat.AwaitCustomerMessage(ctx); err != nil || m.Input.Text != "u1 sent through b" {
		t.Fatalf("desk got %+v, %v", m, err)
	}
	u.call("userTyping", map[string]any{"isTyping": true})
	if on, err := desk.AwaitCustomerTyping(ctx, chat.ID()); err != nil || !on {
		t.Fatalf("typing through b: %v, %v", on, err)
	}
	// A file uploaded to b goes with a message through b to a, and on.
	check(t, "capabilities", desk.SetChatCapabilities(ctx, chat.ID(), servicedesk.Capabilities{AllowFileUploads: true, AllowedFileUploadTypes: ".txt"}))
	u.await("capabilities", func(f map[string]any) bool {
		ev, _ := f["event"].(map[string]any)
		return ev["type"] == "capabilities"
	})
	if code := uploadFile(t, b.url, u.token, "f1", "note.txt", []byte("a note, uploaded to b")); code != 201 {
		t.Fatalf("upload to b: %d", code)
	}
	u.call("sendMessageToAgent", map[string]any{"messageID": "uf", "message": map[string]any{"input": map[string]any{"text": "with a file"}}, "fileIDs": []string{"f1"}})
	if m, err := chat.AwaitCustomerMessage(ctx); err != nil || m.Input.Text != "with a file" {
		t.Fatalf("desk got %+v, %v", m, err)
	}
	if f, err := desk.AwaitCustomerFile(ctx, chat.ID()); err != nil || f.File.Name != "note.txt" {
		t.Fatalf("desk got file %+v, %v", f, err)
	}
	// The history, read on b.
	if h := getTextAuth(t, b.url+"/v1/history", u.token); !strings.Contains(h, "a1 read on b") || !strings.Contains(h, "u1 sent through b") {
		t.Fatalf("history on b: %s", h)
	}

	// The owner dies; the chat moves to b, the browser with it.
	a.kill()
	_, err = chat.SayText(ctx, "a2 while a was dying")
	check(t, "say", err)
	deadline := time.Now().Add(20 * time.Second)
	for {
		// The socket on b closes once a is found gone; the browser
		// reconnects until b has taken the chat over.
		if w := u.tryConnect(b.url); w != nil {
			snap, _ := w["snapshot"].(map[string]any)
			if snap["state"] == "connected" {
				break
			}
			u.ws.Close()
		}
		if time.Now().After(deadline) {
			t.Fatal("b never took the chat over from the dead owner")
		}
		time.Sleep(300 * time.Millisecond)
	}
	u.awaitAgentText("a2 while a was dying")
	u.call("sendMessageToAgent", userMessage("u1", "u1 sent through b")) // a resend: taken once
	u.call("sendMessageToAgent", userMessage("u2", "u2 after the takeover"))
	if m, err := chat.AwaitCustomerMessage(ctx); err != nil || m.Input.Text != "u2 after the takeover" {
		t.Fatalf("after the takeover the desk got %+v, %v", m, err)
	}
	if got := deskTexts(t, desk, chat.ID()); got != "u1 sent through b | with a file | u2 after the takeover" {
		t.Fatalf("the desk got: %s", got)
	}
	if got := strings.Join(u.agentTexts, " | "); got != "a1 read on b | a2 while a was dying" {
		t.Fatalf("the user saw: %s", got)
	}
	if chat.State() == "ended" {
		t.Fatal("the desk chat ended")
	}
	// What an operator watches, on b.
	metrics := getText(t, b.url+"/metrics")
	for _, want := range []string{"deskbridge_leases 1", "deskbridge_takeovers_total 1", "deskbridge_forwarded_sockets_total 1", "deskbridge_forwarded_ops_total", "deskbridge_store_save_seconds_bucket"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("b's /metrics lacks %q", want)
		}
	}
}

func getTextAuth(t testing.TB, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// uploadFile posts one file to /v1/files as deskbridge.js does.
func uploadFile(t testing.TB, url, token, id, name string, data []byte) int {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("file_id", id)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	h.Set("Content-Type", "text/plain")
	w, _ := mw.CreatePart(h)
	_, _ = w.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/files", &body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 {
		b, _ := io.ReadAll(resp.Body)
		t.Logf("upload answered %d: %s", resp.StatusCode, b)
	}
	return resp.StatusCode
}

func getText(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDrainHandsOff: SIGTERM to the owner of a chat hands it off at once —
// its lease released, not left to expire — so the browser, sent away with
// 1001, resumes on the other instance well within one lease (10 s here),
// with nothing missed or doubled.
func TestDrainHandsOff(t *testing.T) {
	desk, a, b := twoInstances(t, "10s")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, chat := chatOn(t, ctx, desk, a.url)
	_, err := chat.SayText(ctx, "a1 before the drain")
	check(t, "say", err)
	u.awaitAgentText("a1 before the drain")

	start := time.Now()
	check(t, "SIGTERM a", a.cmd.Process.Signal(syscall.SIGTERM))
	u.awaitClose()
	_, err = chat.SayText(ctx, "a2 during the handoff")
	check(t, "say", err)
	for {
		if w := u.tryConnect(b.url); w != nil {
			if snap, _ := w["snapshot"].(map[string]any); snap["state"] == "connected" {
				break
			}
			u.ws.Close()
		}
		if time.Since(start) > 8*time.Second {
			t.Fatal("the chat was not handed off within 8 s of the drain (a lease is 10 s)")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("handed off %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	u.awaitAgentText("a2 during the handoff")
	u.call("sendMessageToAgent", userMessage("u1", "u1 after the handoff"))
	if m, err := chat.AwaitCustomerMessage(ctx); err != nil || m.Input.Text != "u1 after the handoff" {
		t.Fatalf("after the drain the desk got %+v, %v", m, err)
	}
	if got := strings.Join(u.agentTexts, " | "); got != "a1 before the drain | a2 during the handoff" {
		t.Fatalf("the user saw: %s", got)
	}
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		t.Fatal("a did not exit after its drain")
	}
	if logs := a.log(); !strings.Contains(logs, "deskbridge draining") {
		t.Errorf("a's log has no drain:\n%s", lastLines(logs, 10))
	}
}

// twoInstances starts instances a and b of serve on one Redis and one
// mock-desk with a manual agent, with the given lease.
func twoInstances(t *testing.T, lease string) (*mockdesk.Desk, *serveProc, *serveProc) {
	t.Helper()
	rds := startRedis(t)
	desk, deskURL := manualDesk(t)
	env := []string{"DESKBRIDGE_TOKEN_SECRET=" + strings.Repeat("t", 40)}
	common := []string{"--kit", "websocket", "--desk-url", deskURL, "--store", rds.URL(), "--lease-ttl", lease}
	a := startServe(t, freeAddr(t), env, append(common, "--instance-id", "a", "--data-dir", t.TempDir())...)
	b := startServe(t, freeAddr(t), env, append(common, "--instance-id", "b", "--data-dir", t.TempDir())...)
	return desk, a, b
}

// chatOn connects a browser to url and starts a chat that Ada joins.
func chatOn(t *testing.T, ctx context.Context, desk *mockdesk.Desk, url string) (*browser, *mockdesk.AgentChat) {
	t.Helper()
	u := &browser{t: t}
	u.connect(url)
	u.call("startChat", map[string]any{"connectMessage": map[string]any{"output": map[string]any{"generic": []any{map[string]any{"response_type": "connect_to_agent"}}}}})
	chat, err := desk.AwaitChat(ctx)
	check(t, "await chat", err)
	check(t, "join", chat.Join(ctx, ada))
	return u, chat
}

// TestWebhookReachesTheOwner: with the rest kit, every desk webhook lands
// on instance b (one public URL for all, as behind a load balancer) while
// a owns the chat: b passes each event on through Redis, and the user on
// a sees every agent message once, in order.
func TestWebhookReachesTheOwner(t *testing.T) {
	rds := startRedis(t)
	secret := strings.Repeat("w", 32)
	desk, err := mockdesk.New(mockdesk.Options{Agents: []mockdesk.AgentConfig{{Profile: ada, Online: true, Capacity: 5}}, WebhookSecret: []byte(secret), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	deskSrv := httptest.NewServer(desk)
	t.Cleanup(func() { deskSrv.Close(); _ = desk.Close() })
	env := []string{"DESKBRIDGE_TOKEN_SECRET=" + strings.Repeat("t", 40), "DESKBRIDGE_WEBHOOK_SECRET=" + secret}
	bAddr := freeAddr(t)
	common := []string{"--kit", "rest", "--desk-url", deskSrv.URL, "--store", rds.URL(), "--public-url", "http://" + bAddr}
	a := startServe(t, freeAddr(t), env, append(common, "--instance-id", "a", "--data-dir", t.TempDir())...)
	startServe(t, bAddr, env, append(common, "--instance-id", "b", "--data-dir", t.TempDir())...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	u, chat := chatOn(t, ctx, desk, a.url)
	u.await("agent joined", func(f map[string]any) bool {
		ev, _ := f["event"].(map[string]any)
		return ev["type"] == "agent_joined"
	})
	// Each message arrives at once, not when a later gap fill finds it.
	for _, text := range []string{"w1 through b", "w2 through b", "w3 through b"} {
		start := time.Now()
		_, err := chat.SayText(ctx, text)
		check(t, "say", err)
		u.awaitAgentText(text)
		if took := time.Since(start); took > 200*time.Millisecond {
			t.Errorf("%q took %v to reach the user on a", text, took)
		}
	}
	if got := strings.Join(u.agentTexts, " | "); got != "w1 through b | w2 through b | w3 through b" {
		t.Fatalf("the user on a saw: %s", got)
	}
	u.call("sendMessageToAgent", userMessage("u1", "u1 on a"))
	if m, err := chat.AwaitCustomerMessage(ctx); err != nil || m.Input.Text != "u1 on a" {
		t.Fatalf("desk got %+v, %v", m, err)
	}
}
