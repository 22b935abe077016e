package main

import (
	"io"
	"maps"
	"strings"
	"testing"
)

// TestEGainSettings: the kit's settings come from the environment,
// missing and malformed ones are caught at start naming the variable,
// the customer id is a secret, and against the demo's mock-desk face none
// are needed.
func TestEGainSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := loadServeConfig([]string{"--kit", "egain", "--data-dir", t.TempDir()}, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), "kit egain: set DESKBRIDGE_EGAIN_URL") || !strings.Contains(err.Error(), "DESKBRIDGE_EGAIN_CUSTOMER_ID") {
		t.Fatalf("missing settings: %v", err)
	}
	base := map[string]string{"DESKBRIDGE_EGAIN_URL": "https://relay.example.egain.cloud", "DESKBRIDGE_EGAIN_ENTRY_POINT_ID": "1001", "DESKBRIDGE_EGAIN_CUSTOMER_ID": "cust-1"}
	start := func(extra map[string]string) error {
		s := maps.Clone(base)
		maps.Copy(s, extra)
		k, err := newKit(kitConfig{Name: "egain", Settings: s, Logger: quietLog()})
		if err == nil {
			_ = k.close()
		}
		return err
	}
	for _, tc := range []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"good", nil, ""},
		{"bad url", map[string]string{"DESKBRIDGE_EGAIN_URL": "relay.example.egain.cloud"}, `DESKBRIDGE_EGAIN_URL="relay.example.egain.cloud": not an http(s) URL`},
		{"bad chat url", map[string]string{"DESKBRIDGE_EGAIN_CHAT_URL": "ftp://chat"}, `DESKBRIDGE_EGAIN_CHAT_URL="ftp://chat": not an http(s) URL`},
		{"bad websocket url", map[string]string{"DESKBRIDGE_EGAIN_WEBSOCKET_URL": "https://relay/ws"}, `DESKBRIDGE_EGAIN_WEBSOCKET_URL="https://relay/ws": not a ws(s) URL`},
		{"own urls", map[string]string{"DESKBRIDGE_EGAIN_INITIALIZE_URL": "https://relay.example/api/init", "DESKBRIDGE_EGAIN_WEBSOCKET_URL": "wss://relay.example/socket"}, ""},
	} {
		err := start(tc.extra)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	secret := false
	for _, s := range lookupKitSettings(t, "egain") {
		secret = secret || s.Env == "DESKBRIDGE_EGAIN_CUSTOMER_ID" && s.Secret
	}
	if !secret {
		t.Error("the customer id is not marked secret")
	}
	if _, err := loadServeConfig([]string{"--kit", "egain", "--desk-url", "http://127.0.0.1:1", "--data-dir", t.TempDir()}, io.Discard, env(nil)); err != nil {
		t.Errorf("egain against a mock-desk face: %v", err)
	}
}
