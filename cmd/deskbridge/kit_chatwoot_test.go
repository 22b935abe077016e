package main

import (
	"io"
	"strings"
	"testing"
)

// TestChatwootSettings: the kit's settings come from the environment,
// missing and malformed ones are caught at start naming the variable, and
// the tokens are secrets.
func TestChatwootSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := loadServeConfig([]string{"--kit", "chatwoot", "--data-dir", t.TempDir()}, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), "kit chatwoot: set DESKBRIDGE_CHATWOOT_URL") || !strings.Contains(err.Error(), "DESKBRIDGE_CHATWOOT_INBOX") {
		t.Fatalf("missing settings: %v", err)
	}
	start := func(extra map[string]string) error {
		s := map[string]string{"DESKBRIDGE_CHATWOOT_URL": "https://chat.example.com", "DESKBRIDGE_CHATWOOT_INBOX": "xR3kQ9"}
		for k, v := range extra {
			s[k] = v
		}
		k, err := newKit(kitConfig{Name: "chatwoot", Settings: s, Logger: quietLog()})
		if err == nil {
			_ = k.close()
		}
		return err
	}
	if err := start(map[string]string{"DESKBRIDGE_CHATWOOT_BOT_TOKEN": "t", "DESKBRIDGE_CHATWOOT_ACCOUNT_ID": "3", "DESKBRIDGE_CHATWOOT_MIN_INTERVAL": "50ms"}); err != nil {
		t.Fatalf("good settings: %v", err)
	}
	for _, c := range []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"bad url", map[string]string{"DESKBRIDGE_CHATWOOT_URL": "chat.example.com"}, `kit chatwoot: DESKBRIDGE_CHATWOOT_URL="chat.example.com": not an http(s) URL`},
		{"bad cable", map[string]string{"DESKBRIDGE_CHATWOOT_CABLE_URL": "https://chat.example.com/cable"}, `DESKBRIDGE_CHATWOOT_CABLE_URL="https://chat.example.com/cable": not a ws(s) URL`},
		{"bot without account", map[string]string{"DESKBRIDGE_CHATWOOT_BOT_TOKEN": "t"}, "go together"},
		{"bad account", map[string]string{"DESKBRIDGE_CHATWOOT_BOT_TOKEN": "t", "DESKBRIDGE_CHATWOOT_ACCOUNT_ID": "acme"}, `DESKBRIDGE_CHATWOOT_ACCOUNT_ID="acme": not an account id`},
		{"bad interval", map[string]string{"DESKBRIDGE_CHATWOOT_MIN_INTERVAL": "soon"}, `DESKBRIDGE_CHATWOOT_MIN_INTERVAL="soon": not a positive duration`},
	} {
		if err := start(c.extra); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	for _, s := range lookupKitSettings(t, "chatwoot") {
		if (s.Env == "DESKBRIDGE_CHATWOOT_HMAC_TOKEN" || s.Env == "DESKBRIDGE_CHATWOOT_BOT_TOKEN") != s.Secret {
			t.Errorf("%s: secret %v", s.Env, s.Secret)
		}
	}
	// Against the demo's mock-desk face no inbox is needed.
	if _, err := loadServeConfig([]string{"--kit", "chatwoot", "--desk-url", "http://127.0.0.1:1", "--data-dir", t.TempDir()}, io.Discard, env(nil)); err != nil {
		t.Errorf("chatwoot against a mock-desk face: %v", err)
	}
}
