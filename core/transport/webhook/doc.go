// Package webhook signs and verifies the desk protocol's webhooks:
// HMAC-SHA256 over a timestamp and the raw body (Sign), checked by a
// Verifier in constant time within a time window, with two secrets during
// a rotation.
//
// # Concurrency
//
// Sign is a function of its arguments and Verifier is a value: both are
// safe to share.
//
// # Errors
//
// Verify fails with errors matching ErrBadSignature or ErrStaleSignature.
package webhook
