package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func twilioEnv() map[string]string {
	return map[string]string{
		"DESKBRIDGE_TWILIO_ACCOUNT_SID":   "AC0123456789abcdef0123456789abcdef",
		"DESKBRIDGE_TWILIO_AUTH_TOKEN":    "tok",
		"DESKBRIDGE_TWILIO_WORKSPACE_SID": "WS0123456789abcdef0123456789abcdef",
	}
}

// TestTwilioSettings: missing and malformed settings are caught when the
// kit starts, each named.
func TestTwilioSettings(t *testing.T) {
	_, err := newKit(kitConfig{Name: "twilio", PublicURL: "https://bridge.example.com", Settings: map[string]string{}, Logger: quietLog()})
	if err == nil || !strings.Contains(err.Error(), "DESKBRIDGE_TWILIO_ACCOUNT_SID") || !strings.Contains(err.Error(), "DESKBRIDGE_TWILIO_AUTH_TOKEN") ||
		!strings.Contains(err.Error(), "DESKBRIDGE_TWILIO_WORKSPACE_SID") {
		t.Fatalf("missing settings: %v", err)
	}
	for name, c := range map[string]struct{ env, value, want string }{
		"account":    {"DESKBRIDGE_TWILIO_ACCOUNT_SID", "AC123", `DESKBRIDGE_TWILIO_ACCOUNT_SID="AC123": want AC followed by 32 hex digits`},
		"workflow":   {"DESKBRIDGE_TWILIO_WORKFLOW_SID", "WQ0123456789abcdef0123456789abcdef", "DESKBRIDGE_TWILIO_WORKFLOW_SID"},
		"public url": {"DESKBRIDGE_TWILIO_PUBLIC_URL", "bridge.example.com", `DESKBRIDGE_TWILIO_PUBLIC_URL="bridge.example.com": want http://host or https://host`},
		"half a key": {"DESKBRIDGE_TWILIO_API_KEY_SID", "SK0123456789abcdef0123456789abcdef", "APIKeySID and APIKeySecret go together"},
	} {
		env := twilioEnv()
		env[c.env] = c.value
		_, err := newKit(kitConfig{Name: "twilio", PublicURL: "https://bridge.example.com", Settings: env, Logger: quietLog()})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

// TestTwilioWebhookMounted: the kit's webhook handler is what the server
// mounts, and it refuses what Twilio did not sign.
func TestTwilioWebhookMounted(t *testing.T) {
	k, err := newKit(kitConfig{Name: "twilio", PublicURL: "https://bridge.example.com/", Settings: twilioEnv(), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer k.close()
	if k.webhook == nil || k.webhookPath != webhookPath {
		t.Fatalf("webhook %v at %q", k.webhook, k.webhookPath)
	}
	srv := httptest.NewServer(k.webhook)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+webhookPath, url.Values{"EventType": {"onMessageAdded"}, "ConversationSid": {"CH1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unsigned webhook: %d", resp.StatusCode)
	}
}
