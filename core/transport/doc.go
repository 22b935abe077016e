// Package transport holds the pieces every desk kit needs to talk to a desk
// reliably, written once: jittered exponential backoff that honours
// Retry-After, webhook signatures (HMAC-SHA256 over a timestamp and the raw
// body, checked in constant time within a time window, with two secrets
// during rotation), a bounded deduper for event ids, a sequencer that puts
// per-chat events back in order and finds gaps to fill, and a reconnecting
// WebSocket client with heartbeats and a single writer (with a lifetime per
// connection, to recycle before a desk-announced expiry), a gap filler that
// merges a live stream with a history fetched after an outage (each item
// once, in order), and a Pacer and a Throttle for desks that limit rates.
// A Recovery puts the socket and the gap filler together: it reports an
// outage once and its end after the fill. Lifecycle, Set and Indicator are
// the small lifetime pieces every kit's desk needs (tracked goroutines, a
// kit's open desks, a typing indicator that times out).
//
// # Concurrency
//
// Backoff and Signer are values, safe to share. Verifier, Deduper and
// Sequencer, GapFiller, Pacer, Throttle, Recovery, Lifecycle, Set and
// Indicator are safe for concurrent use. A Socket's Send and Close may be
// called from any goroutine; its handlers run on its read goroutine, one at a
// time.
//
// # Errors
//
// Verify fails with errors matching ErrBadSignature or ErrStaleSignature.
// Socket.Send fails with ErrSocketClosed after Close, and with the context's
// error when the frame could not be queued in time.
package transport
