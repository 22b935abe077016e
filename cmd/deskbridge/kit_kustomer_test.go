package main

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/kits/kustomer"
)

// TestKustomerSettings: the kit's settings come from the environment,
// missing and malformed ones are caught at start naming the variable, the
// API key and webhook tokens are secrets, and the webhook is mounted where
// the org's outbound webhook is pointed, taking either token while they
// rotate.
func TestKustomerSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := loadServeConfig([]string{"--kit", "kustomer", "--data-dir", t.TempDir()}, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), "kit kustomer: set DESKBRIDGE_KUSTOMER_API_KEY") ||
		!strings.Contains(err.Error(), "DESKBRIDGE_KUSTOMER_BOT_USER_ID") || !strings.Contains(err.Error(), "DESKBRIDGE_KUSTOMER_WEBHOOK_TOKEN") {
		t.Fatalf("missing settings: %v", err)
	}
	base := map[string]string{"DESKBRIDGE_KUSTOMER_ORG": "acme", "DESKBRIDGE_KUSTOMER_API_KEY": "key", "DESKBRIDGE_KUSTOMER_BOT_USER_ID": "5f8481c6a22ab5b9d5f2dd8b",
		"DESKBRIDGE_KUSTOMER_WEBHOOK_TOKEN": "tok-old, tok-new"}
	start := func(extra map[string]string) (*kit, error) {
		s := maps.Clone(base)
		maps.Copy(s, extra)
		return newKit(kitConfig{Name: "kustomer", PublicURL: "https://bridge.example.com", Settings: s, Logger: quietLog()})
	}
	k, err := start(nil)
	if err != nil {
		t.Fatalf("good settings: %v", err)
	}
	defer k.close()
	if k.webhook == nil || k.webhookPath != webhookPath {
		t.Fatalf("webhook %v at %q", k.webhook, k.webhookPath)
	}
	srv := httptest.NewServer(k.webhook)
	defer srv.Close()
	body := `{"id":"evt-1","name":"kustomer.conversation.update","org":"5f8481c6a22ab5b9d5f2dd8a","data":{"type":"conversation","id":"5f8481c6a22ab5b9d5f2dd90"}}`
	for token, want := range map[string]int{"": 401, "tok-other": 401, "tok-old": 200, "tok-new": 200} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		if token != "" {
			req.Header.Set(kustomer.SignatureHeader, webhook.BodyHMAC([]byte(token), []byte(body)))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("signed with %q: %d, want %d", token, resp.StatusCode, want)
		}
	}
	if k, err := start(map[string]string{"DESKBRIDGE_KUSTOMER_ORG": "", "DESKBRIDGE_KUSTOMER_BASE_URL": "https://acme.api.prod2.kustomerapp.com"}); err != nil {
		t.Errorf("a regional base URL: %v", err)
	} else {
		_ = k.close()
	}
	for _, c := range []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"no org", map[string]string{"DESKBRIDGE_KUSTOMER_ORG": ""}, "set DESKBRIDGE_KUSTOMER_ORG"},
		{"org as a host", map[string]string{"DESKBRIDGE_KUSTOMER_ORG": "acme.api.kustomerapp.com"}, `DESKBRIDGE_KUSTOMER_ORG="acme.api.kustomerapp.com": want the org's name alone`},
		{"bad base url", map[string]string{"DESKBRIDGE_KUSTOMER_ORG": "", "DESKBRIDGE_KUSTOMER_BASE_URL": "acme.api"}, `DESKBRIDGE_KUSTOMER_BASE_URL="acme.api": want https://host`},
	} {
		if k, err := start(c.extra); err == nil || !strings.Contains(err.Error(), c.want) {
			if err == nil {
				_ = k.close()
			}
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	for _, s := range lookupKitSettings(t, "kustomer") {
		secret := s.Env == "DESKBRIDGE_KUSTOMER_API_KEY" || s.Env == "DESKBRIDGE_KUSTOMER_WEBHOOK_TOKEN"
		if secret != s.Secret {
			t.Errorf("%s: secret %v", s.Env, s.Secret)
		}
	}
	if _, err := loadServeConfig([]string{"--kit", "kustomer", "--desk-url", "http://127.0.0.1:1", "--data-dir", t.TempDir()}, io.Discard, env(nil)); err != nil {
		t.Errorf("kustomer against a mock-desk face: %v", err)
	}
}
