package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/gateway"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// puppet is a desk the test plays by hand: it records what the engine
// asks and hands the test the session's Callback, so that a test can make
// exactly the callback it is about (a transfer before any join, say), with
// the real @carbon/ai-chat on the other side.
type puppet struct {
	mu       sync.Mutex
	cb       servicedesk.Callback
	sid      string
	calls    []string
	ended    []servicedesk.EndChatInfo
	sent     []servicedesk.MessageRequest
	started  []servicedesk.StartChatOptions
	failText string        // a message whose text holds this fails
	holdText string        // a message whose text holds this waits for hold
	hold     chan struct{} // closed to let held sends go
	endDelay time.Duration
	online   time.Duration // AreAnyAgentsOnline answers true after this
	changed  chan struct{}
}

func newPuppet() *puppet {
	return &puppet{changed: make(chan struct{}, 1), hold: make(chan struct{})}
}

func (d *puppet) record(call string) {
	d.mu.Lock()
	d.calls = append(d.calls, call)
	d.mu.Unlock()
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (d *puppet) count(call string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.calls {
		if c == call {
			n++
		}
	}
	return n
}

// await waits until call was made n times.
func (d *puppet) await(t *testing.T, call string, n int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for d.count(call) < n {
		select {
		case <-d.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			d.mu.Lock()
			t.Fatalf("the desk never got %s ×%d; calls %v", call, n, d.calls)
		}
	}
}

func (d *puppet) callback() servicedesk.Callback {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cb
}

func (d *puppet) Name() string { return "puppet" }

func (d *puppet) StartChat(_ context.Context, _ servicedesk.MessageResponse, o servicedesk.StartChatOptions) error {
	d.mu.Lock()
	d.started = append(d.started, o)
	d.mu.Unlock()
	d.record("StartChat")
	return nil
}

func (d *puppet) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	d.mu.Lock()
	d.ended = append(d.ended, info)
	delay := d.endDelay
	d.mu.Unlock()
	d.record("EndChat")
	select {
	case <-time.After(delay):
	case <-ctx.Done():
	}
	return nil
}

func (d *puppet) SendMessageToAgent(ctx context.Context, m servicedesk.MessageRequest, id string, _ servicedesk.AdditionalDataToAgent) error {
	d.mu.Lock()
	d.sent = append(d.sent, m)
	fail, held, hold := d.failText, d.holdText, d.hold
	d.mu.Unlock()
	d.record("SendMessageToAgent")
	if held != "" && strings.Contains(m.Input.Text, held) {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != "" && strings.Contains(m.Input.Text, fail) {
		return errors.New("the desk refused it")
	}
	return nil
}

func (d *puppet) AreAnyAgentsOnline(ctx context.Context, _ servicedesk.MessageResponse) (servicedesk.OnlineStatus, error) {
	d.mu.Lock()
	wait := d.online
	d.mu.Unlock()
	select {
	case <-time.After(wait):
		return servicedesk.Online, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// puppetEnv is the Carbon test page on one origin and a gateway whose one
// desk is a puppet on another.
type puppetEnv struct {
	t     *testing.T
	page  *httptest.Server
	gwURL string
	gw    *gateway.Gateway
	desk  *puppet
	bctx  context.Context
}

func newPuppetEnv(t *testing.T, fo flow.Options, setup func(*puppet)) *puppetEnv {
	t.Helper()
	needCarbonBundle(t)
	e := &puppetEnv{t: t, desk: newPuppet()}
	if setup != nil {
		setup(e.desk)
	}
	e.page = httptest.NewServer(http.FileServer(http.Dir(carbonPage)))
	t.Cleanup(e.page.Close)
	gw, err := gateway.New(gateway.Options{
		Factory: func(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
			e.desk.mu.Lock()
			e.desk.cb, e.desk.sid = p.Callback, p.Instance.SessionID()
			e.desk.mu.Unlock()
			return e.desk, nil
		},
		Flow:           fo,
		AllowedOrigins: []string{e.page.URL},
		Logger:         quietLog(),
	})
	check(t, "gateway", err)
	srv := httptest.NewServer(gw)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
		srv.Close()
	})
	e.gw, e.gwURL = gw, srv.URL+"/"
	e.bctx = chromium(t)
	return e
}

// open loads the test page with Carbon's serviceDesk config sd (JSON).
func (e *puppetEnv) open(sd string) page {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.bctx, 90*time.Second)
	e.t.Cleanup(cancel)
	p := page{e.t, ctx}
	u := e.page.URL + "/index.html?gateway=" + url.QueryEscape(e.gwURL)
	if sd != "" {
		u += "&sd=" + url.QueryEscape(sd)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			e.t.Logf("console %s: %s", m.Type, m.Text)
		}
	}()
	p.do("open", chromedp.Navigate(u))
	p.deepUntil("chat ready", `deepAll('[data-testid="input_field"], [role="textbox"][contenteditable]').length > 0`)
	return p
}

// connect asks the bot for a person and clicks Connect.
func (e *puppetEnv) connect(p page) {
	e.t.Helper()
	n := e.desk.count("StartChat")
	p.typeToCarbon("talk to a person")
	p.deepUntil("connect card", `buttons('Connect to agent').length > 0`)
	p.deepUntil("click connect", `clickButton('Connect to agent')`)
	e.desk.await(e.t, "StartChat", n+1)
}

// join has agent p join and waits for Carbon to show it.
func (e *puppetEnv) join(pg page, p servicedesk.AgentProfile) {
	e.t.Helper()
	e.desk.callback().AgentJoined(p)
	pg.deepUntil(p.Nickname+" joined", `deepText().includes('`+p.Nickname+` connected')`)
}

// failedLine is what Carbon writes under a message it marks failed.
const failedLine = "There is an error with the message you just sent"

// failedMessages returns the user messages Carbon shows failed: each is the
// last "You said …" before a failed line.
func failedMessages(p page) []string {
	text := strings.Join(strings.Fields(p.deep("deepText()")), " ")
	parts := strings.Split(text, failedLine)
	var out []string
	for _, part := range parts[:len(parts)-1] {
		if i := strings.LastIndex(part, "You said "); i >= 0 {
			out = append(out, strings.TrimSpace(part[i+len("You said "):]))
		}
	}
	return out
}

// awaitFailed waits until the message holding marker is shown failed.
func awaitFailed(t *testing.T, p page, marker string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, m := range failedMessages(p) {
			if strings.Contains(m, marker) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not shown failed; failed: %q\n%s", marker, failedMessages(p), p.deep("deepText()"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// afterReload waits for the page to be back and Carbon's reconnect to be
// through (the input is enabled again).
func afterReload(p page) {
	p.t.Helper()
	p.deepUntil("chat ready", `deepAll('[data-testid="input_field"], [role="textbox"][contenteditable]').length > 0`)
	p.deepUntil("input enabled", `(() => { const i = deepAll('[data-testid="input_field"], [role="textbox"][contenteditable]')[0]; return i && i.getAttribute('contenteditable') !== 'false' && i.getAttribute('aria-disabled') !== 'true'; })()`)
}

var grace = servicedesk.AgentProfile{ID: "grace", Nickname: "Grace", UserType: servicedesk.UserHuman}

// TestCarbonFailedMessagesShowFailed: a user message the desk refuses, and
// one still waiting in the outbox when the agent ends the chat, are shown
// failed by Carbon on the right message; the ones the desk took are not.
func TestCarbonFailedMessagesShowFailed(t *testing.T) {
	e := newPuppetEnv(t, flow.Options{AssistantReturnDelay: -1}, func(d *puppet) {
		d.failText, d.holdText = "refuse-me", "hold-me"
	})
	p := e.open("")
	e.connect(p)
	e.join(p, ada)

	p.typeToCarbon("fine marker-ok")
	e.desk.await(t, "SendMessageToAgent", 1)
	p.typeToCarbon("please refuse-me marker-refused")
	e.desk.await(t, "SendMessageToAgent", 2)
	awaitFailed(t, p, "marker-refused")

	// One in flight (held by the desk), one behind it in the outbox; then
	// the agent ends the chat.
	p.typeToCarbon("hold-me marker-inflight")
	e.desk.await(t, "SendMessageToAgent", 3)
	p.typeToCarbon("queued marker-queued")
	time.Sleep(500 * time.Millisecond)
	e.desk.callback().AgentEndedChat()
	p.deepUntil("ended", `deepText().includes('Ada ended the chat')`)
	awaitFailed(t, p, "marker-queued")
	close(e.desk.hold) // the desk takes the in-flight one after all
	time.Sleep(time.Second)
	failed := failedMessages(p)
	for _, m := range failed {
		if strings.Contains(m, "marker-ok") || strings.Contains(m, "marker-inflight") {
			t.Errorf("%q is shown failed, but the desk took it", m)
		}
	}
	if len(failed) != 2 {
		t.Errorf("%d messages shown failed, want 2: %q", len(failed), failed)
	}
}

// TestCarbonTransferBeforeJoinThenReload: the desk transfers (with a
// profile) before anyone joined, which Carbon counts as connected; after a
// reload the chat goes on, and it is not abandoned as a wait.
func TestCarbonTransferBeforeJoinThenReload(t *testing.T) {
	e := newPuppetEnv(t, flow.Options{}, nil)
	p := e.open("")
	e.connect(p)
	e.desk.callback().BeginTransferToAnotherAgent(&grace)
	p.deepUntil("transfer shown", `deepText().includes("You're being transferred")`)
	p.deepUntil("banner shows Grace", `deepText().includes('Grace')`)
	time.Sleep(300 * time.Millisecond) // the adapter persists its phase
	p.do("reload", chromedp.Reload())
	afterReload(p)
	e.desk.callback().SendTextToUser("after the reload marker-grace", "")
	p.deepUntil("agent message after the reload", `visibleCount('marker-grace') === 1`)
	p.typeToCarbon("user marker-after")
	e.desk.await(t, "SendMessageToAgent", 1)
	if n := e.desk.count("EndChat"); n != 0 {
		t.Errorf("the desk was told to end the chat %d times", n)
	}
	if text := p.deep("deepText()"); strings.Contains(text, "cancelled when the page reloaded") {
		t.Errorf("the adapter abandoned the chat:\n%s", text)
	}
}

// TestCarbonServerSideEndIsShown: a chat the server ends as the user's end
// (a Go host's Session.EndChat; the abandon sweep after a tab slept) is
// ended in Carbon too: the banner goes, Carbon's own line shows, and the
// next message goes to the bot instead of failing with no_chat.
func TestCarbonServerSideEndIsShown(t *testing.T) {
	e := newPuppetEnv(t, flow.Options{}, nil)
	p := e.open("")
	e.connect(p)
	e.join(p, ada)
	s, err := e.gw.Engine().Session(context.Background(), e.desk.sid)
	check(t, "session", err)
	check(t, "end from Go", s.EndChat(context.Background(), flow.EndOptions{}))
	p.deepUntil("end shown", `deepText().includes('You disconnected from the live agent')`)
	p.deepUntil("banner gone", `buttons('Disconnect').length === 0`)
	p.typeToCarbon("hello again")
	p.deepUntil("the bot answers", `deepText().includes("Bot: say")`)
	if n := e.desk.count("SendMessageToAgent"); n != 0 {
		t.Errorf("a message after the end went to the desk (%d)", n)
	}
}

// TestCarbonEndCancelledByHookStillEndsTheDeskChat: the server's PreEndChat
// hook cancels every end, but Carbon has already ended the chat on screen:
// the desk chat is ended too, not left running where nobody sees it.
func TestCarbonEndCancelledByHookStillEndsTheDeskChat(t *testing.T) {
	e := newPuppetEnv(t, flow.Options{PreEndChat: func(_ context.Context, ev *flow.PreEndChat) error {
		ev.Cancel = true
		return nil
	}}, nil)
	p := e.open("")
	e.connect(p)
	e.join(p, ada)
	p.deepUntil("disconnect button", `clickButton('Disconnect')`)
	p.deepUntil("confirm", `(() => { const y = deepAll('.cds-aichat--confirm-modal__yes-button')[0]; if (!y) return false; y.click(); return true; })()`)
	p.deepUntil("ended line", `deepText().includes('You disconnected')`)
	e.desk.await(t, "EndChat", 1)
	s, err := e.gw.Engine().Session(context.Background(), e.desk.sid)
	check(t, "session", err)
	deadline := time.Now().Add(5 * time.Second)
	for s.State() != flow.StateEnded && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st := s.State(); st != flow.StateEnded {
		t.Errorf("server state %s, want ended", st)
	}
}

// TestCarbonAskAgainRightAfterEnding: the user ends the chat and asks
// again while the desk is still ending the first (its endChat is slow):
// the new request reaches the desk, and a reload while it waits does not
// find a stale "waiting" left by a failed start.
func TestCarbonAskAgainRightAfterEnding(t *testing.T) {
	e := newPuppetEnv(t, flow.Options{}, func(d *puppet) { d.endDelay = 5 * time.Second })
	p := e.open("")
	e.connect(p)
	e.join(p, ada)
	p.deepUntil("disconnect button", `clickButton('Disconnect')`)
	p.deepUntil("confirm", `(() => { const y = deepAll('.cds-aichat--confirm-modal__yes-button')[0]; if (!y) return false; y.click(); return true; })()`)
	e.desk.await(t, "EndChat", 1)
	// Carbon's own end is over once the bot is back (1.5 s after the end);
	// the desk's (5 s) is not. A message typed before the bot is back can
	// get a card whose button Carbon leaves disabled: Carbon's, not ours.
	p.deepUntil("bot back", `deepText().includes('Can I help you with anything else')`)
	p.typeToCarbon("talk to a person")
	p.deepUntil("click connect again", `(() => { const b = buttons('Connect to agent'); if (!b.length) return false; b[b.length - 1].click(); return true; })()`)
	e.desk.await(t, "StartChat", 2)
	e.join(p, grace)
	e.desk.callback().SendTextToUser("second chat marker-second", "")
	p.deepUntil("second chat works", `visibleCount('marker-second') === 1`)
	if text := p.deep("deepText()"); strings.Contains(text, "cannot connect you") {
		t.Errorf("a connecting error was shown:\n%s", text)
	}
}

// TestCarbonAvailabilityFollowsThePageTimeout: with
// serviceDesk.availabilityTimeoutSeconds 8, a desk answering in 6 s is
// online for Carbon (the card offers to connect), not "no agents".
func TestCarbonAvailabilityFollowsThePageTimeout(t *testing.T) {
	e := newPuppetEnv(t, flow.Options{AvailabilityTimeout: 10 * time.Second}, func(d *puppet) { d.online = 6 * time.Second })
	p := e.open(`{"availabilityTimeoutSeconds": 8}`)
	p.typeToCarbon("talk to a person")
	p.deepUntil("card answered", `buttons('Connect to agent').length > 0 || deepText().includes('No agents are available.')`)
	if text := p.deep("deepText()"); strings.Contains(text, "No agents are available.") {
		t.Errorf("a desk online within the page's timeout was shown offline:\n%s", text)
	}
}

// TestCarbonNoReconnectEndsTheDeskChat: a page with
// serviceDesk.allowReconnect false: Carbon ends the chat on reload without
// calling endChat or reconnect; the desk chat is ended too.
func TestCarbonNoReconnectEndsTheDeskChat(t *testing.T) {
	e := newPuppetEnv(t, flow.Options{}, nil)
	sd := `{"allowReconnect": false}`
	p := e.open(sd)
	e.connect(p)
	e.join(p, ada)
	time.Sleep(300 * time.Millisecond)
	p.do("reload", chromedp.Reload())
	p.deepUntil("chat ready", `deepAll('[data-testid="input_field"], [role="textbox"][contenteditable]').length > 0`)
	e.desk.await(t, "EndChat", 1)
}

// TestCarbonUploadsAllowedAfterReload: the desk's upload capabilities
// come back after a reload (Carbon forgets them; the welcome snapshot has
// them).
func TestCarbonUploadsAllowedAfterReload(t *testing.T) {
	e := newPuppetEnv(t, flow.Options{}, nil)
	p := e.open("")
	e.connect(p)
	e.join(p, ada)
	yes, types := true, "image/*,.txt"
	e.desk.callback().UpdateCapabilities(servicedesk.CapabilitiesUpdate{AllowFileUploads: &yes, AllowedFileUploadTypes: &types})
	const uploadJS = `deepAll('input[type="file"]').length > 0`
	p.deepUntil("upload allowed", uploadJS)
	time.Sleep(300 * time.Millisecond)
	p.do("reload", chromedp.Reload())
	afterReload(p)
	p.deepUntil("upload allowed after the reload", uploadJS)
}

// clockTime matches the times Carbon prints beside messages.
var clockTime = regexp.MustCompile(`\b\d{1,2}:\d{2}\s?[AP]M\b`)

// transcript is what the page shows of the agent conversation, in order:
// from the first agent line to the end of the message list, times left out.
func transcript(p page) string {
	text := strings.Join(strings.Fields(p.deep("deepText()")), " ")
	if i := strings.Index(text, "Ada connected"); i >= 0 {
		text = text[i:]
	}
	if i := strings.Index(text, "Chat history end"); i >= 0 {
		text = text[:i]
	}
	return strings.TrimSpace(clockTime.ReplaceAllString(text, ""))
}

// TestCarbonTranscriptSameAfterReload: what the user sees of the agent
// conversation after a reload (customLoadHistory) is what they saw before:
// texts, agent names, order and status lines.
func TestCarbonTranscriptSameAfterReload(t *testing.T) {
	e := newPuppetEnv(t, flow.Options{}, nil)
	p := e.open("")
	e.connect(p)
	cb := e.desk.callback()
	e.join(p, ada)
	cb.SendTextToUser("Hello from Ada tr-one", "")
	p.deepUntil("tr-one", `visibleCount('tr-one') === 1`)
	p.typeToCarbon("user says tr-two")
	e.desk.await(t, "SendMessageToAgent", 1)
	cb.BeginTransferToAnotherAgent(&grace)
	p.deepUntil("transfer", `deepText().includes("You're being transferred")`)
	e.join(p, grace)
	cb.SendTextToUser("Grace here tr-three", "")
	p.deepUntil("tr-three", `visibleCount('tr-three') === 1`)
	cb.AgentLeftChat()
	p.deepUntil("left", `deepText().includes('Grace disconnected')`)
	time.Sleep(500 * time.Millisecond)
	before := transcript(p)
	p.do("reload", chromedp.Reload())
	afterReload(p)
	p.deepUntil("history", `visibleCount('tr-three') === 1`)
	time.Sleep(time.Second)
	after := transcript(p)
	if before != after {
		t.Errorf("the transcript changed across the reload\nbefore:\n%s\nafter:\n%s", before, after)
	}
	for _, want := range []string{"Ada connected", "tr-one", "tr-two", "transferred", "Grace connected", "tr-three", "Grace disconnected"} {
		if !strings.Contains(after, want) {
			t.Errorf("after the reload the transcript lacks %q:\n%s", want, after)
		}
	}
}
