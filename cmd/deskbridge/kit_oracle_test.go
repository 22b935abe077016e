package main

import (
	"io"
	"strings"
	"testing"
)

// TestOracleSettings: the kit's settings come from the environment,
// missing and malformed ones are caught at start naming the variable, and
// the chat API user's password is a secret.
func TestOracleSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := loadServeConfig([]string{"--kit", "oracle", "--data-dir", t.TempDir()}, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), "kit oracle: set DESKBRIDGE_ORACLE_URL") ||
		!strings.Contains(err.Error(), "DESKBRIDGE_ORACLE_USER") || !strings.Contains(err.Error(), "DESKBRIDGE_ORACLE_PASSWORD") {
		t.Fatalf("missing settings: %v", err)
	}
	start := func(extra map[string]string) error {
		s := map[string]string{"DESKBRIDGE_ORACLE_URL": "https://acme.custhelp.com", "DESKBRIDGE_ORACLE_USER": "chat_api", "DESKBRIDGE_ORACLE_PASSWORD": "s3cret"}
		for k, v := range extra {
			s[k] = v
		}
		k, err := newKit(kitConfig{Name: "oracle", Settings: s, Logger: quietLog()})
		if err == nil {
			_ = k.close()
		}
		return err
	}
	for name, extra := range map[string]map[string]string{
		"site only":       nil,
		"queue and iface": {"DESKBRIDGE_ORACLE_QUEUE_ID": "4", "DESKBRIDGE_ORACLE_INTERFACE_ID": "1"},
		"own chat server": {"DESKBRIDGE_ORACLE_CHAT_URL": "https://chat.example.com:443"},
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
		{"bad site", map[string]string{"DESKBRIDGE_ORACLE_URL": "acme.custhelp.com"}, `DESKBRIDGE_ORACLE_URL="acme.custhelp.com": not an http(s) URL`},
		{"bad chat url", map[string]string{"DESKBRIDGE_ORACLE_CHAT_URL": "wss://chat"}, `DESKBRIDGE_ORACLE_CHAT_URL="wss://chat": not an http(s) URL`},
		{"bad queue", map[string]string{"DESKBRIDGE_ORACLE_QUEUE_ID": "sales"}, `DESKBRIDGE_ORACLE_QUEUE_ID="sales": not an id`},
		{"zero interface", map[string]string{"DESKBRIDGE_ORACLE_INTERFACE_ID": "0"}, `DESKBRIDGE_ORACLE_INTERFACE_ID="0": not an id`},
	} {
		if err := start(c.extra); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	for _, s := range lookupKitSettings(t, "oracle") {
		if (s.Env == "DESKBRIDGE_ORACLE_PASSWORD") != s.Secret {
			t.Errorf("%s: secret %v", s.Env, s.Secret)
		}
	}
	// Against the demo's mock-desk face nothing is needed.
	if _, err := loadServeConfig([]string{"--kit", "oracle", "--desk-url", "http://127.0.0.1:1", "--data-dir", t.TempDir()}, io.Discard, env(nil)); err != nil {
		t.Errorf("oracle against a mock-desk face: %v", err)
	}
}
