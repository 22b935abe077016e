// Package polling is the deskbridge kit for desks that speak the
// deskbridge desk protocol (docs/desk-protocol.md) over plain HTTP:
// actions over REST, events by long polling with a cursor.
//
// # Overview
//
// New makes a Kit for one desk; its Factory method is the
// servicedesk.Factory a flow.Engine (or the gateway) builds each session's
// desk with. The shared behaviour (events to callbacks in seq order,
// persisted chat id, token and last seq, files, reconnect) lives in
// core/deskproto; this package runs the poll loop: one poll in flight per
// chat, from the last applied event, retried with jittered backoff that
// honours Retry-After, stopped when the chat ends or the desk closes.
//
// # Concurrency
//
// A Kit is safe for concurrent use by any number of sessions. Each running
// chat has exactly one poll goroutine; Close cancels the poll in flight and
// waits for the goroutine to end.
//
// # Capabilities
//
// Every capability of core/conformance: availability, queue position and
// wait time, typing and read receipts both ways, files, transfer, screen
// share and reconnect. README.md has the table; TestREADME keeps it true.
//
// # Errors
//
// Calls return *deskproto.Error for the desk's refusals (errors.Is works
// with the servicedesk sentinels) and wrap servicedesk.ErrUnavailable when
// the desk cannot be reached after the retries. A failed poll is not an
// error for anyone: it is retried, and two in a row mark the desk
// unreachable (Carbon's DISCONNECTED) until a poll succeeds. After Close, calls fail with deskproto.ErrClosed.
package polling
