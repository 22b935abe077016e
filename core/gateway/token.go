package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
)

// A session token is "s2.<session id>.<expiry>.<tag>": the expiry in Unix
// seconds, the tag the base64url (unpadded, canonical) HMAC-SHA256 of the
// rest under the gateway's secret. The session id is 128 random bits; the
// tag binds the token to it and to its expiry, so a token opens its own
// session and no other, until it expires, and no token can be made
// without the secret. Every welcome brings a fresh token and heartbeats
// renew it past half its life, so an open tab never sees one expire.
// Nothing is stored per token: a gateway restarted with the same secret
// and Store resumes the same sessions.
//
// Tokens of the first form, "s1.<session id>.<tag>", have no expiry; they
// are taken only for a session whose chat is running, so that chats
// survive the upgrade, and are replaced by the welcome.

const (
	tokenPrefix       = "s2."
	legacyTokenPrefix = "s1."
)

var tagEncoding = base64.RawURLEncoding.Strict()

type tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

func newTokens(secret []byte, ttl time.Duration, now func() time.Time) tokens {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	return tokens{secret: append([]byte(nil), secret...), ttl: ttl, now: now}
}

func (t tokens) tag(body string) []byte {
	mac := hmac.New(sha256.New, t.secret)
	mac.Write([]byte(body))
	return mac.Sum(nil)
}

// mint returns a fresh token for sessionID.
func (t tokens) mint(sessionID string) string {
	body := tokenPrefix + sessionID + "." + strconv.FormatInt(t.now().Add(t.ttl).Unix(), 10)
	return body + "." + tagEncoding.EncodeToString(t.tag(body))
}

// verify returns the session id a token opens, or false; legacy reports a
// token of the first form. The tag is compared in constant time.
func (t tokens) verify(token string) (id string, legacy, ok bool) {
	if len(token) > 512 {
		return "", false, false
	}
	i := strings.LastIndexByte(token, '.')
	if i <= 0 {
		return "", false, false
	}
	body, enc := token[:i], token[i+1:]
	got, err := tagEncoding.DecodeString(enc)
	if err != nil || !hmac.Equal(got, t.tag(body)) {
		return "", false, false
	}
	if rest, ok := strings.CutPrefix(body, legacyTokenPrefix); ok {
		return rest, true, validID(rest)
	}
	rest, ok := strings.CutPrefix(body, tokenPrefix)
	if !ok {
		return "", false, false
	}
	j := strings.LastIndexByte(rest, '.')
	if j <= 0 {
		return "", false, false
	}
	exp, err := strconv.ParseInt(rest[j+1:], 10, 64)
	if err != nil || t.now().Unix() >= exp {
		return "", false, false
	}
	return rest[:j], false, validID(rest[:j])
}

func validID(id string) bool { return id != "" && len(id) <= flow.MaxSessionIDLen }

// newSessionID returns 128 random bits in base32.
func newSessionID() string {
	return strings.ToLower(rand.Text()[:26])
}
