// Package websocket is the deskbridge kit for desks that speak the
// deskbridge desk protocol (docs/desk-protocol.md) over WebSocket: one
// socket per chat, opened after the chat starts over REST.
//
// # Overview
//
// New makes a Kit for one desk; its Factory method is the
// servicedesk.Factory a flow.Engine (or the gateway) builds each session's
// desk with. The shared behaviour (events to callbacks in seq order,
// persisted chat id, token and last seq, files, reconnect) lives in
// core/deskproto; this package is the transport: the socket from
// core/transport/stream (jittered reconnects, pings, one writer, read limit, close
// handshake), the hello that resumes from the last applied event, and the
// resend of actions a dropped connection left unanswered.
//
// # Concurrency
//
// A Kit is safe for concurrent use by any number of sessions. Each
// session's socket has a read goroutine and a write goroutine while the
// chat runs; actions may be called from any goroutine and wait for the
// desk's answer.
//
// # Capabilities
//
// Every capability of core/conformance: availability, queue position and
// wait time, typing and read receipts both ways, files, transfer, screen
// share and reconnect. README.md has the table; TestREADME keeps it true.
//
// # Errors
//
// An action the desk refuses returns a *deskproto.Error (errors.Is works
// with the servicedesk sentinels: ErrRejected for a refused message,
// ErrChatNotFound for an ended or unknown chat). "Not now" answers
// (rate_limited, unavailable) are retried after their retry_after, until
// the caller's context ends. After Close, calls fail with
// deskproto.ErrClosed.
package websocket
