package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// TestDemoCarbonInChromium: "deskbridge demo --carbon" in two tabs. In
// one, the real @carbon/ai-chat at /carbon/ (with /deskbridge.js and the
// demo bot) asks for a person; in the other, a person takes the chat in
// mock-desk's console and answers. The Carbon tab reloads and gets the
// conversation back, each line once, and the chat goes on.
// DESKBRIDGE_TEST_KIT=NAME runs it through another kit and mock-desk's
// face of that vendor (the default is the demo's websocket kit).
func TestDemoCarbonInChromium(t *testing.T) {
	needCarbonBundle(t)
	dir, err := findCarbonPage("")
	if err != nil {
		t.Fatal(err)
	}
	you := servicedesk.AgentProfile{ID: "you", Nickname: "You (console)", UserType: servicedesk.UserHuman}
	d := startTestDemo(t, demoConfig{
		Desk:      &mockdesk.Options{Agents: []mockdesk.AgentConfig{{Profile: you, Online: true, Capacity: 3}}},
		CarbonDir: dir,
		Kit:       os.Getenv("DESKBRIDGE_TEST_KIT"),
	})
	bctx := chromium(t)
	ctx, cancel := context.WithTimeout(bctx, 120*time.Second)
	defer cancel()
	p := page{t, ctx}
	tab, closeTab := chromedp.NewContext(bctx)
	defer closeTab()
	tctx, tcancel := context.WithTimeout(tab, 120*time.Second)
	defer tcancel()
	console := page{t, tctx}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			t.Logf("carbon console %s: %s", m.Type, m.Text)
		}
	}()

	p.do("open the Carbon page", chromedp.Navigate(d.srv.url+"/carbon/"))
	// The demo bot's greeting first: Carbon drops what is typed while it
	// waits for the bot.
	p.deepUntil("the bot's greeting", `deepText().includes('I am the demo assistant')`)
	p.typeToCarbon("talk to a person")
	p.deepUntil("connect card", `buttons('Connect to agent').length > 0`)
	p.deepUntil("click connect", `clickButton('Connect to agent')`)

	// The person at the console takes the chat and answers.
	console.do("open the console", chromedp.Navigate(d.deskURL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#queue li.queue-item")),
		chromedp.Click(chromedp.CSS("#queue li.queue-item")),
		chromedp.WaitVisible(chromedp.ID("accept")),
		chromedp.Click(chromedp.ID("accept")))
	console.until("accepted", `!document.getElementById('reply').disabled`)
	reply := func(text string) {
		t.Helper()
		console.do("reply "+text, chromedp.SendKeys(chromedp.ID("reply"), text), chromedp.Click(chromedp.ID("send")))
		console.until("reply sent", `document.getElementById('reply').value === ''`)
	}
	p.deepUntil("agent joined", `deepText().includes('You (console)')`)
	reply("Hello from the console, marker-c1")
	p.deepUntil("agent message", `visibleCount('marker-c1') >= 1`)
	p.typeToCarbon("user marker-c2")
	console.until("customer line in the console", `[...document.querySelectorAll('#transcript li.customer')].some(li => li.textContent.includes('marker-c2'))`)

	// Reload the Carbon tab: the conversation comes back, each line once.
	p.do("reload", chromedp.Reload())
	p.deepUntil("history back", `visibleCount('marker-c1') >= 1 && visibleCount('marker-c2') >= 1`)
	time.Sleep(time.Second) // let a duplicate show up
	for _, mk := range []string{"marker-c1", "marker-c2"} {
		if n := p.deep(fmt.Sprintf("visibleCount(%q)", mk)); n != "1" {
			t.Errorf("after the reload %s shows %s times, want once\n%s", mk, n, p.deep("deepText()"))
		}
	}
	reply("Still here, marker-c3")
	p.deepUntil("message after the reload", `visibleCount('marker-c3') === 1`)
	p.typeToCarbon("user marker-c4")
	console.until("customer line after the reload", `[...document.querySelectorAll('#transcript li.customer')].some(li => li.textContent.includes('marker-c4'))`)
	p.screenshot("demo-carbon.png")
}
