package main

import (
	"io"
	"strings"
	"testing"
)

// TestNiceSettings: the kit's settings come from the environment, missing
// and malformed ones are caught at start naming the variable, and the
// authorization service's token is a secret.
func TestNiceSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := loadServeConfig([]string{"--kit", "nice", "--data-dir", t.TempDir()}, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), "kit nice: set DESKBRIDGE_NICE_BRAND_ID") || !strings.Contains(err.Error(), "DESKBRIDGE_NICE_CHANNEL_ID") {
		t.Fatalf("missing settings: %v", err)
	}
	start := func(extra map[string]string) error {
		s := map[string]string{"DESKBRIDGE_NICE_BRAND_ID": "1086", "DESKBRIDGE_NICE_CHANNEL_ID": "chat_2b0d7a1c", "DESKBRIDGE_NICE_ENVIRONMENT": "EU1"}
		for k, v := range extra {
			s[k] = v
		}
		k, err := newKit(kitConfig{Name: "nice", Settings: s, Logger: quietLog()})
		if err == nil {
			_ = k.close()
		}
		return err
	}
	for name, extra := range map[string]map[string]string{
		"guests":     nil,
		"authorized": {"DESKBRIDGE_NICE_AUTH_CODE_URL": "https://auth.example.com/cxone/code", "DESKBRIDGE_NICE_AUTH_CODE_TOKEN": "s3cret"},
		"own urls":   {"DESKBRIDGE_NICE_ENVIRONMENT": "", "DESKBRIDGE_NICE_GATEWAY_URL": "wss://chat-gw.example.com", "DESKBRIDGE_NICE_CHAT_URL": "https://channels.example.com"},
	} {
		if err := start(extra); err != nil {
			t.Errorf("good settings (%s): %v", name, err)
		}
	}
	for _, c := range []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"bad brand", map[string]string{"DESKBRIDGE_NICE_BRAND_ID": "acme"}, `kit nice: DESKBRIDGE_NICE_BRAND_ID="acme": not a brand id`},
		{"bad environment", map[string]string{"DESKBRIDGE_NICE_ENVIRONMENT": "MARS1"}, `DESKBRIDGE_NICE_ENVIRONMENT="MARS1": not a CXone environment`},
		{"no environment", map[string]string{"DESKBRIDGE_NICE_ENVIRONMENT": ""}, `set DESKBRIDGE_NICE_ENVIRONMENT, or both DESKBRIDGE_NICE_GATEWAY_URL and DESKBRIDGE_NICE_CHAT_URL`},
		{"bad gateway", map[string]string{"DESKBRIDGE_NICE_GATEWAY_URL": "https://chat-gw"}, `DESKBRIDGE_NICE_GATEWAY_URL="https://chat-gw": not a wss or ws URL`},
		{"bad chat url", map[string]string{"DESKBRIDGE_NICE_CHAT_URL": "channels.example.com"}, `DESKBRIDGE_NICE_CHAT_URL="channels.example.com": not a https or http URL`},
		{"bad auth url", map[string]string{"DESKBRIDGE_NICE_AUTH_CODE_URL": "ftp://auth"}, `DESKBRIDGE_NICE_AUTH_CODE_URL="ftp://auth": not a https or http URL`},
	} {
		if err := start(c.extra); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	for _, s := range lookupKitSettings(t, "nice") {
		if (s.Env == "DESKBRIDGE_NICE_AUTH_CODE_TOKEN") != s.Secret {
			t.Errorf("%s: secret %v", s.Env, s.Secret)
		}
	}
	// Against the demo's mock-desk face nothing is needed.
	if _, err := loadServeConfig([]string{"--kit", "nice", "--desk-url", "http://127.0.0.1:1", "--data-dir", t.TempDir()}, io.Discard, env(nil)); err != nil {
		t.Errorf("nice against a mock-desk face: %v", err)
	}
}
