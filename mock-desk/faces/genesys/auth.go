package genesysface

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// Authenticated Web Messaging: the deployment's authentication
// integration trusts an OpenID Connect provider; the customer signs in
// there, the provider's authorization code is exchanged for a session JWT
// (POST /api/v2/webdeployments/token/oauthcodegrantjwtexchange, renewed by
// POST /api/v2/webdeployments/token/refresh), and the guest WebSocket's
// configureAuthenticatedSession carries the JWT as data.code. The face
// plays the provider too (IssueAuthCode).

// authCode is a code the face's provider issued, good once.
type authCode struct {
	customer           deskproto.Customer
	redirectURI, nonce string
	expires            time.Time
}

// IssueAuthCode is the face's OpenID Connect provider signing customer in:
// it returns the authorization code the site's page would get back on
// redirectURI, good once within a minute, for a sign-in with nonce ("" for
// none).
func (f *Face) IssueAuthCode(customer deskproto.Customer, redirectURI, nonce string) string {
	code := facekit.NewID("code-", 24)
	f.mu.Lock()
	f.codes[code] = authCode{customer: customer, redirectURI: redirectURI, nonce: nonce, expires: time.Now().Add(time.Minute)}
	f.mu.Unlock()
	return code
}

// exchangeCode redeems a provider's code for a session JWT and a refresh
// token.
func (f *Face) exchangeCode(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DeploymentID string `json:"deploymentId"`
		OAuth        *struct {
			Code        string `json:"code"`
			RedirectURI string `json:"redirectUri"`
			Nonce       string `json:"nonce"`
		} `json:"oauth"`
	}
	if json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req) != nil || req.OAuth == nil || req.OAuth.Code == "" || req.DeploymentID == "" {
		apiError(w, http.StatusBadRequest, "bad.request", "deploymentId and oauth.code are required")
		return
	}
	if f.opts.DeploymentID != "" && req.DeploymentID != f.opts.DeploymentID {
		apiError(w, http.StatusBadRequest, "bad.request", "unknown deployment")
		return
	}
	f.mu.Lock()
	c, ok := f.codes[req.OAuth.Code]
	delete(f.codes, req.OAuth.Code)
	f.mu.Unlock()
	switch {
	case !ok || time.Now().After(c.expires):
		apiError(w, http.StatusUnauthorized, "authentication.failed", "the authorization code is not valid")
		return
	case c.redirectURI != req.OAuth.RedirectURI || c.nonce != req.OAuth.Nonce:
		apiError(w, http.StatusUnauthorized, "authentication.failed", "redirectUri or nonce do not match the authentication request")
		return
	}
	refresh := facekit.NewID("refresh-", 24)
	jwt := f.newAuthJWT(c.customer)
	f.mu.Lock()
	f.refreshes[refresh] = c.customer
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusOK, map[string]string{"jwt": jwt, "refreshToken": refresh})
}

// refreshJWT renews a session JWT with a refresh token.
func (f *Face) refreshJWT(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RefreshToken string `json:"refreshToken"`
	}
	if json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req) != nil || req.RefreshToken == "" {
		apiError(w, http.StatusBadRequest, "bad.request", "refreshToken is required")
		return
	}
	f.mu.Lock()
	c, ok := f.refreshes[req.RefreshToken]
	f.mu.Unlock()
	if !ok {
		apiError(w, http.StatusUnauthorized, "authentication.failed", "the refresh token is not valid")
		return
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]string{"jwt": f.newAuthJWT(c)})
}

// RevokeRefreshTokens makes every refresh token issued so far invalid, as
// a sign-out at the provider would.
func (f *Face) RevokeRefreshTokens() {
	f.mu.Lock()
	clear(f.refreshes)
	f.mu.Unlock()
}

func (f *Face) newAuthJWT(c deskproto.Customer) string {
	jwt := "eyJhbGciOiJSUzI1NiJ9." + facekit.NewID("", 32)
	f.mu.Lock()
	f.authJWTs[jwt] = c
	f.mu.Unlock()
	return jwt
}

// authCustomer is the customer of a session JWT.
func (f *Face) authCustomer(jwt string) (deskproto.Customer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.authJWTs[jwt]
	return c, ok
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "code": code, "message": msg})
}
