// Package rest is the deskbridge kit for desks that speak the deskbridge
// desk protocol (docs/desk-protocol.md) over REST, and post events to a
// webhook.
//
// # Overview
//
// New makes a Kit for one desk; its Factory method is the
// servicedesk.Factory a flow.Engine (or the gateway) builds each session's
// desk with, and its WebhookHandler is the http.Handler to mount at
// Config.WebhookURL. Actions go through github.com/hashicorp/go-retryablehttp
// with a policy that only resends what is safe (see core/deskproto). The
// handler verifies each delivery's HMAC-SHA256 signature and timestamp in
// constant time against the secret of the event's chat (from its start
// answer; Config.WebhookSecrets only for a chat without one), drops
// redeliveries (the same id and bytes), and routes the event to the
// session following its chat, which orders events by seq, fills gaps from
// the desk's log, and lets the log settle two different events at one seq.
//
// # Concurrency
//
// A Kit is safe for concurrent use: any number of sessions, and webhook
// deliveries on any number of goroutines. The kit starts no goroutine of
// its own; a session's desk starts one only to fill a gap or to wait for a
// screen share answer.
//
// # Capabilities
//
// Every capability of core/conformance: availability, queue position and
// wait time, typing and read receipts both ways, files, transfer, screen
// share and reconnect. README.md has the table; TestREADME keeps it true.
//
// # Errors
//
// New fails without a WebhookURL, or with an empty secret. Calls return
// *deskproto.Error for the desk's refusals (errors.Is works with the
// servicedesk sentinels) and wrap servicedesk.ErrUnavailable when the desk
// cannot be reached after the retries. The webhook handler answers 401 for
// a bad or stale signature, 400 for a body that is no event, 413 for one
// over MaxWebhookBytes, 405 for anything but POST; the desk retries those
// deliveries, and the kit never applies one event twice.
package rest
