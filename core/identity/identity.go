package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/golang-jwt/jwt/v5"
)

// ErrRefused is matched by every error of Verify: the token does not
// prove an identity here (malformed, badly signed, expired, for another
// issuer or audience, of a refused algorithm, without a subject).
var ErrRefused = errors.New("identity token refused")

// MaxTokenBytes is the longest token Verify reads.
const MaxTokenBytes = 8 << 10

// MaxIDBytes is the longest customer id a token may carry.
const MaxIDBytes = 256

// Config says which tokens prove an identity. Exactly one of Secret and
// JWKSURL is set.
type Config struct {
	// Secret is the HS256 key shared with the site, at least 32 bytes.
	Secret []byte
	// JWKSURL is where the site publishes its RS256 and ES256 public keys.
	JWKSURL string
	// JWKS tunes the key set's fetching; zero values take its defaults.
	JWKS JWKSOptions

	// Issuer and Audience must be the token's iss and one of its aud.
	Issuer   string
	Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat (default 1 min).
	Leeway time.Duration
	// MaxLifetime refuses a token whose exp is further than this past its
	// iat (or past now, without iat); 0 takes 24 h, a negative value none.
	MaxLifetime time.Duration

	// IDClaim names the claim that is the customer id (default "sub");
	// NameClaim, EmailClaim and LocaleClaim the display name, e-mail and
	// locale (defaults "name", "email", "locale").
	IDClaim, NameClaim, EmailClaim, LocaleClaim string
	// Claims maps further claims to pass on to Customer.Claims: claim name
	// to the key it is passed under. A claim the token lacks is left out.
	Claims map[string]string

	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Verifier checks identity tokens. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	parser *jwt.Parser
	keys   *keySet // nil with a shared secret
}

// New returns a Verifier for cfg.
func New(cfg Config) (*Verifier, error) {
	switch {
	case len(cfg.Secret) > 0 && cfg.JWKSURL != "":
		return nil, errors.New("identity: set a secret or a JWKS URL, not both")
	case len(cfg.Secret) == 0 && cfg.JWKSURL == "":
		return nil, errors.New("identity: set a secret (HS256) or a JWKS URL (RS256, ES256)")
	case len(cfg.Secret) > 0 && len(cfg.Secret) < 32:
		return nil, errors.New("identity: the HS256 secret must be at least 32 bytes")
	case cfg.Issuer == "":
		return nil, errors.New("identity: the issuer is required (the iss every token must carry)")
	case cfg.Audience == "":
		return nil, errors.New("identity: the audience is required (the aud every token must carry)")
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = time.Minute
	}
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.IDClaim = or(cfg.IDClaim, "sub")
	cfg.NameClaim = or(cfg.NameClaim, "name")
	cfg.EmailClaim = or(cfg.EmailClaim, "email")
	cfg.LocaleClaim = or(cfg.LocaleClaim, "locale")
	v := &Verifier{cfg: cfg}
	methods := []string{"HS256"}
	if cfg.JWKSURL != "" {
		methods = []string{"RS256", "ES256"}
		ks, err := newKeySet(cfg.JWKSURL, cfg.JWKS, cfg.Now)
		if err != nil {
			return nil, err
		}
		v.keys = ks
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	)
	return v, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Verify checks token and returns the customer it proves. Every error
// matches ErrRefused, and says why in words fit for the token's sender.
func (v *Verifier) Verify(ctx context.Context, token string) (*servicedesk.Customer, error) {
	if len(token) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrRefused, MaxTokenBytes)
	}
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if v.keys == nil {
			return v.cfg.Secret, nil
		}
		kid, _ := t.Header["kid"].(string)
		return v.keys.key(ctx, kid, t.Method.Alg())
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrRefused, reason(err))
	}
	if max := v.cfg.MaxLifetime; max > 0 {
		exp, _ := claims.GetExpirationTime() // required: present
		from := v.cfg.Now()
		if iat, _ := claims.GetIssuedAt(); iat != nil {
			from = iat.Time
		}
		if exp.Sub(from) > max+v.cfg.Leeway {
			return nil, fmt.Errorf("%w: it lives longer than %s", ErrRefused, max)
		}
	}
	c := &servicedesk.Customer{
		ID:     claimString(claims[v.cfg.IDClaim]),
		Name:   claimString(claims[v.cfg.NameClaim]),
		Email:  claimString(claims[v.cfg.EmailClaim]),
		Locale: claimString(claims[v.cfg.LocaleClaim]),
	}
	if c.ID == "" {
		return nil, fmt.Errorf("%w: no %s claim", ErrRefused, v.cfg.IDClaim)
	}
	if len(c.ID) > MaxIDBytes {
		return nil, fmt.Errorf("%w: the %s claim is longer than %d bytes", ErrRefused, v.cfg.IDClaim, MaxIDBytes)
	}
	for name, key := range v.cfg.Claims {
		if val, ok := claims[name]; ok && val != nil {
			if c.Claims == nil {
				c.Claims = make(map[string]string, len(v.cfg.Claims))
			}
			c.Claims[key] = claimString(val)
		}
	}
	return c, nil
}

// reason is what jwt's error says, without its package's wording for the
// signature or the key lookup's inner detail.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "it has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "it is not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "it is for another issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "it is for another audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		for claim, why := range map[string]string{"exp": "it has no expiry", "aud": "it names no audience", "iss": "it names no issuer"} {
			if strings.Contains(err.Error(), claim+" claim") {
				return why
			}
		}
		return "a required claim is missing"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method"):
		return "its algorithm is not accepted here"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "its signature does not verify"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "it is not a JWT"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		var ke *keyError
		if errors.As(err, &ke) {
			return ke.msg
		}
		return "its algorithm or key is not accepted here"
	}
	return "it is not valid"
}

// claimString is a claim's value as a string: strings as they are,
// anything else as its JSON.
func claimString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
