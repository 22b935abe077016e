package salesforce

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/salesforce/internal/wire"
)

// errExpired: the access token can no longer be renewed; the end user's
// conversation is out of reach.
var errExpired = fmt.Errorf("the access token expired: %w", servicedesk.ErrChatNotFound)

// accessToken asks for a new end user's token: the authenticated
// (user-verified) call when a verified customer and Config.IdentityToken
// are there, the unauthenticated one otherwise.
func (k *Kit) accessToken(ctx context.Context, customer *servicedesk.Customer) (wire.TokenResponse, error) {
	req := wire.TokenRequest{OrgID: k.cfg.OrgID, ESDeveloperName: k.cfg.DeveloperName, CapabilitiesVersion: "1", Platform: "Web",
		Context: map[string]string{"appName": "deskbridge", "clientVersion": "1"}}
	path, op := "/iamessage/api/v2/authorization/unauthenticated/access-token", "access token"
	if customer != nil && k.cfg.IdentityToken != nil {
		id, err := k.cfg.IdentityToken(ctx, *customer)
		if err != nil {
			return wire.TokenResponse{}, fmt.Errorf("salesforce: identity token of %q: %w", customer.ID, err)
		}
		req.AuthorizationType, req.CustomerIdentityToken = "JWT", id
		path, op = "/iamessage/api/v2/authorization/authenticated/access-token", "authenticated access token"
	}
	var out wire.TokenResponse
	err := retryPolicy(k).Do(ctx, func(int) error { return k.api.Do(ctx, op, http.MethodPost, path, "", req, &out) })
	if err == nil && out.AccessToken == "" {
		err = fmt.Errorf("salesforce: %s: no accessToken in the answer", op)
	}
	return out, err
}

// bearer returns the chat's access token, renewed first when it is about
// to expire.
func (d *desk) bearer(ctx context.Context) (string, error) {
	tok := d.State().Token
	if tok == "" {
		return "", servicedesk.ErrNoChat
	}
	if exp := vendorkit.TokenExpiry(tok); !exp.IsZero() && time.Until(exp) < d.k.cfg.TokenRefresh {
		if err := d.renew(ctx, tok); err != nil {
			return "", err
		}
		tok = d.State().Token
	}
	return tok, nil
}

// renew replaces old with a continuation access token (same subject, so
// the same conversations), once however many callers found old stale.
func (d *desk) renew(ctx context.Context, old string) error {
	d.renewMu.Lock()
	defer d.renewMu.Unlock()
	if d.State().Token != old {
		return nil // renewed meanwhile
	}
	var out wire.TokenResponse
	err := retryPolicy(d.k).Do(ctx, func(int) error {
		return d.k.api.Do(ctx, "continuation access token", http.MethodGet, "/iamessage/api/v2/authorization/continuation-access-token", old, nil, &out)
	})
	if s := httpjson.StatusOf(err); s == http.StatusUnauthorized || s == http.StatusForbidden {
		return errExpired
	}
	if err != nil {
		return err
	}
	if out.AccessToken == "" {
		return errors.New("salesforce: continuation access token: no accessToken in the answer")
	}
	d.Merge(func(s *saved) map[string]any {
		s.Token = out.AccessToken
		return map[string]any{"token": out.AccessToken}
	})
	return nil
}

// SignIdentity returns a Config.IdentityToken that signs the customer's
// identity as Salesforce's token-based user verification wants it: an
// RS256 JWT with the key's id (kid) in its header and iss, sub (the
// customer's id), iat and exp claims. The channel's keyset must hold the
// public key under keyID, with issuer as its issuer.
func SignIdentity(key *rsa.PrivateKey, keyID, issuer string, ttl time.Duration) IdentityTokenFunc {
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	return func(_ context.Context, c servicedesk.Customer) (string, error) {
		if c.ID == "" {
			return "", errors.New("salesforce: a verified customer without an id")
		}
		now := time.Now()
		return vendorkit.SignRS256(key, keyID, map[string]any{"iss": issuer, "sub": c.ID, "iat": now.Unix(), "exp": now.Add(ttl).Unix()})
	}
}
