package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"

	"github.com/deskbridge/deskbridge/core/gateway"
	"github.com/deskbridge/deskbridge/core/identity"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// TestCarbonIdentityHandoff: a Carbon page whose site signed an identity
// token for its user hands over, and the agent at mock-desk's console sees
// the verified name and the conversation the user had with the bot.
func TestCarbonIdentityHandoff(t *testing.T) {
	needCarbonBundle(t)
	secret := []byte(strings.Repeat("i", 32))
	v, err := identity.New(identity.Config{Secret: secret, Issuer: "https://shop.example", Audience: "deskbridge"})
	if err != nil {
		t.Fatal(err)
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "https://shop.example", "aud": "deskbridge",
		"sub": "c-42", "name": "Ada Lovelace", "email": "ada@example.com", "exp": time.Now().Add(10 * time.Minute).Unix()}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	pageSrv := httptest.NewServer(http.FileServer(http.Dir(carbonPage)))
	t.Cleanup(pageSrv.Close)
	d := startTestDemo(t, demoConfig{
		Desk:    &mockdesk.Options{Agents: []mockdesk.AgentConfig{{Profile: ada, Online: true, Capacity: 3}}},
		Gateway: gateway.Options{AllowedOrigins: []string{pageSrv.URL}, Identity: v},
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

	p.do("open", chromedp.Navigate(pageSrv.URL+"/index.html?gateway="+url.QueryEscape(d.srv.url+"/")+"&identity="+token))
	p.deepUntil("chat ready", `deepAll('[data-testid="input_field"], [role="textbox"][contenteditable]').length > 0`)
	p.typeToCarbon("hello bot, my order marker-t1 is late")
	p.deepUntil("bot answer", `deepText().includes("Bot: say 'talk to a person'")`)
	p.typeToCarbon("talk to a person")
	p.deepUntil("connect card", `buttons('Connect to agent').length > 0`)
	p.deepUntil("click connect", `clickButton('Connect to agent')`)

	actx, acancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer acancel()
	chat, err := d.desk.AwaitChat(actx)
	check(t, "await chat", err)
	view, err := d.desk.ChatView(chat.ID())
	check(t, "chat view", err)
	h := view.Handoff
	if h == nil || h.Customer == nil || h.Customer.ID != "c-42" || h.Customer.Name != "Ada Lovelace" {
		t.Fatalf("the desk's hand-off %+v", h)
	}
	var said []string
	for _, turn := range h.Transcript {
		said = append(said, turn.From+": "+turn.Text)
	}
	all := strings.Join(said, "\n")
	for _, want := range []string{"user: hello bot, my order marker-t1 is late", "bot: Bot: say 'talk to a person'", "user: talk to a person", "bot: Let me find you a person."} {
		if !strings.Contains(all, want) {
			t.Errorf("transcript lacks %q:\n%s", want, all)
		}
	}
	if !h.TranscriptUnverified {
		t.Error("the page's transcript is not marked as the browser's")
	}

	console.do("open the console", chromedp.Navigate(d.deskURL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#queue li.queue-item")),
		chromedp.Click(chromedp.CSS("#queue li.queue-item")),
		chromedp.WaitVisible(chromedp.ID("context-box")))
	console.until("verified name", `document.getElementById('customer-identity').textContent.includes('Verified: Ada Lovelace')`)
	console.until("bot conversation", `[...document.querySelectorAll('#bot-transcript li')].some(li => li.textContent.includes('marker-t1'))`)
	console.until("marked as the browser's", `document.getElementById('bot-heading').textContent.includes("browser")`)

	// The agent answers and ends the chat: the page's bot hears who has
	// the conversation all along, and the end with the agent's last words.
	check(t, "join", chat.Join(actx, ada))
	p.deepUntil("agent joined", `deepText().includes('Ada connected')`)
	_, err = chat.SayText(actx, "Your card works again, marker-t2. Bye!")
	check(t, "say", err)
	p.deepUntil("agent message", `visibleCount('marker-t2') >= 1`)
	check(t, "agent ends", chat.End(actx))
	p.until("the end told to the page", `(() => { const e = window.deskbridgeTest.ended; return !!e && e.reason === 'agent' && e.lastAgentText.includes('marker-t2'); })()`)
	// The owner's change is an event of its own, right after the end's.
	p.until("the owner told to the page", `window.deskbridgeTest.owners.slice(-1)[0] === 'ended'`)
	if got := p.eval(`window.deskbridgeTest.owners.join(',')`); got != "queued,agent,ended" {
		t.Errorf("owners told to the page: %s", got)
	}
	// The next message goes to the page's bot again, once Carbon has shown
	// the end (a message typed before it would still go to the desk).
	p.deepUntil("the end shown", `deepText().includes('Can I help you with anything else')`)
	p.typeToCarbon("hello again bot")
	p.deepUntil("the bot answers again", `visibleCount("Bot: say 'talk to a person'.") >= 2`)
}
