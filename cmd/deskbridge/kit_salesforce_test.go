package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"strings"
	"testing"
)

// TestSalesforceSettings: the kit's settings come from the environment,
// missing and malformed ones are caught at start naming the variable, and
// the identity key is read (PKCS#1 or PKCS#8) or refused.
func TestSalesforceSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := loadServeConfig([]string{"--kit", "salesforce", "--data-dir", t.TempDir()}, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), "kit salesforce: set DESKBRIDGE_SALESFORCE_URL") || !strings.Contains(err.Error(), "DESKBRIDGE_SALESFORCE_DEPLOYMENT") {
		t.Fatalf("missing settings: %v", err)
	}
	base := map[string]string{"DESKBRIDGE_SALESFORCE_URL": "https://acme.my.salesforce-scrt.com", "DESKBRIDGE_SALESFORCE_ORG_ID": "00D5g000004bXyZ", "DESKBRIDGE_SALESFORCE_DEPLOYMENT": "Web_Chat"}
	start := func(extra map[string]string) error {
		s := map[string]string{}
		for k, v := range base {
			s[k] = v
		}
		for k, v := range extra {
			s[k] = v
		}
		k, err := newKit(kitConfig{Name: "salesforce", Settings: s, Logger: quietLog()})
		if err == nil {
			_ = k.close()
		}
		return err
	}
	if err := start(nil); err != nil {
		t.Fatalf("good settings: %v", err)
	}
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pkcs8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	for _, tc := range []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"bad url", map[string]string{"DESKBRIDGE_SALESFORCE_URL": "acme.my.salesforce-scrt.com"}, `kit salesforce: DESKBRIDGE_SALESFORCE_URL="acme.my.salesforce-scrt.com": not an http(s) URL`},
		{"bad org", map[string]string{"DESKBRIDGE_SALESFORCE_ORG_ID": "005xx000001"}, `DESKBRIDGE_SALESFORCE_ORG_ID="005xx000001": not an org id`},
		{"key alone", map[string]string{"DESKBRIDGE_SALESFORCE_IDENTITY_KEY": pkcs1}, "needs DESKBRIDGE_SALESFORCE_IDENTITY_KEY_ID"},
		{"key id alone", map[string]string{"DESKBRIDGE_SALESFORCE_IDENTITY_KEY_ID": "k1"}, "need DESKBRIDGE_SALESFORCE_IDENTITY_KEY"},
		{"not pem", map[string]string{"DESKBRIDGE_SALESFORCE_IDENTITY_KEY": "secret", "DESKBRIDGE_SALESFORCE_IDENTITY_KEY_ID": "k1", "DESKBRIDGE_SALESFORCE_IDENTITY_ISSUER": "i"}, "not a PEM block"},
		{"pkcs1", map[string]string{"DESKBRIDGE_SALESFORCE_IDENTITY_KEY": pkcs1, "DESKBRIDGE_SALESFORCE_IDENTITY_KEY_ID": "k1", "DESKBRIDGE_SALESFORCE_IDENTITY_ISSUER": "i"}, ""},
		{"pkcs8", map[string]string{"DESKBRIDGE_SALESFORCE_IDENTITY_KEY": pkcs8, "DESKBRIDGE_SALESFORCE_IDENTITY_KEY_ID": "k1", "DESKBRIDGE_SALESFORCE_IDENTITY_ISSUER": "i"}, ""},
	} {
		err := start(tc.extra)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// The key is a secret: a config file naming it is refused.
	for _, s := range lookupKitSettings(t, "salesforce") {
		if s.Env == "DESKBRIDGE_SALESFORCE_IDENTITY_KEY" && !s.Secret {
			t.Error("the identity key is not marked secret")
		}
	}
	// Against the demo's mock-desk face no ids are needed.
	if _, err := loadServeConfig([]string{"--kit", "salesforce", "--desk-url", "http://127.0.0.1:1", "--data-dir", t.TempDir()}, io.Discard, env(nil)); err != nil {
		t.Errorf("salesforce against a mock-desk face: %v", err)
	}
}

func lookupKitSettings(t *testing.T, name string) []envSetting {
	t.Helper()
	k, ok := lookupKit(name)
	if !ok {
		t.Fatalf("no kit %s", name)
	}
	return k.Settings
}
