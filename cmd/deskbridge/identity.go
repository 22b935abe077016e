package main

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/gateway"
	"github.com/deskbridge/deskbridge/core/identity"
	"github.com/deskbridge/deskbridge/core/redact"
)

// identitySettings are serve's DESKBRIDGE_IDENTITY_* settings: how the
// gateway verifies the identity tokens the site signs for its users.
type identitySettings struct {
	Secret   string
	JWKSURL  string
	Issuer   string
	Audience string
	Leeway   duration
	Claims   []string
	Required string
}

func (s identitySettings) on() bool { return s.Secret != "" || s.JWKSURL != "" }

func (s identitySettings) check() error {
	var errs []error
	if s.Required != "true" && s.Required != "false" && s.Required != "" {
		errs = append(errs, fmt.Errorf("DESKBRIDGE_IDENTITY_REQUIRED %q: want true or false", s.Required))
	}
	if !s.on() {
		if s.Required == "true" {
			errs = append(errs, errors.New("DESKBRIDGE_IDENTITY_REQUIRED is true, but neither DESKBRIDGE_IDENTITY_SECRET nor DESKBRIDGE_IDENTITY_JWKS_URL is set"))
		}
		return errors.Join(errs...)
	}
	if _, err := s.config(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s identitySettings) config() (identity.Config, error) {
	cfg := identity.Config{Secret: []byte(s.Secret), JWKSURL: s.JWKSURL, Issuer: s.Issuer, Audience: s.Audience, Leeway: time.Duration(s.Leeway)}
	for _, c := range s.Claims {
		name, as, _ := strings.Cut(c, "=")
		name, as = strings.TrimSpace(name), strings.TrimSpace(as)
		if name == "" {
			return cfg, fmt.Errorf("DESKBRIDGE_IDENTITY_CLAIMS: %q names no claim", c)
		}
		if cfg.Claims == nil {
			cfg.Claims = map[string]string{}
		}
		cfg.Claims[name] = cmp.Or(as, name)
	}
	if _, err := identity.New(cfg); err != nil {
		return cfg, fmt.Errorf("DESKBRIDGE_IDENTITY_*: %w", err)
	}
	return cfg, nil
}

// verifier is the gateway's identity verifier, nil when identity tokens
// are off.
func (s identitySettings) verifier() (gateway.IdentityVerifier, error) {
	if !s.on() {
		return nil, nil
	}
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	return identity.New(cfg)
}

// redactor is the hand-off's redactor for serve's redact rules, nil for
// none (flow.Options.Redactor is an interface: a nil *redact.Redactor in
// it would not be nil).
func redactor(rules []string) (flow.Redactor, error) {
	var r redact.Rules
	for _, rule := range rules {
		switch strings.ToLower(strings.TrimSpace(rule)) {
		case "cards", "card":
			r.Cards = true
		case "emails", "email":
			r.Emails = true
		case "phones", "phone":
			r.Phones = true
		case "none", "":
		default:
			return nil, fmt.Errorf("redact rule %q: want cards, emails, phones or none", rule)
		}
	}
	if r == (redact.Rules{}) {
		return nil, nil
	}
	return redact.New(r), nil
}
