// Package retry is how a kit tries a desk call again, written once: a
// jittered exponential Backoff whose zero value is the usual policy,
// Retry-After read from an HTTP answer, a Policy whose Do is the one retry
// loop (honouring an error's own RetryDelay), Sleep that ends with its
// context, and a Pacer and a Throttle for desks that limit rates.
//
// # Concurrency
//
// Backoff and Policy are values, safe to share. Pacer and Throttle are
// safe for concurrent use.
//
// # Errors
//
// Policy.Do returns the call's last error unchanged, or, when the context
// ended during a wait, an error matching both the context's error and the
// last one. Pacer.Wait fails with the context's error.
package retry
