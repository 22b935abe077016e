package vendorkit

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestUUIDs(t *testing.T) {
	a, b := NewUUID(), NewUUID()
	if a == b || !IsUUID(a) || a != strings.ToLower(a) || a[14] != '4' {
		t.Fatalf("NewUUID %s %s", a, b)
	}
	if got := NameUUID("7F0D9B0C-8E3B-4B1E-9C55-2D2E3A4B5C6D"); got != "7f0d9b0c-8e3b-4b1e-9c55-2d2e3a4b5c6d" {
		t.Fatalf("a UUID name: %s", got)
	}
	n := NameUUID("engine-id")
	if n != NameUUID("engine-id") || n == NameUUID("engine-id2") || !IsUUID(n) || n[14] != '5' || !strings.ContainsRune("89ab", rune(n[19])) {
		t.Fatalf("NameUUID %s", n)
	}
	for _, s := range []string{"", "7f0d9b0c-8e3b-4b1e-9c55-2d2e3a4b5c6", "7f0d9b0c+8e3b-4b1e-9c55-2d2e3a4b5c6d", "zf0d9b0c-8e3b-4b1e-9c55-2d2e3a4b5c6d"} {
		if IsUUID(s) {
			t.Errorf("%q taken for a UUID", s)
		}
	}
}

func TestJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tok, err := SignRS256(key, "k1", map[string]any{"sub": "cust-1", "exp": exp.Unix()})
	if err != nil {
		t.Fatal(err)
	}
	if got := TokenExpiry(tok); !got.Equal(exp) {
		t.Fatalf("expiry %v, want %v", got, exp)
	}
	parts := strings.Split(tok, ".")
	head, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if string(head) != `{"alg":"RS256","kid":"k1","typ":"JWT"}` {
		t.Fatalf("header %s", head)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	for _, s := range []string{"", "a.b", "x.!!.y", "e30.e30.c2ln"} {
		if !TokenExpiry(s).IsZero() {
			t.Errorf("%q has an expiry", s)
		}
	}
}
