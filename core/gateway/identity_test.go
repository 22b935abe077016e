package gateway

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/identity"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/golang-jwt/jwt/v5"
)

var idSecret = []byte(strings.Repeat("i", 32))

func idToken(t *testing.T, sub string, mod func(jwt.MapClaims)) string {
	t.Helper()
	c := jwt.MapClaims{"iss": "https://shop.example", "aud": "deskbridge", "sub": sub, "name": "Ada Lovelace",
		"email": "ada@example.com", "exp": time.Now().Add(5 * time.Minute).Unix()}
	if mod != nil {
		mod(c)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(idSecret)
	mustf(t, err, "sign")
	return s
}

func withIdentity(seen *servicedesk.Handoff, mu *sync.Mutex) func(*Options) {
	return func(o *Options) {
		v, err := identity.New(identity.Config{Secret: idSecret, Issuer: "https://shop.example", Audience: "deskbridge"})
		if err != nil {
			panic(err)
		}
		o.Identity = v
		o.Flow.PreStartChat = func(_ context.Context, ev *flow.PreStartChat) error {
			mu.Lock()
			*seen = ev.Handoff
			mu.Unlock()
			return nil
		}
	}
}

// helloWith sends a hello with an identity token and returns the answer.
func (c *client) helloWith(token, identityToken string) frame {
	c.t.Helper()
	c.send(map[string]any{"op": "hello", "id": "h", "token": token, "identity": identityToken, "mode": modeFlow})
	f := c.next("welcome", func(f frame) bool { return f.Type == typeWelcome || f.Type == typeError })
	if f.Type == typeWelcome {
		c.welcome = f
	}
	return f
}

func (e *env) socket() *client {
	e.t.Helper()
	c, _, err := e.dial(nil)
	mustf(e.t, err, "dial")
	return c
}

// TestIdentityReachesDesk: a verified identity is the session's customer
// and reaches the desk in the hand-off; the browser's own claims only as
// unverified context.
func TestIdentityReachesDesk(t *testing.T) {
	var seen servicedesk.Handoff
	var mu sync.Mutex
	e := newEnv(t, withIdentity(&seen, &mu))
	c := e.socket()
	if f := c.helloWith("", idToken(t, "c-42", nil)); f.Type != typeWelcome || f.Snapshot.Subject != "c-42" {
		t.Fatalf("hello with identity: %+v %+v", f.Error, f.Snapshot)
	}
	msg := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent,
		TransferInfo: &servicedesk.TransferInfo{AdditionalData: map[string]string{"customer_id": "c-1", "queue": "vip"}}})
	c.mustCall(opStartChat, map[string]any{"connectMessage": msg, "options": map[string]any{"preStartChatPayload": map[string]any{"name": "Mallory", "age": 3}}})
	_, err := e.desk.NextChat(ctxT(t))
	mustf(t, err, "chat")
	mu.Lock()
	defer mu.Unlock()
	if seen.Customer == nil || seen.Customer.ID != "c-42" || seen.Customer.Name != "Ada Lovelace" || seen.Customer.Email != "ada@example.com" {
		t.Errorf("customer %+v", seen.Customer)
	}
	want := map[string]string{"customer_id": "c-1", "queue": "vip", "name": "Mallory", "age": "3"}
	if len(seen.Unverified) != len(want) {
		t.Errorf("unverified %v, want %v", seen.Unverified, want)
	}
	for k, v := range want {
		if seen.Unverified[k] != v {
			t.Errorf("unverified %v, want %v", seen.Unverified, want)
		}
	}
	if len(seen.Attributes) != 0 {
		t.Errorf("the browser's claims became routing attributes: %v", seen.Attributes)
	}
}

func TestIdentityRefused(t *testing.T) {
	var seen servicedesk.Handoff
	var mu sync.Mutex
	e := newEnv(t, withIdentity(&seen, &mu))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": "https://shop.example", "aud": "deskbridge", "sub": "c-42",
		"exp": time.Now().Add(time.Minute).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	foreign, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "https://shop.example", "aud": "deskbridge", "sub": "c-42",
		"exp": time.Now().Add(time.Minute).Unix()}).SignedString([]byte(strings.Repeat("x", 32)))
	for name, tok := range map[string]string{
		"alg none":     none,
		"foreign key":  foreign,
		"expired":      idToken(t, "c-42", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }),
		"other issuer": idToken(t, "c-42", func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
		"garbage":      "not.a.jwt",
	} {
		c := e.socket()
		f := c.helloWith("", tok)
		if f.Type != typeError || f.Error.Code != codeBadIdentity || !strings.Contains(f.Error.Message, "identity token was refused") {
			t.Errorf("%s: %+v", name, f)
		}
		// The socket goes on: a hello without the identity opens a session.
		if f := c.helloWith("", ""); f.Type != typeWelcome {
			t.Errorf("%s: anonymous hello after a refusal: %+v", name, f.Error)
		}
	}
	if n := e.gw.Stats().Sessions; n != 5 {
		t.Errorf("%d sessions, want only the 5 anonymous ones", n)
	}
	if n := e.gw.Stats().Identities["refused"]; n != 5 {
		t.Errorf("refused %d", n)
	}
}

func TestIdentityNotTaken(t *testing.T) {
	e := newEnv(t, nil)
	f := e.socket().helloWith("", idToken(t, "c-42", nil))
	if f.Type != typeError || f.Error.Code != codeBadIdentity {
		t.Errorf("identity where none is taken: %+v", f)
	}
}

func TestIdentityRequired(t *testing.T) {
	var seen servicedesk.Handoff
	var mu sync.Mutex
	e := newEnv(t, func(o *Options) { withIdentity(&seen, &mu)(o); o.RequireIdentity = true })
	if f := e.socket().helloWith("", ""); f.Type != typeError || f.Error.Code != codeBadIdentity {
		t.Errorf("anonymous hello: %+v", f)
	}
	if f := e.socket().helloWith("", idToken(t, "c-42", nil)); f.Type != typeWelcome {
		t.Errorf("identified hello: %+v", f.Error)
	}
}

// TestResumeOtherSubjectRefused: a session opened with an identity is
// resumed only with a token for the same customer; an anonymous session
// takes an identity on resume.
func TestResumeOtherSubjectRefused(t *testing.T) {
	var seen servicedesk.Handoff
	var mu sync.Mutex
	e := newEnv(t, withIdentity(&seen, &mu))
	first := e.socket()
	w := first.helloWith("", idToken(t, "c-42", nil))
	if w.Type != typeWelcome {
		t.Fatalf("hello: %+v", w.Error)
	}
	for name, tok := range map[string]string{"another customer": idToken(t, "c-43", nil), "no identity": ""} {
		f := e.socket().helloWith(w.Token, tok)
		if f.Type != typeError || f.Error.Code != codeBadIdentity {
			t.Errorf("resume with %s: %+v", name, f)
		}
	}
	again := e.socket().helloWith(w.Token, idToken(t, "c-42", func(c jwt.MapClaims) { c["name"] = "Ada King" }))
	if again.Type != typeWelcome || !again.Resumed || again.Session != w.Session {
		t.Fatalf("resume by the same customer: %+v", again)
	}
	if n := e.gw.Stats().Identities["mismatch"]; n != 2 {
		t.Errorf("mismatch %d", n)
	}

	anon := e.socket().helloWith("", "")
	got := e.socket().helloWith(anon.Token, idToken(t, "c-44", nil))
	if got.Type != typeWelcome || got.Snapshot.Subject != "c-44" {
		t.Fatalf("an anonymous session takes an identity: %+v", got)
	}
	if f := e.socket().helloWith(anon.Token, idToken(t, "c-42", nil)); f.Type != typeError || f.Error.Code != codeBadIdentity {
		t.Errorf("then another one: %+v", f)
	}
}
