package main

import (
	"strings"
	"testing"
)

func TestIdentitySettings(t *testing.T) {
	secret := strings.Repeat("s", 32)
	ok := identitySettings{Secret: secret, Issuer: "https://shop.example", Audience: "deskbridge", Claims: []string{"tier", "seg=segment"}, Required: "true"}
	if err := ok.check(); err != nil {
		t.Fatal(err)
	}
	cfg, err := ok.config()
	if err != nil || cfg.Claims["tier"] != "tier" || cfg.Claims["seg"] != "segment" {
		t.Fatalf("claims %v, %v", cfg.Claims, err)
	}
	if v, err := ok.verifier(); err != nil || v == nil {
		t.Fatalf("verifier %v, %v", v, err)
	}
	if v, err := (identitySettings{}).verifier(); err != nil || v != nil {
		t.Errorf("off: %v, %v", v, err)
	}
	for name, s := range map[string]identitySettings{
		"no issuer":          {Secret: secret, Audience: "a"},
		"short secret":       {Secret: "short", Issuer: "i", Audience: "a"},
		"both keys":          {Secret: secret, JWKSURL: "https://shop.example/jwks", Issuer: "i", Audience: "a"},
		"required, no keys":  {Required: "true"},
		"required, not bool": {Secret: secret, Issuer: "i", Audience: "a", Required: "yes"},
		"empty claim":        {Secret: secret, Issuer: "i", Audience: "a", Claims: []string{"=x"}},
	} {
		if err := s.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRedactSetting(t *testing.T) {
	r, err := redactor([]string{"cards", "emails"})
	if err != nil || r == nil {
		t.Fatalf("%v %v", r, err)
	}
	if got := r.Redact("4111 1111 1111 1111 ada@example.com +44 20 7946 0958"); got != "[card number removed] [e-mail removed] +44 20 7946 0958" {
		t.Errorf("redacted %q", got)
	}
	if r, err := redactor([]string{"none"}); r != nil || err != nil {
		t.Errorf("none: %v %v", r, err)
	}
	if _, err := redactor([]string{"ssn"}); err == nil {
		t.Error("an unknown rule was taken")
	}
}
