package vendorkit

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// TokenExpiry reads a JWT's exp claim without checking its signature: a
// vendor's access token, which a kit only wants to renew in time. The zero
// time when tok is no JWT or has no exp.
func TokenExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var c struct {
		Exp float64 `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil || c.Exp <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(c.Exp), 0)
}

// SignRS256 makes a JWT of claims signed with key (RS256), kid in its
// header when not empty: the identity token a vendor's user verification
// checks against the public key registered with it.
func SignRS256(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	head := map[string]string{"alg": "RS256", "typ": "JWT"}
	if kid != "" {
		head["kid"] = kid
	}
	h, err := json.Marshal(head)
	if err != nil {
		return "", fmt.Errorf("vendorkit: sign: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("vendorkit: sign: claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("vendorkit: sign: %w", err)
	}
	return signed + "." + enc.EncodeToString(sig), nil
}
