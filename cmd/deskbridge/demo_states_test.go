package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// TestDemoPageStatesInChromium: what the demo page shows when things go
// wrong or cannot be done. A stale "Connect to agent" card cannot act once
// a newer one answered; an error is a sentence (the gateway's text goes to
// the browser console only), also for a file picked after the chat ended;
// after the end the 📎 button is gone and the used card's button looks
// disabled; the agent's markdown is rendered; the page has an icon.
func TestDemoPageStatesInChromium(t *testing.T) {
	caps := servicedesk.Capabilities{AllowFileUploads: true, AllowedFileUploadTypes: "image/*,.txt", MaxFileSizeBytes: 1 << 20, MaxFiles: 3}
	d := startTestDemo(t, demoConfig{Desk: &mockdesk.Options{
		Agents:       []mockdesk.AgentConfig{{Profile: ada, Online: true, Capacity: 3}},
		Capabilities: &caps,
	}})
	p, actx := demoTab(t)
	must := func(what string, err error) { t.Helper(); check(t, what, err) }
	visibleConnect := `[...document.querySelectorAll('button.connect-agent')].filter(b => b.getClientRects().length > 0)`

	p.do("open", chromedp.Navigate(d.srv.url+"/"), chromedp.WaitVisible(chromedp.CSS("#transcript li.bot")))
	if got := p.awaitEval(`Promise.all([document.querySelector('link[rel=icon]').href, '/favicon.ico'].map(u => fetch(u).then(r => r.status + ' ' + r.headers.get('content-type')))).then(a => a.join(', '))`); got != "200 image/svg+xml, 200 image/svg+xml" {
		t.Errorf("icon: %s", got)
	}

	// A first card offers an agent; a newer one says none is available:
	// the first can no longer be clicked.
	p.say("talk to a person")
	p.until("first card", visibleConnect+`.some(b => !b.disabled)`)
	must("agents offline", d.desk.SetAgentsOnline(actx, false))
	p.say("a person please")
	p.until("no-agents card", `document.querySelector('#transcript li.card.no-agents') !== null`)
	if n := p.evalInt(visibleConnect + `.filter(b => !b.disabled).length`); n != 0 {
		t.Fatalf("a stale Connect to agent button can still be clicked (%d)", n)
	}
	if got := p.eval(`document.querySelector('#transcript li.card.stale .card-note').textContent`); got != "A newer answer is below." {
		t.Errorf("the stale card does not say why it cannot act: %q", got)
	}
	must("agents online", d.desk.SetAgentsOnline(actx, true))
	p.say("a person, now?")
	p.until("newest card", visibleConnect+`.filter(b => !b.disabled).length === 1`)
	p.do("connect", chromedp.Click(chromedp.CSS("#transcript li.card button.connect-agent:not([disabled])")))
	chat, err := d.desk.AwaitChat(actx)
	must("await chat", err)
	must("join", chat.Join(actx, ada))
	p.until("agent joined", `window.deskbridgeDemo.state === 'connected' && !document.getElementById('file-label').hidden`)
	_, err = chat.SayText(actx, "**Hello**, see `order 42`.")
	must("say", err)
	p.until("agent markdown", `[...document.querySelectorAll('#transcript li.agent strong')].some(s => s.textContent === 'Hello') && document.querySelector('#transcript li.agent code').textContent === 'order 42'`)

	// A refused file: a sentence.
	dir := t.TempDir()
	bad, late := filepath.Join(dir, "tool.exe"), filepath.Join(dir, "late.txt")
	must("write", os.WriteFile(bad, []byte("MZ\x90\x00binary"), 0o644))
	must("write", os.WriteFile(late, []byte("late"), 0o644))
	p.do("upload bad", chromedp.SetUploadFiles(chromedp.ID("file"), []string{bad}))
	p.until("upload error", `[...document.querySelectorAll('#transcript li.error')].some(li => li.textContent.includes('tool.exe'))`)
	if got := p.eval(`[...document.querySelectorAll('#transcript li.error')].pop().textContent`); got != "Could not send tool.exe. This type of file can't be sent." {
		t.Errorf("error shown for a refused file: %q", got)
	}
	if got := p.eval(`getComputedStyle([...document.querySelectorAll('#transcript li.error')].pop()).color`); got != "rgb(162, 25, 31)" {
		t.Errorf("the error line is not shown as an error: color %s", got)
	}
	p.screenshot("demo-error.png")

	// The agent ends the chat: no 📎, and the used card's button looks
	// disabled.
	must("end", chat.End(actx))
	p.until("ended", `window.deskbridgeDemo.state === 'ended'`)
	if got := p.eval(`getComputedStyle(document.getElementById('file-label')).display`); got != "none" {
		t.Errorf("the 📎 button shows after the chat ended (display %s)", got)
	}
	if got := p.eval(`(() => { const b = [...document.querySelectorAll('#transcript li.card button.connect-agent')].pop(); const s = getComputedStyle(b), e = getComputedStyle(document.getElementById('send')); return [b.disabled, b.textContent, s.cursor, s.backgroundColor === e.backgroundColor].join(' '); })()`); got != "true Requested not-allowed false" {
		t.Errorf("the used card's button (disabled, label, cursor, looks like an enabled one): %s", got)
	}
	p.screenshot("demo-disabled.png")

	// A file picked anyway (the input is still in the page): a sentence,
	// never the engine's text.
	p.do("upload late", chromedp.SetUploadFiles(chromedp.ID("file"), []string{late}))
	p.until("late upload error", `[...document.querySelectorAll('#transcript li.error')].some(li => li.textContent.includes('late.txt'))`)
	got := p.eval(`[...document.querySelectorAll('#transcript li.error')].pop().textContent`)
	if !strings.HasPrefix(got, "Could not send late.txt. ") || strings.Contains(got, "flow:") || strings.Contains(got, "session") || strings.Contains(got, "state ended") {
		t.Errorf("error shown for a file after the end: %q", got)
	}
}

// awaitEval evaluates a JavaScript promise to a string.
func (p page) awaitEval(js string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("eval %s: %v", js, err)
	}
	return s
}
