package main

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestZendeskSettings: the kit's settings come from the environment, the
// secrets only from there, and missing and malformed ones are caught at
// start naming the variable.
func TestZendeskSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := loadServeConfig([]string{"--kit", "zendesk", "--data-dir", t.TempDir()}, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), "kit zendesk: set DESKBRIDGE_ZENDESK_APP_ID") || !strings.Contains(err.Error(), "DESKBRIDGE_ZENDESK_KEY_SECRET") ||
		!strings.Contains(err.Error(), "DESKBRIDGE_ZENDESK_WEBHOOK_SECRET") {
		t.Fatalf("missing settings: %v", err)
	}
	base := map[string]string{"DESKBRIDGE_ZENDESK_SUBDOMAIN": "acme", "DESKBRIDGE_ZENDESK_APP_ID": "5ebee0975ac5304b664a12fa",
		"DESKBRIDGE_ZENDESK_KEY_ID": "app_1", "DESKBRIDGE_ZENDESK_KEY_SECRET": "s", "DESKBRIDGE_ZENDESK_WEBHOOK_SECRET": "w1, w2"}
	start := func(extra map[string]string) (*kit, error) {
		s := maps.Clone(base)
		maps.Copy(s, extra)
		for k, v := range s {
			if v == "" {
				delete(s, k)
			}
		}
		return newKit(kitConfig{Name: "zendesk", PublicURL: "https://bridge.example.com", Settings: s, Logger: quietLog()})
	}
	k, err := start(nil)
	if err != nil {
		t.Fatalf("good settings: %v", err)
	}
	defer k.close()
	// Mounted at the webhook path, the handler takes either secret and
	// refuses a delivery without one.
	if k.webhook == nil || k.webhookPath != webhookPath {
		t.Fatalf("webhook %v at %q", k.webhook, k.webhookPath)
	}
	srv := httptest.NewServer(k.webhook)
	defer srv.Close()
	for key, want := range map[string]int{"": 401, "w3": 401, "w2": 200} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"app":{"id":"5ebee0975ac5304b664a12fa"},"events":[]}`))
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("X-API-Key %q: %d, want %d", key, resp.StatusCode, want)
		}
	}
	for _, tc := range []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"no host", map[string]string{"DESKBRIDGE_ZENDESK_SUBDOMAIN": ""}, "set DESKBRIDGE_ZENDESK_SUBDOMAIN"},
		{"a host for a subdomain", map[string]string{"DESKBRIDGE_ZENDESK_SUBDOMAIN": "acme.zendesk.com"}, `DESKBRIDGE_ZENDESK_SUBDOMAIN="acme.zendesk.com": want the subdomain alone`},
		{"bad base url", map[string]string{"DESKBRIDGE_ZENDESK_SUBDOMAIN": "", "DESKBRIDGE_ZENDESK_BASE_URL": "api.smooch.io"}, `DESKBRIDGE_ZENDESK_BASE_URL="api.smooch.io": want https://host`},
		{"jwt", map[string]string{"DESKBRIDGE_ZENDESK_JWT": "yes please"}, `DESKBRIDGE_ZENDESK_JWT="yes please": want true or false`},
		{"next", map[string]string{"DESKBRIDGE_ZENDESK_HANDOFF_TO": "next"}, `DESKBRIDGE_ZENDESK_HANDOFF_TO="next"`},
		{"field", map[string]string{"DESKBRIDGE_ZENDESK_SUMMARY_FIELD": "summary"}, `DESKBRIDGE_ZENDESK_SUMMARY_FIELD="summary": want a ticket field's numeric id`},
		{"half a webhook", map[string]string{"DESKBRIDGE_ZENDESK_INTEGRATION_ID": "5f11a650e4e987667c2051d1"}, "DESKBRIDGE_ZENDESK_INTEGRATION_ID and DESKBRIDGE_ZENDESK_WEBHOOK_ID go together"},
		{"legacy host", map[string]string{"DESKBRIDGE_ZENDESK_SUBDOMAIN": "", "DESKBRIDGE_ZENDESK_BASE_URL": "https://api.eu-1.smooch.io", "DESKBRIDGE_ZENDESK_JWT": "true"}, ""},
	} {
		k, err := start(tc.extra)
		if k != nil {
			_ = k.close()
		}
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, s := range lookupKitSettings(t, "zendesk") {
		if (s.Env == "DESKBRIDGE_ZENDESK_KEY_SECRET" || s.Env == "DESKBRIDGE_ZENDESK_WEBHOOK_SECRET") && !s.Secret {
			t.Errorf("%s is not marked secret", s.Env)
		}
	}
	// Against the demo's mock-desk face nothing is needed.
	if _, err := loadServeConfig([]string{"--kit", "zendesk", "--desk-url", "http://127.0.0.1:1", "--data-dir", t.TempDir()}, io.Discard, env(nil)); err != nil {
		t.Errorf("zendesk against a mock-desk face: %v", err)
	}
}
