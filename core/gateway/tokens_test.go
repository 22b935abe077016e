package gateway

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// helloAnswer sends hello with token on a new socket.
func (e *env) helloAnswer(token string) frame {
	e.t.Helper()
	c, _, err := e.dial(nil)
	mustf(e.t, err, "dial")
	return c.tryHello(token)
}

// TestTokenSpellings: only the canonical base64 of a tag opens its
// session; before, the three other spellings of its last character did.
func TestTokenSpellings(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.connect("", modeFlow, 0).welcome.Token
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	for k := range 4 {
		alt := tok[:len(tok)-1] + string(alphabet[last&^3|k])
		f := e.helloAnswer(alt)
		if alt == tok {
			if f.Type != typeWelcome {
				t.Fatalf("the token itself: %+v", f.Error)
			}
		} else if f.Type != typeError || f.Error.Code != codeBadToken {
			t.Fatalf("the spelling %q of the token opened the session", alt)
		}
	}
}

// TestTokenExpiry: a token opens its session until TokenTTL; a welcome
// and the heartbeats hand out fresh ones. Before, tokens never expired.
func TestTokenExpiry(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	e := newEnv(t, func(o *Options) { o.TokenTTL = time.Hour; o.Now = clk.now; o.Heartbeat = 200 * time.Millisecond })
	c := e.connect("", modeFlow, 0)
	e.startAndJoin(c)
	old := c.welcome.Token
	clk.add(40 * time.Minute)
	hb := c.next("a heartbeat with a fresh token", func(f frame) bool { return f.Type == typeHeartbeat && f.Token != "" })
	clk.add(30 * time.Minute) // the first token is 70 minutes old
	if f := e.helloAnswer(old); f.Type != typeError || f.Error.Code != codeBadToken {
		t.Fatalf("an expired token: %+v", f)
	}
	f := e.helloAnswer(hb.Token)
	if f.Type != typeWelcome || f.Session != c.welcome.Session {
		t.Fatalf("the renewed token: %+v", f)
	}
}

// TestTokenOfForgottenSession: once a session is forgotten its token opens
// nothing; before, it opened a new, empty session under the old id.
func TestTokenOfForgottenSession(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Flow.ChatlessTTL = 30 * time.Millisecond })
	c := e.connect("", modeFlow, 0)
	c.ws.Close()
	deadline := time.Now().Add(5 * time.Second)
	// Forgotten by the gateway, then (just after) by the engine.
	for _, live := e.gw.engine.Lookup(c.welcome.Session); e.gw.Stats().Sessions > 0 || live; _, live = e.gw.engine.Lookup(c.welcome.Session) {
		if time.Now().After(deadline) {
			t.Fatal("the session was not forgotten")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if f := e.helloAnswer(c.welcome.Token); f.Type != typeError || f.Error.Code != codeBadToken {
		t.Fatalf("the token of a forgotten session: %+v", f)
	}
}

// TestLegacyTokens: a token of the first form (no expiry) opens only a
// session whose chat is running, and is replaced by the welcome.
func TestLegacyTokens(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TokenSecret = []byte("a secret of thirty-two bytes ok!") })
	tk := newTokens([]byte("a secret of thirty-two bytes ok!"), time.Hour, time.Now)
	legacy := func(id string) string { return "s1." + id + "." + tagEncoding.EncodeToString(tk.tag("s1."+id)) }
	running := e.connect("", modeFlow, 0)
	e.startAndJoin(running)
	idle := e.connect("", modeFlow, 0)
	f := e.helloAnswer(legacy(running.welcome.Session))
	if f.Type != typeWelcome || !strings.HasPrefix(f.Token, tokenPrefix) {
		t.Fatalf("a legacy token of a running chat: %+v", f)
	}
	if f := e.helloAnswer(legacy(idle.welcome.Session)); f.Type != typeError || f.Error.Code != codeBadToken {
		t.Fatalf("a legacy token of a session without a chat: %+v", f)
	}
}
