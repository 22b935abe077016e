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
