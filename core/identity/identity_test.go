package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	secret = []byte(strings.Repeat("k", 32))
	t0     = time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	ctx    = context.Background()
)

func claims(mod func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"iss": "https://shop.example", "aud": "deskbridge", "sub": "c-42", "name": "Ada Lovelace",
		"email": "ada@example.com", "locale": "en-GB", "tier": "gold", "iat": t0.Unix(), "exp": t0.Add(5 * time.Minute).Unix()}
	if mod != nil {
		mod(c)
	}
	return c
}

func hs(t testing.TB, c jwt.MapClaims) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	require.NoError(t, err)
	return s
}

func hsVerifier(t testing.TB, mod func(*Config)) *Verifier {
	cfg := Config{Secret: secret, Issuer: "https://shop.example", Audience: "deskbridge", Now: func() time.Time { return t0 },
		Claims: map[string]string{"tier": "tier"}}
	if mod != nil {
		mod(&cfg)
	}
	v, err := New(cfg)
	require.NoError(t, err)
	return v
}

func TestHS256Accepted(t *testing.T) {
	c, err := hsVerifier(t, nil).Verify(ctx, hs(t, claims(nil)))
	require.NoError(t, err)
	assert.Equal(t, &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace", Email: "ada@example.com", Locale: "en-GB",
		Claims: map[string]string{"tier": "gold"}}, c)
}

func TestClaimMapping(t *testing.T) {
	v := hsVerifier(t, func(c *Config) {
		c.IDClaim, c.NameClaim = "customer_id", "display"
		c.Claims = map[string]string{"segment": "seg", "flags": "flags", "absent": "x"}
	})
	got, err := v.Verify(ctx, hs(t, claims(func(c jwt.MapClaims) {
		c["customer_id"], c["display"], c["segment"], c["flags"] = "cust-7", "Ada", "smb", []string{"vip", "beta"}
	})))
	require.NoError(t, err)
	assert.Equal(t, "cust-7", got.ID)
	assert.Equal(t, "Ada", got.Name)
	assert.Equal(t, map[string]string{"seg": "smb", "flags": `["vip","beta"]`}, got.Claims)
}

func TestRefused(t *testing.T) {
	v := hsVerifier(t, nil)
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	hs384, err := jwt.NewWithClaims(jwt.SigningMethodHS384, claims(nil)).SignedString(secret)
	require.NoError(t, err)
	foreign, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil)).SignedString([]byte(strings.Repeat("x", 32)))
	require.NoError(t, err)
	valid := hs(t, claims(nil))
	cases := map[string]struct{ token, why string }{
		"alg none":          {none, "algorithm"},
		"another algorithm": {hs384, "algorithm"},
		"foreign key":       {foreign, "signature"},
		"expired":           {hs(t, claims(func(c jwt.MapClaims) { c["exp"] = t0.Add(-2 * time.Minute).Unix() })), "expired"},
		"no expiry":         {hs(t, claims(func(c jwt.MapClaims) { delete(c, "exp") })), "no expiry"},
		"not yet":           {hs(t, claims(func(c jwt.MapClaims) { c["nbf"] = t0.Add(2 * time.Minute).Unix() })), "not valid yet"},
		"issued later":      {hs(t, claims(func(c jwt.MapClaims) { c["iat"] = t0.Add(2 * time.Minute).Unix() })), "not valid yet"},
		"other issuer":      {hs(t, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })), "issuer"},
		"other audience":    {hs(t, claims(func(c jwt.MapClaims) { c["aud"] = []string{"someone-else"} })), "audience"},
		"no audience":       {hs(t, claims(func(c jwt.MapClaims) { delete(c, "aud") })), "audience"},
		"no subject":        {hs(t, claims(func(c jwt.MapClaims) { delete(c, "sub") })), "no sub"},
		"long subject":      {hs(t, claims(func(c jwt.MapClaims) { c["sub"] = strings.Repeat("s", MaxIDBytes+1) })), "longer"},
		"lives too long":    {hs(t, claims(func(c jwt.MapClaims) { c["exp"] = t0.Add(48 * time.Hour).Unix() })), "lives longer"},
		"not a JWT":         {"hello", "not a JWT"},
		"empty":             {"", "not a JWT"},
		"too long":          {strings.Repeat("a", MaxTokenBytes+1), "longer"},
		"signature cut":     {valid[:len(valid)-2], "JWT"},
		"no issuer":         {hs(t, claims(func(c jwt.MapClaims) { delete(c, "iss") })), "issuer"},
		"padded signature":  {valid + "=", "JWT"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := v.Verify(ctx, tc.token)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrRefused)
			assert.Contains(t, err.Error(), tc.why)
		})
	}
}

func TestLeeway(t *testing.T) {
	v := hsVerifier(t, func(c *Config) { c.Leeway = 30 * time.Second })
	_, err := v.Verify(ctx, hs(t, claims(func(c jwt.MapClaims) { c["exp"] = t0.Add(-20 * time.Second).Unix() })))
	assert.NoError(t, err, "expired within the clock skew allowed")
	_, err = v.Verify(ctx, hs(t, claims(func(c jwt.MapClaims) { c["exp"] = t0.Add(-40 * time.Second).Unix() })))
	assert.ErrorIs(t, err, ErrRefused)
}

func TestConfigRefused(t *testing.T) {
	for name, cfg := range map[string]Config{
		"nothing":      {Issuer: "i", Audience: "a"},
		"both":         {Secret: secret, JWKSURL: "https://x.example/jwks", Issuer: "i", Audience: "a"},
		"short secret": {Secret: []byte("short"), Issuer: "i", Audience: "a"},
		"no issuer":    {Secret: secret, Audience: "a"},
		"no audience":  {Secret: secret, Issuer: "i"},
		"bad URL":      {JWKSURL: "ftp://x", Issuer: "i", Audience: "a"},
	} {
		_, err := New(cfg)
		assert.Error(t, err, name)
	}
}

// site publishes a JWKS document that a test can change (key rotation).
type site struct {
	mu      sync.Mutex
	doc     []byte
	fetches atomic.Int32
	fail    atomic.Bool
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	if s.fail.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.doc)
}

func (s *site) publish(keys ...map[string]string) {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	s.mu.Lock()
	s.doc = b
	s.mu.Unlock()
}

func rsaJWK(kid string, k *rsa.PrivateKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString([]byte{1, 0, 1})}
}

func ecJWK(kid string, k *ecdsa.PrivateKey) map[string]string {
	b, _ := k.PublicKey.Bytes() // 0x04 || X || Y
	return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64.EncodeToString(b[1:33]), "y": b64.EncodeToString(b[33:])}
}

func signed(t testing.TB, m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	tok := jwt.NewWithClaims(m, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestJWKS(t *testing.T) {
	rsa1, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsa2, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ec1, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	s := &site{}
	s.publish(rsaJWK("r1", rsa1), ecJWK("e1", ec1), map[string]string{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"})
	srv := httptest.NewServer(s)
	defer srv.Close()
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	v, err := New(Config{JWKSURL: srv.URL, Issuer: "https://shop.example", Audience: "deskbridge", Now: clock, MaxLifetime: -1,
		JWKS: JWKSOptions{Client: srv.Client(), Refresh: time.Hour, MinInterval: 30 * time.Second}})
	require.NoError(t, err)
	fresh := func() jwt.MapClaims {
		return claims(func(c jwt.MapClaims) { c["iat"], c["exp"] = clock().Unix(), clock().Add(5*time.Minute).Unix() })
	}

	c, err := v.Verify(ctx, signed(t, jwt.SigningMethodRS256, "r1", rsa1, fresh()))
	require.NoError(t, err)
	assert.Equal(t, "c-42", c.ID)
	_, err = v.Verify(ctx, signed(t, jwt.SigningMethodES256, "e1", ec1, fresh()))
	require.NoError(t, err)
	assert.EqualValues(t, 1, s.fetches.Load(), "the key set is cached")

	// Alg confusion: an HS256 token keyed with the public key's bytes.
	_, err = v.Verify(ctx, signed(t, jwt.SigningMethodHS256, "r1", rsa1.N.Bytes(), fresh()))
	assert.ErrorContains(t, err, "algorithm")
	// A key of one type named for the other algorithm.
	_, err = v.Verify(ctx, signed(t, jwt.SigningMethodES256, "r1", ec1, fresh()))
	assert.ErrorContains(t, err, "not for ES256")
	// The right kid, a foreign key.
	_, err = v.Verify(ctx, signed(t, jwt.SigningMethodRS256, "r1", rsa2, fresh()))
	assert.ErrorContains(t, err, "signature")

	// An unknown kid fetches again, but not more than once per MinInterval.
	advance(31 * time.Second)
	_, err = v.Verify(ctx, signed(t, jwt.SigningMethodRS256, "r2", rsa2, fresh()))
	assert.ErrorContains(t, err, `"r2" is not among`)
	for range 5 {
		_, _ = v.Verify(ctx, signed(t, jwt.SigningMethodRS256, "made-up", rsa2, fresh()))
	}
	assert.EqualValues(t, 2, s.fetches.Load(), "made-up key ids do not each fetch")

	// Rotation: the site adds r2 and drops r1.
	s.publish(rsaJWK("r2", rsa2))
	advance(31 * time.Second)
	c, err = v.Verify(ctx, signed(t, jwt.SigningMethodRS256, "r2", rsa2, fresh()))
	require.NoError(t, err, "a new key is fetched when a token names it")
	assert.Equal(t, "c-42", c.ID)
	_, err = v.Verify(ctx, signed(t, jwt.SigningMethodRS256, "r1", rsa1, fresh()))
	assert.ErrorContains(t, err, "not among", "a dropped key is gone")

	// The site down: the cached keys go on past Refresh.
	s.fail.Store(true)
	advance(2 * time.Hour)
	_, err = v.Verify(ctx, signed(t, jwt.SigningMethodRS256, "r2", rsa2, fresh()))
	assert.NoError(t, err, "stale keys beat none")
}

func TestJWKSUnreachable(t *testing.T) {
	s := &site{}
	s.fail.Store(true)
	srv := httptest.NewServer(s)
	defer srv.Close()
	v, err := New(Config{JWKSURL: srv.URL, Issuer: "https://shop.example", Audience: "deskbridge", Now: func() time.Time { return t0 },
		JWKS: JWKSOptions{Client: srv.Client()}})
	require.NoError(t, err)
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, err = v.Verify(ctx, signed(t, jwt.SigningMethodRS256, "r1", k, claims(nil)))
	assert.ErrorIs(t, err, ErrRefused)
	assert.ErrorContains(t, err, "could not be fetched")
}

func TestJWKRefusesWeakKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	_, err = jwkOf(rsaJWK("s", small)).publicKey()
	assert.Error(t, err)
	bad := map[string]string{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(make([]byte, 32)), "y": b64.EncodeToString(make([]byte, 32))}
	_, err = jwkOf(bad).publicKey()
	assert.Error(t, err, "a point off the curve")
}

func jwkOf(m map[string]string) jwk {
	b, _ := json.Marshal(m)
	var j jwk
	_ = json.Unmarshal(b, &j)
	return j
}

// FuzzVerify: whatever the bytes, Verify does not panic, and accepts only
// the one token signed for it: a changed byte anywhere is refused.
func FuzzVerify(f *testing.F) {
	v := hsVerifier(f, nil)
	valid := hs(f, claims(nil))
	f.Add(valid)
	f.Add(valid[:len(valid)-1] + "A")
	f.Add(strings.Replace(valid, ".", "..", 1))
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJjLTQyIn0.")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(ctx, token)
		if token == valid {
			if err != nil || c.ID != "c-42" {
				t.Fatalf("the valid token was refused: %v", err)
			}
			return
		}
		if err == nil {
			t.Fatalf("a changed token was accepted: %q", token)
		}
		if !errors.Is(err, ErrRefused) || c != nil {
			t.Fatalf("error %v, customer %v", err, c)
		}
	})
}
