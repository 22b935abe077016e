package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/deskbridge/deskbridge/core/flow"
)

// A session token is "<session id>.<tag>", where tag is the base64url
// HMAC-SHA256 of the session id under the gateway's secret. The session id
// is 128 random bits; the tag binds the token to it, so a token opens its
// own session and no other, and no token can be made without the secret.
// Nothing is stored per token: a gateway restarted with the same secret and
// Store resumes the same sessions.

const tokenPrefix = "s1."

type tokens struct {
	secret []byte
}

func newTokens(secret []byte) tokens {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	return tokens{secret: append([]byte(nil), secret...)}
}

func (t tokens) tag(sessionID string) []byte {
	mac := hmac.New(sha256.New, t.secret)
	mac.Write([]byte(tokenPrefix))
	mac.Write([]byte(sessionID))
	return mac.Sum(nil)
}

// mint returns the token for sessionID.
func (t tokens) mint(sessionID string) string {
	return tokenPrefix + sessionID + "." + base64.RawURLEncoding.EncodeToString(t.tag(sessionID))
}

// verify returns the session id a token opens, or false. The tag is
// compared in constant time.
func (t tokens) verify(token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || len(token) > 512 {
		return "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", false
	}
	id, enc := rest[:i], rest[i+1:]
	if len(id) > flow.MaxSessionIDLen {
		return "", false
	}
	got, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", false
	}
	if !hmac.Equal(got, t.tag(id)) {
		return "", false
	}
	return id, true
}

// newSessionID returns 128 random bits in base32.
func newSessionID() string {
	return strings.ToLower(rand.Text()[:26])
}
