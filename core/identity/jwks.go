package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// JWKSOptions tune how a key set is fetched and kept.
type JWKSOptions struct {
	// Client fetches the key set (default: a client with a 5 s timeout).
	Client *http.Client
	// Refresh is how long a fetched key set is used before it is fetched
	// again (default 10 min). A failed fetch keeps the keys it had.
	Refresh time.Duration
	// MinInterval is the least time between two fetches, however many
	// tokens name unknown keys (default 30 s): a flood of made-up key ids
	// does not become a flood of fetches.
	MinInterval time.Duration
	// MaxBytes bounds the key set document (default 1 MiB).
	MaxBytes int64
}

// keySet is the site's published keys, by key id.
type keySet struct {
	url  string
	opts JWKSOptions
	now  func() time.Time

	mu      sync.Mutex // one fetch at a time; guards the fields below
	keys    map[string]any
	fetched time.Time // of the last successful fetch
	tried   time.Time // of the last attempt
}

func newKeySet(raw string, opts JWKSOptions, now func() time.Time) (*keySet, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("identity: JWKS URL %q: want an http(s) URL", raw)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if opts.Refresh <= 0 {
		opts.Refresh = 10 * time.Minute
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = 30 * time.Second
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 1 << 20
	}
	return &keySet{url: raw, opts: opts, now: now}, nil
}

// keyError is a key lookup's failure, in words for the token's sender.
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }

// key returns the public key kid for alg, fetching the set when it is
// stale or lacks kid (no more often than MinInterval).
func (k *keySet) key(ctx context.Context, kid, alg string) (any, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	key, ok := k.keys[kid]
	stale := now.Sub(k.fetched) >= k.opts.Refresh
	if (!ok || stale) && now.Sub(k.tried) >= k.opts.MinInterval {
		k.tried = now
		if keys, err := k.fetch(ctx); err == nil {
			k.keys, k.fetched = keys, now
		} else if k.keys == nil {
			return nil, &keyError{"the site's keys could not be fetched"}
		}
		key, ok = k.keys[kid]
	}
	if !ok {
		return nil, &keyError{fmt.Sprintf("its key %q is not among the site's keys", kid)}
	}
	switch key.(type) {
	case *rsa.PublicKey:
		if alg == "RS256" {
			return key, nil
		}
	case *ecdsa.PublicKey:
		if alg == "ES256" {
			return key, nil
		}
	}
	return nil, &keyError{fmt.Sprintf("its key %q is not for %s", kid, alg)}
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// fetch reads the key set. Keys it cannot use (other types, curves,
// signing or encryption uses) are skipped, not fatal: a site may publish
// more than deskbridge needs.
func (k *keySet) fetch(ctx context.Context) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("identity: fetch JWKS %s: %w", k.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("identity: fetch JWKS %s: %s", k.url, resp.Status)
	}
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, k.opts.MaxBytes)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("identity: fetch JWKS %s: %w", k.url, err)
	}
	keys := make(map[string]any, len(doc.Keys))
	for _, j := range doc.Keys {
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		if key, err := j.publicKey(); err == nil {
			keys[j.Kid] = key
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("identity: fetch JWKS %s: no RSA or P-256 signing key", k.url)
	}
	return keys, nil
}

var b64 = base64.RawURLEncoding

func (j jwk) publicKey() (any, error) {
	switch j.Kty {
	case "RSA":
		if j.Alg != "" && j.Alg != "RS256" {
			return nil, errors.New("not RS256")
		}
		n, err1 := b64.DecodeString(j.N)
		e, err2 := b64.DecodeString(j.E)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		if len(n) < 2048/8 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("RSA key too small or exponent out of range")
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 || exp%2 == 0 {
			return nil, errors.New("bad RSA exponent")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
	case "EC":
		if j.Crv != "P-256" || (j.Alg != "" && j.Alg != "ES256") {
			return nil, errors.New("not P-256")
		}
		x, err1 := b64.DecodeString(j.X)
		y, err2 := b64.DecodeString(j.Y)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		if len(x) != 32 || len(y) != 32 {
			return nil, errors.New("bad P-256 coordinates")
		}
		// Checks the point is on the curve.
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	}
	return nil, errors.New("unsupported key type")
}
