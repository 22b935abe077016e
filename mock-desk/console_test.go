package mockdesk

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium with a fresh profile. A missing
// browser fails the test: scripts/install-deps.sh installs it.
func browser(t *testing.T) context.Context {
	t.Helper()
	reportBrowserTest(t)
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		p, lerr := exec.LookPath("chromium")
		if lerr != nil {
			t.Fatalf("chromium is not installed (%v): run scripts/install-deps.sh (apt-get install -y chromium)", err)
		}
		path = p
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx)
		cancelB()
		cancelA()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium at %s: %v", path, err)
	}
	return ctx
}

// reportBrowserTest notes, in the file DESKBRIDGE_BROWSER_REPORT names
// (scripts/test.sh sets it), whether a browser test passed, failed or was
// skipped, and why it was skipped.
func reportBrowserTest(t *testing.T) {
	path := os.Getenv("DESKBRIDGE_BROWSER_REPORT")
	if path == "" {
		return
	}
	if _, done := browserReported.LoadOrStore(t, true); done {
		return
	}
	t.Cleanup(func() {
		line := "passed " + "mock-desk " + t.Name()
		switch {
		case t.Skipped():
			line = "skipped mock-desk " + t.Name()
		case t.Failed():
			line = "failed " + "mock-desk " + t.Name()
		}
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	})
}

var browserReported sync.Map

// TestConsoleInChromium: a scripted customer (REST) chats with a person
// acting as the agent in the console page, in real headless Chromium.
func TestConsoleInChromium(t *testing.T) {
	you := servicedesk.AgentProfile{ID: "you", Nickname: "You"}
	h := newHarness(t, Options{Agents: []AgentConfig{{Profile: you, Online: true, Capacity: 3}, {Profile: grace, Online: true}}})
	bctx := browser(t)
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	until := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}

	do("open console", chromedp.Navigate(h.srv.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("empty-pane")))

	chat := h.start(StartRequest{Customer: Customer{Name: "Uma"}, ConnectItem: connectItem("Wants to change the delivery address.")})
	var cur int64
	do("pick from the queue",
		chromedp.WaitVisible(chromedp.CSS("#queue li.queue-item")),
		chromedp.Click(chromedp.CSS("#queue li.queue-item")),
		chromedp.WaitVisible(chromedp.ID("chat-pane")),
	)
	if s := text("#summary"); s != "Wants to change the delivery address." {
		t.Fatalf("summary = %q", s)
	}
	do("accept", chromedp.Click(chromedp.ID("accept")))
	evs := h.pollUntil(chat, &cur, EventAgentJoined)
	if j := evs[len(evs)-1]; j.Agent.ID != "you" {
		t.Fatalf("joined as %+v", j.Agent)
	}

	// Untrusted customer text is shown as text, never as markup.
	hostile := `<img src=x onerror="document.title='pwned'"> hi **there**`
	h.mustDo(201, nil, "POST", "/v1/chats/"+chat.ChatID+"/messages", chat.ChatToken, map[string]any{"message": servicedesk.NewTextRequest(hostile)})
	h.mustDo(204, nil, "POST", "/v1/chats/"+chat.ChatID+"/typing", chat.ChatToken, map[string]bool{"typing": true})
	h.upload(chat, [4]string{"notes.txt", "text/plain", "some notes", "f-1"})
	do("see customer message, typing and file",
		chromedp.WaitVisible(chromedp.CSS("#transcript li.customer .text")),
		chromedp.WaitVisible(chromedp.CSS("#typing-indicator:not([hidden])")),
		chromedp.WaitVisible(chromedp.CSS("#transcript li.file")),
	)
	shown := text("#transcript li.customer .text")
	imgs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#transcript img').length`))
	must(t, err)
	title, err := chromedp.Run(ctx, chromedp.Title())
	must(t, err)
	if shown != hostile || imgs != 0 || title == "pwned" {
		t.Fatalf("customer text rendered unsafely: %q, %d images, title %q", shown, imgs, title)
	}
	if f := text("#transcript li.file"); !strings.Contains(f, "notes.txt") {
		t.Fatalf("file line = %q", f)
	}

	do("reply in markdown",
		chromedp.SendKeys(chromedp.ID("reply"), "**Hello** Uma, I can help."),
		chromedp.Click(chromedp.ID("send")),
	)
	evs = h.pollUntil(chat, &cur, EventAgentMessage)
	if m := evs[len(evs)-1]; m.Message.PlainText() != "**Hello** Uma, I can help." || m.Agent.ID != "you" {
		t.Fatalf("agent message = %s", m.JSON())
	}
	if countType(evs, EventAgentTyping) == 0 {
		t.Fatalf("no agent typing while composing: %v", types(evs))
	}

	do("request screen share", chromedp.Click(chromedp.ID("screen-share")))
	evs = h.pollUntil(chat, &cur, EventScreenShareRequest)
	h.mustDo(204, nil, "POST", "/v1/chats/"+chat.ChatID+"/screen_share", chat.ChatToken, map[string]string{"screen_share_id": evs[len(evs)-1].ScreenShareID, "state": "accepted"})
	until("share accepted", `document.getElementById('chat-meta').textContent.includes('screen share accepted')`)

	shot := filepath.Join(t.TempDir(), "console.png")
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(t, err)
	must(t, os.WriteFile(shot, png, 0o644))
	if len(png) < 1000 {
		t.Fatalf("screenshot has %d bytes", len(png))
	}
	if dir := os.Getenv("MOCKDESK_SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "console.png"), png, 0o644)
	}
	t.Logf("screenshot: %s", shot)

	do("transfer to Grace",
		chromedp.SetValue(chromedp.ID("transfer-select"), "agent-2"),
		chromedp.Click(chromedp.ID("transfer")),
	)
	evs = h.pollUntil(chat, &cur, EventTransferStarted)
	if e := evs[len(evs)-1]; e.Agent.ID != "agent-2" {
		t.Fatalf("transfer to %+v", e.Agent)
	}
	do("end", chromedp.Click(chromedp.ID("end")))
	evs = h.pollUntil(chat, &cur, EventChatEnded)
	if e := evs[len(evs)-1]; e.EndedBy != EndedByAgent {
		t.Fatalf("ended by %q", e.EndedBy)
	}
	until("ended shown", `document.getElementById('chat-meta').textContent.includes('ended')`)
	state := text("#chat-meta")
	if !strings.Contains(state, "ended") {
		t.Fatal(state)
	}
}
