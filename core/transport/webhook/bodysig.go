package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// BodyHMAC is the lowercase hex HMAC-SHA256 of a raw body keyed with
// secret: the signature of vendors that sign the body alone, with no
// timestamp (Kustomer's X-Kustomer-Webhook-Signature).
func BodyHMAC(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// ValidBodyHMAC reports whether sig (hex, either case) is BodyHMAC of body
// under one of secrets (give two while rotating). Every secret is
// compared, in constant time, so timing tells nothing; an empty or
// malformed sig, or no secret, is never valid.
func ValidBodyHMAC(secrets [][]byte, body []byte, sig string) bool {
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		m := hmac.New(sha256.New, s)
		m.Write(body)
		if hmac.Equal(m.Sum(nil), got) {
			ok = true
		}
	}
	return ok
}
