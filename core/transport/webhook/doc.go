// Package webhook signs and verifies the desk protocol's webhooks:
// HMAC-SHA256 over a timestamp and the raw body (Sign), checked by a
// Verifier in constant time within a time window, with two secrets during
// a rotation; BodyHMAC and ValidBodyHMAC are the signature of vendors
// that sign the raw body alone (hex HMAC-SHA256, no timestamp). Router
// hands the events that reach one webhook URL to the desk that follows
// their chat, parking early ones and passing the others to other
// instances. Intake is a Router that takes each event once (a
// redelivery is acknowledged and not applied twice; an event that could
// not be passed on is taken when it comes again), for the events that
// reach it and those other instances relay; Unavailable is the 503 that
// makes the vendor try again, and Following a desk's hold on the chat it
// follows.
//
// # Concurrency
//
// ReadPost (CheckPost, ReadBody) is the common start of a webhook handler
// for any desk: POST only, a body of bounded size, and a Refusal saying the
// status to answer otherwise, written by the kit in its own error form.
//
// Sign is a function of its arguments and Verifier is a value: both are
// safe to share. A Router, an Intake and a Following are safe for
// concurrent use; a Router calls deliver functions without its lock held.
//
// # Errors
//
// Verify fails with errors matching ErrBadSignature or ErrStaleSignature.
package webhook
