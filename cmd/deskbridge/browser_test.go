package main

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
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// chromium starts Debian's headless Chromium with a fresh profile. Missing
// Chromium fails the test: scripts/install-deps.sh installs it.
func chromium(t *testing.T) context.Context {
	t.Helper()
	reportBrowserTest(t)
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (%v): run scripts/install-deps.sh", err)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
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
		chromedp.WindowSize(1100, 900),
	)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx)
		cancelB()
		cancelA()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
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
		line := "passed " + "cmd/deskbridge " + t.Name()
		switch {
		case t.Skipped():
			line = "skipped " + "cmd/deskbridge " + t.Name() + ": " + skipReason(t)
		case t.Failed():
			line = "failed " + "cmd/deskbridge " + t.Name()
		}
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	})
}

var browserReported sync.Map

// skipReasons keeps why a browser test skipped, for the report.
var skipReasons sync.Map

func skipReason(t *testing.T) string {
	r, _ := skipReasons.Load(t)
	s, _ := r.(string)
	return s
}

// check fails the test when err is set.
func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// page wraps a browser tab with helpers that fail the test.
type page struct {
	t   *testing.T
	ctx context.Context
}

func (p page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// until polls a JavaScript condition.
func (p page) until(what, js string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		p.t.Fatalf("waiting for %s: %v\n%s", what, err, p.eval(`document.body.innerText`))
	}
}

func (p page) eval(js string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("eval %s: %v", js, err)
	}
	return s
}

func (p page) evalInt(js string) int {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](js))
	if err != nil {
		p.t.Fatalf("eval %s: %v", js, err)
	}
	return n
}

func (p page) say(text string) {
	p.t.Helper()
	p.do("type "+text, chromedp.SetValue(chromedp.ID("input"), text), chromedp.Click(chromedp.ID("send")))
}

// countText counts transcript lines of a class whose text contains s.
func (p page) countText(class, s string) int {
	return p.evalInt(fmt.Sprintf(`[...document.querySelectorAll('#transcript li.%s')].filter(li => li.textContent.includes(%q)).length`, class, s))
}

func (p page) screenshot(name string) {
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot: %v", err)
		return
	}
	dir := os.Getenv("DESKBRIDGE_SCREENSHOT_DIR")
	if dir == "" {
		dir = p.t.TempDir()
	}
	_ = os.WriteFile(filepath.Join(dir, name), png, 0o644)
}

// demoTab opens a Chromium tab for a demo page test, and a context for
// the test's agent actions; both end with the test (90 s at most).
func demoTab(t *testing.T) (page, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(chromium(t), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(acancel)
	return page{t, ctx}, actx
}

// TestDemoPageInChromium: the demo page through a whole hand-off, with the
// agent acting through mock-desk's control API, and a reload mid-chat that
// resumes with nothing lost or doubled.
func TestDemoPageInChromium(t *testing.T) {
	grace := servicedesk.AgentProfile{ID: "grace", Nickname: "Grace", UserType: servicedesk.UserHuman}
	caps := servicedesk.Capabilities{AllowFileUploads: true, AllowMultipleFileUploads: true, AllowedFileUploadTypes: "image/*,.txt", MaxFileSizeBytes: 1 << 20, MaxFiles: 3}
	d := startTestDemo(t, demoConfig{Desk: &mockdesk.Options{
		Agents:       []mockdesk.AgentConfig{{Profile: ada, Online: false, Capacity: 3}, {Profile: grace, Online: true, Capacity: 3}},
		Capabilities: &caps,
	}})
	p, actx := demoTab(t)
	desk := d.desk
	must := func(what string, err error) { t.Helper(); check(t, what, err) }

	p.do("open", chromedp.Navigate(d.srv.url+"/"), chromedp.WaitVisible(chromedp.CSS("#transcript li.bot")))

	// Nobody online: the card says so and offers no button.
	must("agents offline", desk.SetAgentsOnline(actx, false))
	p.say("talk to a person")
	p.until("no agents card", `document.querySelector('#transcript li.card.no-agents') !== null`)
	if n := p.evalInt(`document.querySelectorAll('button.connect-agent').length`); n != 0 {
		t.Fatalf("a connect button while no agent is online (%d)", n)
	}
	must("agents online", desk.SetAgentOnline(actx, "ada", true))
	p.say("a person please")
	p.until("connect card", `[...document.querySelectorAll('button.connect-agent')].some(b => !b.disabled)`)
	p.do("connect", chromedp.Click(chromedp.CSS("button.connect-agent:not([disabled])")))
	p.until("waiting banner", `!document.getElementById('banner').hidden`)

	chat, err := desk.AwaitChat(actx)
	must("await chat", err)
	must("queue", desk.QueueUpdate(actx, chat.ID(), 2, -1))
	p.until("queue position", `document.getElementById('banner-text').textContent.includes('2')`)
	p.do("see cancel", chromedp.WaitVisible(chromedp.ID("cancel")))

	must("join", chat.Join(actx, ada))
	p.until("agent header", `!document.getElementById('agent').hidden && document.getElementById('agent-name').textContent === 'Ada'`)
	if av := p.eval(`document.getElementById('agent-avatar').textContent`); av != "A" {
		t.Fatalf("avatar %q", av)
	}
	must("typing", chat.Typing(actx, true))
	p.until("agent typing", `!document.getElementById('agent-typing').hidden`)
	_, err = chat.SayText(actx, "Hello, I am **Ada**.")
	must("say", err)
	p.until("agent message", `[...document.querySelectorAll('#transcript li.agent strong')].some(s => s.textContent === 'Ada')`)
	p.until("typing off", `document.getElementById('agent-typing').hidden`)

	p.say("My parcel is late")
	m, err := chat.AwaitCustomerMessage(actx)
	must("customer message", err)
	if m.Input.Text != "My parcel is late" {
		t.Fatalf("desk got %q", m.Input.Text)
	}
	if on, err := chat.AwaitCustomerTyping(actx); err != nil || !on {
		t.Fatalf("user typing reached the desk as %v (%v)", on, err)
	}

	// Hostile agent markdown is shown as text: nothing runs, no image loads.
	hostile := `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script> [click](javascript:document.title='pwned')`
	_, err = chat.SayText(actx, hostile)
	must("say hostile", err)
	p.until("hostile message shown", `[...document.querySelectorAll('#transcript li.agent')].some(li => li.textContent.includes('<script>'))`)
	if n := p.evalInt(`document.querySelectorAll('#transcript img, #transcript script, #transcript a[href^="javascript"]').length`); n != 0 {
		t.Fatalf("agent markup became %d live elements", n)
	}
	time.Sleep(200 * time.Millisecond)
	if title := p.eval(`document.title`); title == "pwned" {
		t.Fatal("a script from the agent ran")
	}

	// Reload mid-chat; the agent writes while the page is away.
	p.do("reload", chromedp.Reload())
	_, err = chat.SayText(actx, "Sent during the reload")
	must("say during reload", err)
	p.do("reloaded", chromedp.WaitVisible(chromedp.CSS("#transcript li.bot")))
	p.until("resumed", `[...document.querySelectorAll('#transcript li.agent')].some(li => li.textContent.includes('Sent during the reload'))`)
	p.until("header back", `document.getElementById('agent-name').textContent === 'Ada'`)
	for _, c := range []struct{ class, text string }{
		{"agent", "I am Ada"}, {"agent", "<script>"}, {"agent", "Sent during the reload"},
		{"user", "My parcel is late"}, {"user", "a person please"}, {"status", "Ada connected"},
	} {
		if n := p.countText(c.class, c.text); n != 1 {
			t.Errorf("after the reload %q shows %d times in li.%s, want once\n%s", c.text, n, c.class, p.eval(`document.getElementById('transcript').innerText`))
		}
	}
	if n := p.evalInt(`document.querySelectorAll('#transcript li.bot').length`); n < 3 {
		t.Errorf("the bot's part was lost in the reload: %d bot lines", n)
	}
	p.say("Still there?")
	m, err = chat.AwaitCustomerMessage(actx)
	must("message after reload", err)
	if m.Input.Text != "Still there?" {
		t.Fatalf("after the reload the desk got %q", m.Input.Text)
	}

	// Files: a good one reaches the desk; a refused one shows its error.
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "notes.txt"), filepath.Join(dir, "tool.exe")
	must("write", os.WriteFile(good, []byte("order 42, parcel late"), 0o644))
	must("write", os.WriteFile(bad, []byte("MZ\x90\x00binary"), 0o644))
	p.until("upload button", `!document.getElementById('file-label').hidden`)
	p.do("upload", chromedp.SetUploadFiles(chromedp.ID("file"), []string{good}))
	f, err := chat.AwaitFile(actx)
	must("await file", err)
	if f.File.Name != "notes.txt" {
		t.Fatalf("desk got file %+v", f)
	}
	p.until("file delivered", `[...document.querySelectorAll('#transcript li.user')].some(li => li.textContent.includes('notes.txt'))`)
	p.do("upload bad", chromedp.SetUploadFiles(chromedp.ID("file"), []string{bad}))
	p.until("upload error", `[...document.querySelectorAll('#transcript li.error')].some(li => li.textContent.includes('tool.exe'))`)

	// Screen share: the consent dialog, and the answer reaches the agent.
	_, err = desk.AgentRequestScreenShareAsync(actx, chat.ID())
	must("ask to share", err)
	p.until("consent dialog", `document.getElementById('share-dialog').open`)
	p.do("accept", chromedp.Click(chromedp.ID("share-accept")))
	st, err := chat.AwaitScreenShare(actx)
	must("share answer", err)
	if st != servicedesk.ScreenShareAccepted {
		t.Fatalf("share answer %q", st)
	}

	// Transfer, then the new agent leaves.
	must("transfer", chat.Transfer(actx, grace))
	p.until("transfer line", `[...document.querySelectorAll('#transcript li.status')].some(li => /transfer/i.test(li.textContent))`)
	must("grace joins", chat.Join(actx, grace))
	p.until("grace header", `document.getElementById('agent-name').textContent === 'Grace'`)
	must("leave", chat.Leave(actx))
	p.until("left line", `[...document.querySelectorAll('#transcript li.status')].some(li => /Grace disconnected/i.test(li.textContent))`)
	p.screenshot("demo-page.png")

	// The user ends the chat.
	p.do("end", chromedp.Click(chromedp.ID("end-chat")))
	_, err = chat.AwaitEnded(actx)
	must("await end", err)
	p.until("ended", `window.deskbridgeDemo.state === 'ended' && document.getElementById('agent').hidden && document.querySelector('#transcript li.status:last-child') !== null`)
	if s := p.eval(`document.getElementById('transcript').innerText`); strings.Count(s, "Sent during the reload") != 1 {
		t.Fatalf("transcript at the end:\n%s", s)
	}
}
