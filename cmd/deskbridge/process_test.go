package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/stores/redis/redistest"
)

// manualDesk is mock-desk on loopback with one agent, Ada, whom the test
// plays.
func manualDesk(t *testing.T) (*mockdesk.Desk, string) {
	t.Helper()
	desk, err := mockdesk.New(mockdesk.Options{Agents: []mockdesk.AgentConfig{{Profile: ada, Online: true, Capacity: 5}}, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(desk)
	t.Cleanup(func() { srv.Close(); _ = desk.Close() })
	return desk, srv.URL
}

// deskTexts is what the desk got from the customer in a chat, in order,
// joined by " | ".
func deskTexts(t *testing.T, desk *mockdesk.Desk, chatID string) string {
	t.Helper()
	msgs, err := desk.CustomerMessages(chatID)
	check(t, "customer messages", err)
	texts := make([]string, len(msgs))
	for i, m := range msgs {
		texts[i] = m.Request.Input.Text
	}
	return strings.Join(texts, " | ")
}

// startRedis is a real redis-server for this test, AOF on.
func startRedis(t testing.TB) *redistest.Server {
	t.Helper()
	return redistest.Start(t, redistest.Options{})
}

// The tests here run `deskbridge serve` as a child process, the way an
// operator does, so that it can be killed with SIGKILL mid-chat.

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// deskbridgeBinary builds the server once per test binary.
func deskbridgeBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "deskbridge-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "deskbridge")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// freeAddr returns a loopback address nothing listens on now, so that a
// restarted server comes back where its clients look for it.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serveProc is one `deskbridge serve` process.
type serveProc struct {
	t    testing.TB
	cmd  *exec.Cmd
	url  string
	logs *os.File
	done chan struct{}
}

// startServe starts serve with args and env, and waits for /healthz.
func startServe(t testing.TB, addr string, env []string, args ...string) *serveProc {
	t.Helper()
	bin := deskbridgeBinary(t)
	logs, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--log-level", "info"}, args...)...)
	// A test never writes the user's state directory (or, without HOME,
	// ./deskbridge-data in the package): its default data directory is its own.
	cmd.Env = append(append(os.Environ(), "XDG_STATE_HOME="+t.TempDir()), env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{t: t, cmd: cmd, url: "http://" + addr, logs: logs, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			t.Logf("serve log (%s):\n%s", strings.Join(args, " "), lastLines(string(b), 60))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(logs.Name())
			t.Fatalf("serve exited at start:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not healthy after 20s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// log returns what the process logged so far.
func (p *serveProc) log() string {
	b, _ := os.ReadFile(p.logs.Name())
	return string(b)
}

// kill is kill -9: no drain, no goodbye to anyone.
func (p *serveProc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// browser speaks the gateway protocol the way deskbridge.js does: hello
// with its token and last seq, events in order, calls by id.
type browser struct {
	t       *testing.T
	ws      *websocket.Conn
	token   string
	lastSeq uint64
	frames  chan map[string]any
	nextID  int
	// what the user saw, in order: agent message texts
	agentTexts []string
}

// listen makes ws the browser's socket and reads its frames into b.frames.
func (b *browser) listen(ws *websocket.Conn) {
	b.ws, b.frames = ws, make(chan map[string]any, 256)
	go func(frames chan map[string]any) {
		defer close(frames)
		for {
			var f map[string]any
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			frames <- f
		}
	}(b.frames)
}

// tryConnect is connect that answers nil when the hello is refused.
func (b *browser) tryConnect(url string) map[string]any {
	b.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/ws", nil)
	if err != nil {
		return nil
	}
	hello := map[string]any{"op": "hello", "id": "h", "mode": "desk", "last_seq": b.lastSeq, "token": b.token}
	var w map[string]any
	if ws.WriteJSON(hello) != nil || ws.SetReadDeadline(time.Now().Add(5*time.Second)) != nil || ws.ReadJSON(&w) != nil || w["type"] != "welcome" {
		ws.Close()
		return nil
	}
	_ = ws.SetReadDeadline(time.Time{})
	b.listen(ws)
	return w
}

func (b *browser) connect(url string) map[string]any {
	b.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/ws", nil)
	if err != nil {
		b.t.Fatalf("dial: %v", err)
	}
	b.listen(ws)
	hello := map[string]any{"op": "hello", "id": "h", "mode": "desk", "last_seq": b.lastSeq}
	if b.token != "" {
		hello["token"] = b.token
	}
	if err := ws.WriteJSON(hello); err != nil {
		b.t.Fatal(err)
	}
	w := b.await("welcome", func(f map[string]any) bool { return f["re"] == "h" })
	if w["type"] != "welcome" {
		b.t.Fatalf("hello answered %v", w)
	}
	b.token = w["token"].(string)
	return w
}

// await reads frames until pred holds, taking note of events on the way.
func (b *browser) await(what string, pred func(map[string]any) bool) map[string]any {
	b.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case f, ok := <-b.frames:
			if !ok {
				if what == "the socket to close" {
					return nil
				}
				b.t.Fatalf("socket closed while waiting for %s", what)
			}
			if f["type"] == "event" {
				seq := uint64(f["seq"].(float64))
				if seq <= b.lastSeq {
					continue // seen already
				}
				if seq != b.lastSeq+1 {
					b.t.Fatalf("event seq %d after %d: a gap", seq, b.lastSeq)
				}
				b.lastSeq = seq
				if ev, _ := f["event"].(map[string]any); ev["type"] == "agent_message" {
					b.agentTexts = append(b.agentTexts, agentText(ev))
				}
			}
			if pred(f) {
				return f
			}
		case <-timeout:
			b.t.Fatalf("timed out waiting for %s", what)
			return nil
		}
	}
}

func agentText(ev map[string]any) string {
	msg, _ := ev["message"].(map[string]any)
	out, _ := msg["output"].(map[string]any)
	items, _ := out["generic"].([]any)
	var parts []string
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			if s, ok := m["text"].(string); ok {
				parts = append(parts, s)
			}
		}
	}
	return strings.Join(parts, " ")
}

// awaitClose reads, noting events, until the server closes the socket.
func (b *browser) awaitClose() {
	b.t.Helper()
	b.await("the socket to close", func(map[string]any) bool { return false })
}

func (b *browser) call(op string, args any) map[string]any {
	b.t.Helper()
	b.nextID++
	id := strconv.Itoa(b.nextID)
	if err := b.ws.WriteJSON(map[string]any{"op": op, "id": id, "args": args}); err != nil {
		b.t.Fatalf("%s: %v", op, err)
	}
	f := b.await(op+" answer", func(f map[string]any) bool { return f["re"] == id })
	if f["type"] != "result" {
		b.t.Fatalf("%s answered %v", op, f)
	}
	return f
}

func (b *browser) awaitAgentText(text string) {
	b.t.Helper()
	for _, s := range b.agentTexts {
		if s == text {
			return
		}
	}
	b.await("agent message "+text, func(f map[string]any) bool {
		ev, _ := f["event"].(map[string]any)
		return ev != nil && ev["type"] == "agent_message" && agentText(ev) == text
	})
}

func userMessage(id, text string) map[string]any {
	return map[string]any{"messageID": id, "message": map[string]any{"input": map[string]any{"message_type": "text", "text": text}}}
}

// TestServeSurvivesKill9 kills the server mid-chat and starts it again:
// the agent is still there, the browser resumes from its last seq, and
// messages flow both ways with nothing lost, doubled or reordered.
func TestServeSurvivesKill9(t *testing.T) {
	t.Run("file store", func(t *testing.T) {
		dataDir := t.TempDir()
		// No DESKBRIDGE_TOKEN_SECRET: the one made in the data directory
		// must carry the tokens across the restart.
		survivesKill9(t, nil, "--data-dir", dataDir)
	})
	t.Run("redis store", func(t *testing.T) {
		srv := startRedis(t)
		survivesKill9(t, []string{"DESKBRIDGE_TOKEN_SECRET=" + strings.Repeat("t", 40)}, "--store", srv.URL(), "--data-dir", t.TempDir())
	})
}

func survivesKill9(t *testing.T, env []string, storeArgs ...string) {
	desk, deskURL := manualDesk(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	addr := freeAddr(t)
	args := append([]string{"--kit", "websocket", "--desk-url", deskURL}, storeArgs...)
	srv := startServe(t, addr, env, args...)

	b := &browser{t: t}
	b.connect(srv.url)
	b.call("startChat", map[string]any{"connectMessage": map[string]any{"output": map[string]any{"generic": []any{map[string]any{"response_type": "connect_to_agent", "transfer_info": map[string]any{}}}}}})
	chat, err := desk.AwaitChat(ctx)
	check(t, "await chat", err)
	check(t, "join", chat.Join(ctx, ada))
	_, err = chat.SayText(ctx, "a1 before the kill")
	check(t, "say", err)
	b.awaitAgentText("a1 before the kill")
	b.call("sendMessageToAgent", userMessage("u1", "u1 before the kill"))
	m, err := chat.AwaitCustomerMessage(ctx)
	check(t, "customer message", err)
	if m.Input.Text != "u1 before the kill" {
		t.Fatalf("desk got %q", m.Input.Text)
	}

	srv.kill()
	b.ws.Close()
	// The agent goes on while the server is dead.
	_, err = chat.SayText(ctx, "a2 while the server was dead")
	check(t, "say while dead", err)

	srv = startServe(t, addr, env, args...)
	w := b.connect(srv.url)
	if w["reset"] == true || w["resumed"] != true {
		t.Fatalf("welcome after the restart: %v", w)
	}
	snap, _ := w["snapshot"].(map[string]any)
	switch snap["state"] {
	case "connected":
	case "reconnecting":
		// The restored session is still re-attaching to the desk: it must
		// come back to the agent, not to the queue or an end.
		b.await("state connected", func(f map[string]any) bool {
			ev, _ := f["event"].(map[string]any)
			if ev == nil || ev["type"] != "state" {
				return false
			}
			if ev["state"] != "connected" && ev["state"] != "reconnecting" {
				t.Fatalf("state after the restart went to %v, want connected (the agent is still there)", ev["state"])
			}
			return ev["state"] == "connected"
		})
	default:
		t.Fatalf("state after the restart %v, want connected (the agent is still there)", snap["state"])
	}
	b.awaitAgentText("a2 while the server was dead")
	// The browser never saw u1's answer? It resends with the same id: the
	// desk must not get it twice.
	b.call("sendMessageToAgent", userMessage("u1", "u1 before the kill"))
	b.call("sendMessageToAgent", userMessage("u2", "u2 after the restart"))
	m, err = chat.AwaitCustomerMessage(ctx)
	check(t, "customer message after the restart", err)
	if m.Input.Text != "u2 after the restart" {
		t.Fatalf("after the restart the desk got %q, want u2 (u1 was doubled?)", m.Input.Text)
	}
	_, err = chat.SayText(ctx, "a3 after the restart")
	check(t, "say after", err)
	b.awaitAgentText("a3 after the restart")

	// Both sides, whole: the desk has u1, u2 once each, in order; the user
	// saw a1, a2, a3 once each, in order, with no seq gap (checked as read).
	if got := deskTexts(t, desk, chat.ID()); got != "u1 before the kill | u2 after the restart" {
		t.Errorf("the desk got: %s", got)
	}
	if got := strings.Join(b.agentTexts, " | "); got != "a1 before the kill | a2 while the server was dead | a3 after the restart" {
		t.Errorf("the user saw: %s", got)
	}
	b.call("endChat", map[string]any{})
	_, err = chat.AwaitEnded(ctx)
	check(t, "ended", err)
}

// TestHealthWhileRedisIsAway: /healthz answers 503 while the Redis store
// cannot be reached, so a load balancer sends browsers elsewhere, and 200
// again once it is back.
func TestHealthWhileRedisIsAway(t *testing.T) {
	rds := startRedis(t)
	_, deskURL := manualDesk(t)
	srv := startServe(t, freeAddr(t), []string{"DESKBRIDGE_TOKEN_SECRET=" + strings.Repeat("t", 40)},
		"--kit", "websocket", "--desk-url", deskURL, "--store", rds.URL(), "--data-dir", t.TempDir())
	health := func() (int, string) {
		resp, err := http.Get(srv.url + "/healthz")
		if err != nil {
			t.Fatalf("healthz: %v", err)
		}
		defer resp.Body.Close()
		var body struct{ Status, Store string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Status
	}
	if code, st := health(); code != 200 || st != "ok" {
		t.Fatalf("healthz with Redis up: %d %s", code, st)
	}
	rds.Pause()
	if code, st := health(); code != 503 || st != "store_unavailable" {
		t.Fatalf("healthz with Redis paused: %d %s, want 503 store_unavailable", code, st)
	}
	rds.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, st := health()
		if code == 200 && st == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz after Redis came back: %d %s", code, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeRefusesABadStore: a second serve on the same data directory, a
// corrupt database file and a Redis that is not there each stop serve at
// start with one clear line naming the store, never a panic.
func TestServeRefusesABadStore(t *testing.T) {
	_, deskURL := manualDesk(t)
	dataDir := t.TempDir()
	startServe(t, freeAddr(t), nil, "--kit", "websocket", "--desk-url", deskURL, "--data-dir", dataDir)
	corrupt := filepath.Join(t.TempDir(), "corrupt.db")
	if err := os.WriteFile(corrupt, []byte(strings.Repeat("not a database ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"same data directory", []string{"--data-dir", dataDir}, "in use by another process"},
		{"corrupt file", []string{"--store", "file:" + corrupt}, corrupt},
		{"no redis", []string{"--store", "redis://" + freeAddr(t) + "/0"}, "redisstore: open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--listen", freeAddr(t), "--kit", "websocket", "--desk-url", deskURL, "--data-dir", t.TempDir()}, tc.args...)
			cmd := exec.Command(deskbridgeBinary(t), args...)
			cmd.Env = append(os.Environ(), "DESKBRIDGE_TOKEN_SECRET="+strings.Repeat("t", 40))
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("serve kept running with a bad store")
			}
			if err == nil || !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "panic") {
				t.Fatalf("serve with %s: %v\n%s", tc.name, err, out)
			}
			t.Logf("%s: %s", tc.name, lastLines(string(out), 1))
		})
	}
}
