package main

import (
	"io"
	"strings"
	"testing"
)

// TestLiveChatSettings: the kit's settings come from the environment,
// missing and malformed ones are caught at start naming the variable, and
// the agent token is a secret.
func TestLiveChatSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := loadServeConfig([]string{"--kit", "livechat", "--data-dir", t.TempDir()}, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), "kit livechat: set DESKBRIDGE_LIVECHAT_ORGANIZATION_ID") || !strings.Contains(err.Error(), "DESKBRIDGE_LIVECHAT_AGENT_TOKEN") {
		t.Fatalf("missing settings: %v", err)
	}
	start := func(extra map[string]string) error {
		s := map[string]string{"DESKBRIDGE_LIVECHAT_ORGANIZATION_ID": "390e44e6", "DESKBRIDGE_LIVECHAT_CLIENT_ID": "9cbf3a96", "DESKBRIDGE_LIVECHAT_AGENT_TOKEN": "dal:x"}
		for k, v := range extra {
			s[k] = v
		}
		k, err := newKit(kitConfig{Name: "livechat", Settings: s, Logger: quietLog()})
		if err == nil {
			_ = k.close()
		}
		return err
	}
	if err := start(map[string]string{"DESKBRIDGE_LIVECHAT_GROUP_ID": "2", "DESKBRIDGE_LIVECHAT_API_URL": "https://api.livechatinc.com"}); err != nil {
		t.Fatalf("good settings: %v", err)
	}
	for _, c := range []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"bad group", map[string]string{"DESKBRIDGE_LIVECHAT_GROUP_ID": "sales"}, `kit livechat: DESKBRIDGE_LIVECHAT_GROUP_ID="sales": not a group id`},
		{"bad api url", map[string]string{"DESKBRIDGE_LIVECHAT_API_URL": "api.livechatinc.com"}, `DESKBRIDGE_LIVECHAT_API_URL="api.livechatinc.com": not an http(s) URL`},
		{"bad accounts url", map[string]string{"DESKBRIDGE_LIVECHAT_ACCOUNTS_URL": "ftp://accounts"}, `DESKBRIDGE_LIVECHAT_ACCOUNTS_URL="ftp://accounts": not an http(s) URL`},
	} {
		if err := start(c.extra); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	for _, s := range lookupKitSettings(t, "livechat") {
		if (s.Env == "DESKBRIDGE_LIVECHAT_AGENT_TOKEN") != s.Secret {
			t.Errorf("%s: secret %v", s.Env, s.Secret)
		}
	}
	// Against the demo's mock-desk face nothing is needed.
	if _, err := loadServeConfig([]string{"--kit", "livechat", "--desk-url", "http://127.0.0.1:1", "--data-dir", t.TempDir()}, io.Discard, env(nil)); err != nil {
		t.Errorf("livechat against a mock-desk face: %v", err)
	}
}
