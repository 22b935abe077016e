package mockdesk

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/deskbridge/deskbridge/core/deskproto"
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

	chat := h.start(deskproto.StartRequest{Customer: &deskproto.Customer{Name: "Uma"}, ConnectItem: connectItem("Wants to change the delivery address.")})
	var cur uint64
	do("pick from the queue",
		chromedp.WaitVisible(chromedp.CSS("#queue li.queue-item")),
		chromedp.Click(chromedp.CSS("#queue li.queue-item")),
		chromedp.WaitVisible(chromedp.ID("chat-pane")),
	)
	if s := text("#summary"); s != "Wants to change the delivery address." {
		t.Fatalf("summary = %q", s)
	}
	do("accept", chromedp.Click(chromedp.ID("accept")))
	evs := h.pollUntil(chat, &cur, deskproto.EventAgentJoined)
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
	evs = h.pollUntil(chat, &cur, deskproto.EventAgentMessage)
	if m := evs[len(evs)-1]; m.Message.PlainText() != "**Hello** Uma, I can help." || m.Agent.ID != "you" {
		t.Fatalf("agent message = %s", eventJSON(m))
	}
	if countType(evs, deskproto.EventAgentTyping) == 0 {
		t.Fatalf("no agent typing while composing: %v", types(evs))
	}

	do("request screen share", chromedp.Click(chromedp.ID("screen-share")))
	evs = h.pollUntil(chat, &cur, deskproto.EventScreenShareRequested)
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
	evs = h.pollUntil(chat, &cur, deskproto.EventTransferStarted)
	if e := evs[len(evs)-1]; e.Agent.ID != "agent-2" {
		t.Fatalf("transfer to %+v", e.Agent)
	}
	do("end", chromedp.Click(chromedp.ID("end")))
	evs = h.pollUntil(chat, &cur, deskproto.EventChatEnded)
	if e := evs[len(evs)-1]; e.EndedBy != EndedByAgent {
		t.Fatalf("ended by %q", e.EndedBy)
	}
	until("ended shown", `document.getElementById('chat-meta').textContent.includes('ended')`)
	state := text("#chat-meta")
	if !strings.Contains(state, "ended") {
		t.Fatal(state)
	}
}

// consoleShot saves a screenshot of the console under name, in
// MOCKDESK_SCREENSHOT_DIR when set (else the test's temporary directory).
func consoleShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(t, err)
	dir := os.Getenv("MOCKDESK_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	must(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	t.Logf("screenshot: %s", filepath.Join(dir, name))
}

// TestConsoleStatesInChromium: the console with no chat picked shows only
// the hint (no action bar, no reply box); the agent's markdown is rendered
// as the customer sees it; controls that cannot act are disabled and look
// it; an error from the desk is a sentence, not the desk's text; the page
// has an icon.
func TestConsoleStatesInChromium(t *testing.T) {
	you := servicedesk.AgentProfile{ID: "you", Nickname: "You"}
	h := newHarness(t, Options{Agents: []AgentConfig{{Profile: you, Online: true, Capacity: 3}}})
	// The page talks to the desk through a front that can refuse /say
	// with the desk's own error body, as when the chat ended meanwhile.
	var refuseSay atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuseSay.Load() && strings.HasSuffix(r.URL.Path, "/say") {
			writeError(w, fmt.Errorf("chat c-secret-1: say: %w", ErrChatEnded))
			return
		}
		h.desk.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	bctx := browser(t)
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("eval %s: %v", js, err)
		}
		return s
	}
	until := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	click := func(id string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID(id))); err != nil {
			t.Fatalf("click %s: %v", id, err)
		}
	}

	// Empty state: the hint only.
	if err := chromedp.Do(ctx, chromedp.Navigate(front.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("empty-pane"))); err != nil {
		t.Fatal(err)
	}
	until("live", `document.getElementById('conn-status').textContent === 'live'`)
	if got := eval(`getComputedStyle(document.getElementById('chat-pane')).display + ' ' + ['composer', 'accept', 'reply', 'transcript'].filter(id => document.getElementById(id).getClientRects().length > 0).join(' ')`); got != "none " {
		t.Errorf("with no chat picked the chat pane shows: %s", got)
	}
	consoleShot(t, ctx, "console-empty.png")

	// The icon is there, at the link and at /favicon.ico.
	if got := eval(`Promise.all([document.querySelector('link[rel=icon]').href, '/favicon.ico'].map(u => fetch(u).then(r => r.status + ' ' + r.headers.get('content-type')))).then(a => a.join(', '))`); got != "200 image/svg+xml, 200 image/svg+xml" {
		t.Errorf("icon: %s", got)
	}

	// A queued chat: only Accept and End can act; the others look disabled.
	chat := h.start(deskproto.StartRequest{Customer: &deskproto.Customer{Name: "Uma"}, ConnectItem: connectItem("Wants a refund.")})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#queue li.queue-item")), chromedp.Click(chromedp.CSS("#queue li.queue-item")), chromedp.WaitVisible(chromedp.ID("chat-pane"))); err != nil {
		t.Fatal(err)
	}
	disabled := `['accept', 'send', 'transfer', 'leave', 'screen-share', 'request-files', 'end', 'end-screen-share', 'reply'].filter(id => document.getElementById(id).disabled).join(' ')`
	if got := eval(disabled); got != "send transfer leave screen-share request-files end-screen-share reply" {
		t.Errorf("queued chat: disabled controls %q", got)
	}
	if got := eval(`(() => { const s = getComputedStyle(document.getElementById('send')), a = getComputedStyle(document.getElementById('accept')); return [s.cursor, Number(s.opacity) < 0.6, a.cursor, a.opacity].join(' '); })()`); got != "not-allowed true pointer 1" {
		t.Errorf("a disabled button does not look disabled (cursor, dimmed; the enabled one): %s", got)
	}
	consoleShot(t, ctx, "console-disabled.png")

	// Accept, then reply in markdown: the agent's line is rendered.
	click("accept")
	until("accepted", `!document.getElementById('reply').disabled`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("reply"), "**Hello** Uma, see `order 42` and [the policy](https://example.com/refunds)."), chromedp.Click(chromedp.ID("send"))); err != nil {
		t.Fatal(err)
	}
	until("agent line", `document.querySelector('#transcript li.agent .text strong') !== null`)
	if got := eval(`(() => { const li = document.querySelector('#transcript li.agent .text'); return [li.querySelector('strong').textContent, li.querySelector('code').textContent, li.querySelector('a').href, li.textContent.includes('**')].join('|'); })()`); got != "Hello|order 42|https://example.com/refunds|false" {
		t.Errorf("the agent's markdown in the console: %s", got)
	}
	// The customer's text stays as typed, markup and all.
	h.mustDo(201, nil, "POST", "/v1/chats/"+chat.ChatID+"/messages", chat.ChatToken, map[string]any{"message": servicedesk.NewTextRequest("a **bold** claim")})
	until("customer line", `[...document.querySelectorAll('#transcript li.customer .text')].some(e => e.textContent === 'a **bold** claim' && !e.querySelector('strong'))`)

	// The desk refuses a reply: a sentence, not the desk's own text.
	refuseSay.Store(true)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("reply"), "are you there?"), chromedp.Click(chromedp.ID("send"))); err != nil {
		t.Fatal(err)
	}
	until("error shown", `!document.getElementById('error').hidden`)
	if got := eval(`document.getElementById('error').textContent`); got != "This chat has ended." {
		t.Errorf("error shown to the agent: %q", got)
	}
	if got := eval(`getComputedStyle(document.getElementById('error')).display`); got == "none" {
		t.Error("the error is not visible")
	}
	consoleShot(t, ctx, "console-error.png")
	if v := eval(`document.getElementById('reply').value`); v != "are you there?" {
		t.Errorf("the refused reply was lost from the box: %q", v)
	}
}
