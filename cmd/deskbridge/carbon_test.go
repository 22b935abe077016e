package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/deskbridge/deskbridge/core/gateway"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// carbonPage is the bundled @carbon/ai-chat test page (scripts/install-npm.sh).
const carbonPage = "testdata/carbon"

// needCarbonBundle fails in CI (and with DESKBRIDGE_REQUIRE_BROWSER=1) when
// the bundle is missing, and skips with the way to build it otherwise.
func needCarbonBundle(t *testing.T) {
	t.Helper()
	reportBrowserTest(t)
	if _, err := os.Stat(filepath.Join(carbonPage, "dist", "page.js")); err == nil {
		return
	}
	msg := "the @carbon/ai-chat test page is not bundled: run scripts/install-npm.sh (needs npm)"
	if os.Getenv("CI") != "" || os.Getenv("DESKBRIDGE_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	skipReasons.Store(t, msg)
	t.Skip(msg)
}

// deepJS defines helpers that see through Carbon's shadow roots.
const deepJS = `
const deepAll = (sel) => {
  const out = [];
  const walk = (root) => {
    root.querySelectorAll(sel).forEach((e) => out.push(e));
    root.querySelectorAll('*').forEach((e) => { if (e.shadowRoot) walk(e.shadowRoot); });
  };
  walk(document);
  return out;
};
const deepText = () => {
  const parts = [];
  const walk = (n) => {
    if (n.nodeType === 3) { parts.push(n.nodeValue); return; }
    if (n.nodeType !== 1 && n.nodeType !== 11 && n.nodeType !== 9) return;
    if (n.shadowRoot) walk(n.shadowRoot);
    if (n.nodeName === 'STYLE' || n.nodeName === 'SCRIPT') return;
    n.childNodes.forEach(walk);
  };
  walk(document.body);
  return parts.join(' ');
};
const visibleCount = (text) => deepAll('*').filter((e) => {
  if (!e.childNodes) return false;
  const own = [...e.childNodes].some((c) => c.nodeType === 3 && c.nodeValue.includes(text));
  if (!own) return false;
  const r = e.getBoundingClientRect();
  return r.width > 1 && r.height > 1 && !e.closest('[class*="visually-hidden"]');
}).length;
const buttons = (label) => deepAll('button, cds-button, [role="button"]').filter((b) => b.textContent.trim() === label && !b.disabled && !b.hasAttribute('disabled'));
const clickButton = (label) => {
  const b = buttons(label)[0];
  if (!b) return false;
  b.click();
  return true;
};
`

func (p page) deep(expr string) string {
	p.t.Helper()
	return p.eval("(() => {" + deepJS + "; return String(" + expr + "); })()")
}

func (p page) deepUntil(what, expr string) {
	p.t.Helper()
	js := "(() => {" + deepJS + "; return !!(" + expr + "); })()"
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		p.screenshot("carbon-failed.png")
		p.t.Fatalf("waiting for %s: %v\npage text: %s", what, err, p.deep("deepText().replace(/\\s+/g, ' ')"))
	}
}

// typeToCarbon types into Carbon's input field and presses Enter.
func (p page) typeToCarbon(text string) {
	p.t.Helper()
	p.deepUntil("input enabled", `(() => { const i = deepAll('[data-testid="input_field"], [role="textbox"][contenteditable]')[0]; if (!i || i.getAttribute('contenteditable') === 'false' || i.getAttribute('aria-disabled') === 'true') return false; i.focus(); return true; })()`)
	p.do("type "+text, chromedp.KeyEvent(text), chromedp.KeyEvent("\r"))
}

var ada = servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman}

// carbonEnv serves the bundled page on one origin and the demo (one manual
// agent, Ada) on another, whose gateway allows the page's origin.
func carbonEnv(t *testing.T) (*httptest.Server, *demo) {
	t.Helper()
	needCarbonBundle(t)
	pageSrv := httptest.NewServer(http.FileServer(http.Dir(carbonPage)))
	t.Cleanup(pageSrv.Close)
	d := startTestDemo(t, demoConfig{
		Desk:    &mockdesk.Options{Agents: []mockdesk.AgentConfig{{Profile: ada, Online: true, Capacity: 3}}},
		Gateway: gateway.Options{AllowedOrigins: []string{pageSrv.URL}},
	})
	return pageSrv, d
}

// TestCarbonAIChatInChromium runs the real @carbon/ai-chat 1.9.1 with
// deskbridge's adapter as its serviceDeskFactory, loaded from the gateway on
// another origin: start, messages both ways, agent typing, reload and
// reconnect with the whole conversation back, end.
func TestCarbonAIChatInChromium(t *testing.T) {
	pageSrv, d := carbonEnv(t)
	if strings.TrimPrefix(pageSrv.URL, "http://") == strings.TrimPrefix(d.srv.url, "http://") {
		t.Fatal("the page must be on another origin than the gateway")
	}
	bctx := chromium(t)
	ctx, cancel := context.WithTimeout(bctx, 120*time.Second)
	defer cancel()
	p := page{t, ctx}
	actx, acancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer acancel()
	must := func(what string, err error) { t.Helper(); check(t, what, err) }
	url := pageSrv.URL + "/index.html?gateway=" + d.srv.url + "/"
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			t.Logf("console %s: %s", m.Type, m.Text)
		}
	}()
	p.do("open", chromedp.Navigate(url))
	p.deepUntil("chat ready", `deepAll('[data-testid="input_field"], [role="textbox"][contenteditable]').length > 0`)

	p.typeToCarbon("talk to a person")
	p.deepUntil("connect card", `buttons('Connect to agent').length > 0`)
	p.deepUntil("click connect", `clickButton('Connect to agent')`)
	chat, err := d.desk.AwaitChat(actx)
	must("await chat", err)
	if s := chat.Summary(); !strings.Contains(s, "asked for a person") {
		t.Errorf("summary %q", s)
	}
	must("queue", d.desk.QueueUpdate(actx, chat.ID(), 1, -1))
	must("join", chat.Join(actx, ada))
	p.deepUntil("agent joined", `deepText().includes('Ada connected')`)

	must("typing", chat.Typing(actx, true))
	p.deepUntil("agent typing", `deepText().includes('The live agent is typing') || deepAll('[class*="typing"]').length > 0`)
	_, err = chat.SayText(actx, "Hello from Ada, marker-one")
	must("say", err)
	p.deepUntil("agent message", `visibleCount('marker-one') >= 1`)

	p.typeToCarbon("user marker-two")
	m, err := chat.AwaitCustomerMessage(actx)
	must("customer message", err)
	if m.Input.Text != "user marker-two" {
		t.Fatalf("desk got %q", m.Input.Text)
	}

	// Reload: Carbon calls the factory with the persisted state, loads the
	// history, and reconnects; the agent writes during the reload.
	p.do("reload", chromedp.Reload())
	_, err = chat.SayText(actx, "During reload marker-three")
	must("say during reload", err)
	p.deepUntil("history and missed message", `visibleCount('marker-three') >= 1 && visibleCount('marker-one') >= 1`)
	time.Sleep(time.Second) // let any duplicate show up
	for _, mk := range []string{"marker-one", "marker-two", "marker-three"} {
		if n := p.deep(fmt.Sprintf("visibleCount(%q)", mk)); n != "1" {
			t.Errorf("after the reload %s shows %s times, want once\n%s", mk, n, p.deep("deepText()"))
		}
	}
	_, err = chat.SayText(actx, "After reload marker-four")
	must("say after reload", err)
	p.deepUntil("message after reconnect", `visibleCount('marker-four') === 1`)
	p.typeToCarbon("user marker-five")
	m, err = chat.AwaitCustomerMessage(actx)
	must("customer message after reload", err)
	if m.Input.Text != "user marker-five" {
		t.Fatalf("after the reload the desk got %q", m.Input.Text)
	}

	// The user ends the chat from the banner.
	p.deepUntil("disconnect button", `clickButton('Disconnect') || clickButton('End chat')`)
	p.deepUntil("confirm", `(() => { const y = deepAll('.cds-aichat--confirm-modal__yes-button')[0]; if (!y) return false; y.click(); return true; })()`)
	_, err = chat.AwaitEnded(actx)
	must("await end", err)
	p.deepUntil("ended line", `deepText().includes('You disconnected')`)
	p.screenshot("carbon.png")
}

// TestCarbonAdapterEdges: where the adapter must do better than Carbon on
// its own, in the real @carbon/ai-chat: a dead gateway, a reload while
// still queued, and a reconnect that fails.
func TestCarbonAdapterEdges(t *testing.T) {
	pageSrv, d := carbonEnv(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/"
	dead.Close()
	bctx := chromium(t)
	actx, acancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer acancel()
	must := func(what string, err error) { t.Helper(); check(t, what, err) }
	// tab opens the page in a new tab (its own sessionStorage).
	tab := func(query string) page {
		ctx, cancel := chromedp.NewContext(bctx)
		t.Cleanup(cancel)
		ctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
		t.Cleanup(cancel2)
		p := page{t, ctx}
		p.do("open", chromedp.Navigate(pageSrv.URL+"/index.html?gateway="+d.srv.url+"/"+query))
		p.deepUntil("chat ready", `deepAll('[data-testid="input_field"], [role="textbox"][contenteditable]').length > 0`)
		return p
	}

	t.Run("gateway down", func(t *testing.T) {
		// The factory returns at once and never rejects: the chat works,
		// the bot answers, and the card says no agent is available.
		p := tab("&desk=" + deadURL)
		p.t = t
		p.typeToCarbon("hello")
		p.deepUntil("bot answer", `deepText().includes("Bot: say")`)
		p.typeToCarbon("talk to a person")
		p.deepUntil("no agents", `deepText().includes('No agents are available.')`)
	})

	t.Run("reload while queued", func(t *testing.T) {
		p := tab("")
		p.t = t
		p.typeToCarbon("talk to a person")
		p.deepUntil("connect card", `buttons('Connect to agent').length > 0`)
		p.deepUntil("click connect", `clickButton('Connect to agent')`)
		chat, err := d.desk.AwaitChat(actx)
		must("await chat", err)
		p.deepUntil("queued", `deepText().includes('Cancel')`)
		p.do("reload", chromedp.Reload())
		// Carbon would forget the request and leave it queued on the desk.
		_, err = chat.AwaitEnded(actx)
		must("request ended on the desk", err)
		p.deepUntil("user told", `deepText().includes('cancelled when the page reloaded')`)
	})

	t.Run("reconnect fails", func(t *testing.T) {
		p := tab("")
		p.t = t
		p.typeToCarbon("talk to a person")
		p.deepUntil("click connect", `clickButton('Connect to agent')`)
		chat, err := d.desk.AwaitChat(actx)
		must("await chat", err)
		must("join", chat.Join(actx, ada))
		p.deepUntil("agent joined", `deepText().includes('Ada connected')`)
		// The desk ends the chat while the page is away: reconnect answers
		// false, and the adapter says so and forgets the chat.
		p.do("navigate away", chromedp.Navigate("about:blank"))
		must("desk ends", d.desk.DeskEnd(actx, chat.ID(), "test"))
		p.do("come back", chromedp.Navigate(pageSrv.URL+"/index.html?gateway="+d.srv.url+"/"))
		p.deepUntil("user told", `deepText().includes('could not be resumed')`)
		if v := p.eval(`String(Object.keys(sessionStorage).filter((k) => k.startsWith('deskbridge:')).length)`); v != "0" {
			t.Errorf("the adapter kept its state after the chat ended (%s keys)", v)
		}
	})
}

// TestCarbonSurvivesServerRestart: the real @carbon/ai-chat with an agent
// in the chat; `deskbridge serve` (a child process, file store) is killed
// with SIGKILL between two agent messages and started again. The page
// shows a lost connection meanwhile, never "ended the chat"; the socket
// comes back by itself; after a reload Carbon's reconnect resolves true and
// the conversation goes on both ways.
func TestCarbonSurvivesServerRestart(t *testing.T) {
	needCarbonBundle(t)
	pageSrv := httptest.NewServer(http.FileServer(http.Dir(carbonPage)))
	t.Cleanup(pageSrv.Close)
	desk, deskURL := manualDesk(t)
	addr := freeAddr(t)
	args := []string{"--kit", "websocket", "--desk-url", deskURL, "--allowed-origins", pageSrv.URL, "--data-dir", t.TempDir()}
	srv := startServe(t, addr, nil, args...)

	p, chat, actx := carbonWithAgent(t, pageSrv.URL, srv.url, desk, 150*time.Second, "Before the kill marker-one")
	must := func(what string, err error) { t.Helper(); check(t, what, err) }

	srv.kill()
	// The page notices the lost socket and says so, and nothing final.
	p.deepUntil("lost connection shown", `deepText().includes('connection to the live agent was lost')`)
	_, err := chat.SayText(actx, "While the server was dead marker-two")
	must("say while dead", err)
	srv = startServe(t, addr, nil, args...)
	p.deepUntil("missed message after the restart", `visibleCount('marker-two') >= 1`)
	p.deepUntil("reconnected shown", `deepText().includes('reconnected')`)

	p.do("reload", chromedp.Reload())
	p.deepUntil("history after the reload", `visibleCount('marker-one') >= 1 && visibleCount('marker-two') >= 1`)
	_, err = chat.SayText(actx, "After the reload marker-three")
	must("say after reload", err)
	p.deepUntil("message after the reload", `visibleCount('marker-three') === 1`)
	p.typeToCarbon("user marker-four")
	m, err := chat.AwaitCustomerMessage(actx)
	must("customer message", err)
	if m.Input.Text != "user marker-four" {
		t.Fatalf("after the restart and reload the desk got %q", m.Input.Text)
	}
	chatWentOn(t, p, chat, "marker-one", "marker-two", "marker-three", "marker-four")
	p.screenshot("carbon-restart.png")
}

// TestCarbonWhileTheStoreIsAway: the real @carbon/ai-chat with an agent in
// the chat, `deskbridge serve` on Redis; Redis stops between two agent
// messages and starts again (its append-only file brings the data back).
// Meanwhile the page shows the connection as lost, never an ended chat;
// the agent's message sent meanwhile shows once Redis is back, with
// "reconnected", and the chat goes on both ways.
func TestCarbonWhileTheStoreIsAway(t *testing.T) {
	needCarbonBundle(t)
	pageSrv := httptest.NewServer(http.FileServer(http.Dir(carbonPage)))
	t.Cleanup(pageSrv.Close)
	rds := startRedis(t)
	desk, deskURL := manualDesk(t)
	srv := startServe(t, freeAddr(t), []string{"DESKBRIDGE_TOKEN_SECRET=" + strings.Repeat("t", 40)},
		"--kit", "websocket", "--desk-url", deskURL, "--allowed-origins", pageSrv.URL, "--store", rds.URL(), "--data-dir", t.TempDir())

	p, chat, actx := carbonWithAgent(t, pageSrv.URL, srv.url, desk, 120*time.Second, "Before the store went marker-one")
	must := func(what string, err error) { t.Helper(); check(t, what, err) }

	rds.Stop()
	_, err := chat.SayText(actx, "While the store was away marker-two")
	must("say while the store is away", err)
	p.deepUntil("lost connection shown", `deepText().includes('connection to the live agent was lost')`)
	if n := p.deep("visibleCount('marker-two')"); n != "0" {
		t.Errorf("a message the store did not have was shown (%s times)", n)
	}
	rds.Start()
	p.deepUntil("the message sent meanwhile", `visibleCount('marker-two') >= 1`)
	p.deepUntil("reconnected shown", `deepText().includes('reconnected')`)
	p.typeToCarbon("user marker-three")
	m, err := chat.AwaitCustomerMessage(actx)
	must("customer message", err)
	if m.Input.Text != "user marker-three" {
		t.Fatalf("after the store came back the desk got %q", m.Input.Text)
	}
	chatWentOn(t, p, chat, "marker-one", "marker-two", "marker-three")
	p.screenshot("carbon-store-away.png")
}

// carbonWithAgent opens the Carbon page against the gateway at gatewayURL,
// asks for a person, lets agent Ada take the chat and say first (a text
// holding "marker-one"), and waits until the page shows it. The contexts
// end after timeout; actx is for calls to the desk.
func carbonWithAgent(t *testing.T, pageURL, gatewayURL string, desk *mockdesk.Desk, timeout time.Duration, first string) (page, *mockdesk.AgentChat, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(chromium(t), timeout)
	t.Cleanup(cancel)
	p := page{t, ctx}
	actx, acancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(acancel)
	p.do("open", chromedp.Navigate(pageURL+"/index.html?gateway="+gatewayURL+"/"))
	p.deepUntil("chat ready", `deepAll('[data-testid="input_field"], [role="textbox"][contenteditable]').length > 0`)
	p.typeToCarbon("talk to a person")
	p.deepUntil("click connect", `clickButton('Connect to agent')`)
	chat, err := desk.AwaitChat(actx)
	check(t, "await chat", err)
	check(t, "join", chat.Join(actx, ada))
	p.deepUntil("agent joined", `deepText().includes('Ada connected')`)
	_, err = chat.SayText(actx, first)
	check(t, "say", err)
	p.deepUntil("agent message", `visibleCount('marker-one') >= 1`)
	return p, chat, actx
}

// chatWentOn checks, after a second for duplicates to show, that each
// marker shows exactly once, that the user was never told the chat ended,
// and that the desk's chat is still on.
func chatWentOn(t *testing.T, p page, chat *mockdesk.AgentChat, markers ...string) {
	t.Helper()
	time.Sleep(time.Second) // let any duplicate show up
	for _, mk := range markers {
		if n := p.deep(fmt.Sprintf("visibleCount(%q)", mk)); n != "1" {
			t.Errorf("%s shows %s times, want once\n%s", mk, n, p.deep("deepText()"))
		}
	}
	if text := p.deep("deepText()"); strings.Contains(text, "ended the chat") || strings.Contains(text, "could not be resumed") {
		t.Errorf("the user was told the chat ended:\n%s", text)
	}
	if st := chat.State(); st == "ended" {
		t.Errorf("the desk chat ended")
	}
}
