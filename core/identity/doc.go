// Package identity verifies the identity tokens a site signs for its
// users, so that a chat handed to an agent carries who the user is rather
// than who the user's browser says it is.
//
// A token is a JWT: HS256 under a secret shared with the site, or RS256 or
// ES256 under a key the site publishes in a JWKS document (fetched over
// HTTPS, cached, fetched again when a token names a key the cache lacks,
// so that the site can rotate its keys). Every token must name the
// configured issuer and audience and carry an expiry; clock skew is
// allowed for by a leeway. Tokens of any other algorithm, "none" included,
// are refused. The verified claims become a servicedesk.Customer: the
// subject (or the configured claim) its ID, the name, e-mail and locale
// claims its fields, and any further claims the operator maps its Claims.
package identity
