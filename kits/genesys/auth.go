package genesys

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// AuthCode is what Genesys's authenticated Web Messaging exchanges for a
// session JWT: the authorization code that the customer's OpenID Connect
// provider (the one the deployment's authentication integration trusts)
// issued when the customer signed in on the site, with the parameters of
// that sign-in. Genesys redeems the code with the provider itself, so a
// code is proof of the customer's identity however it reached the kit.
type AuthCode struct {
	Code        string
	RedirectURI string
	// Nonce, MaxAge and CodeVerifier (PKCE) are required when the
	// authentication request had them.
	Nonce        string
	MaxAge       int
	CodeVerifier string
	// Iss is the issuer, for providers that return it with the code
	// (RFC 9207).
	Iss string
}

// Page keys of the hand-off's unverified context that PageAuthCode reads.
// The kit never passes these keys on to the agent.
const (
	PageAuthCodeKey         = "genesys_auth_code"
	PageAuthRedirectURIKey  = "genesys_auth_redirect_uri"
	PageAuthNonceKey        = "genesys_auth_nonce"
	PageAuthCodeVerifierKey = "genesys_auth_code_verifier"
	PageAuthIssKey          = "genesys_auth_iss"
	PageAuthMaxAgeKey       = "genesys_auth_max_age"
)

// PageAuthCode is a Config.Authenticate for a site whose page signed the
// customer in with the provider and passes the code in the chat's
// pre-chat context (PageAuthCodeKey and the keys beside it): no code is a
// guest session.
func PageAuthCode(_ context.Context, h servicedesk.Handoff) (*AuthCode, error) {
	u := h.Unverified
	if u[PageAuthCodeKey] == "" {
		return nil, nil
	}
	c := &AuthCode{Code: u[PageAuthCodeKey], RedirectURI: u[PageAuthRedirectURIKey], Nonce: u[PageAuthNonceKey],
		CodeVerifier: u[PageAuthCodeVerifierKey], Iss: u[PageAuthIssKey]}
	if s := u[PageAuthMaxAgeKey]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("genesys: %s %q is not a number of seconds", PageAuthMaxAgeKey, s)
		}
		c.MaxAge = n
	}
	if c.RedirectURI == "" {
		return nil, fmt.Errorf("genesys: an auth code without %s", PageAuthRedirectURIKey)
	}
	return c, nil
}

// pageAuthKeys are the customer's credentials among the page's context.
var pageAuthKeys = []string{PageAuthCodeKey, PageAuthRedirectURIKey, PageAuthNonceKey, PageAuthCodeVerifierKey, PageAuthIssKey, PageAuthMaxAgeKey}

// withoutAuthKeys returns h without the page's auth keys: they are the
// customer's credentials, not context for the agent.
func withoutAuthKeys(h servicedesk.Handoff) servicedesk.Handoff {
	if !slices.ContainsFunc(pageAuthKeys, func(k string) bool { _, ok := h.Unverified[k]; return ok }) {
		return h
	}
	u := maps.Clone(h.Unverified)
	maps.DeleteFunc(u, func(k, _ string) bool { return slices.Contains(pageAuthKeys, k) })
	h.Unverified = u
	return h
}

// authClient calls the web deployments' token API.
func (k *Kit) authClient() *httpjson.Client {
	return &httpjson.Client{Name: "genesys", Base: k.api, HTTP: k.cfg.HTTPClient}
}

// exchange redeems an auth code for the JWT of an authenticated session
// and the refresh token that renews it. An answer that Genesys was
// unavailable or busy is tried again; a code it had redeemed meanwhile is
// refused then, which fails the start with Genesys's reason.
func (k *Kit) exchange(ctx context.Context, c AuthCode) (jwt, refresh string, err error) {
	oauth := map[string]any{"code": c.Code, "redirectUri": c.RedirectURI}
	for key, v := range map[string]string{"nonce": c.Nonce, "codeVerifier": c.CodeVerifier, "iss": c.Iss} {
		if v != "" {
			oauth[key] = v
		}
	}
	if c.MaxAge > 0 {
		oauth["maxAge"] = c.MaxAge
	}
	body := map[string]any{"deploymentId": k.cfg.DeploymentID, "oauth": oauth}
	var out struct {
		JWT          string `json:"jwt"`
		RefreshToken string `json:"refreshToken"`
	}
	err = retry.Policy{Backoff: k.cfg.Backoff, Retries: 3}.Do(ctx, func(int) error {
		return k.authClient().Do(ctx, "exchange auth code", http.MethodPost, "/api/v2/webdeployments/token/oauthcodegrantjwtexchange", "", body, &out)
	})
	if err == nil && out.JWT == "" {
		err = fmt.Errorf("genesys: exchange auth code: %w: no jwt in the answer", servicedesk.ErrUnavailable)
	}
	return out.JWT, out.RefreshToken, err
}

// renew gets a new session JWT with the refresh token, for a connection
// after the first (the JWT of the first may have expired since).
func (k *Kit) renew(ctx context.Context, refresh string) (string, error) {
	body := map[string]any{"deploymentId": k.cfg.DeploymentID, "refreshToken": refresh}
	var out struct {
		JWT string `json:"jwt"`
	}
	err := retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}.Do(ctx, func(int) error {
		return k.authClient().Do(ctx, "refresh jwt", http.MethodPost, "/api/v2/webdeployments/token/refresh", "", body, &out)
	})
	if err == nil && out.JWT == "" {
		err = fmt.Errorf("genesys: refresh jwt: %w: no jwt in the answer", servicedesk.ErrUnavailable)
	}
	return out.JWT, err
}
