// Package actioncable is the client side of Rails' ActionCable protocol
// (the "actioncable-v1-json" subprotocol over a WebSocket), written once
// for the desks that push their events through it (Chatwoot).
//
// # Overview
//
// A Client keeps one channel subscription alive on a reconnecting
// stream.Socket: it waits for the server's welcome, subscribes with the
// channel's identifier, and treats confirm_subscription as the moment the
// connection serves (Ready). The server pings every three seconds; a
// watchdog drops a connection that stays silent past StaleAfter, as
// Rails' own JavaScript consumer does. reject_subscription and a
// disconnect that says not to reconnect are fatal (OnFatal): the
// subscription is refused for good. ActionCable replays nothing after a
// reconnection: a kit fills the gap from its desk's history
// (stream.Recovery with Ready as its Ready).
//
// # Concurrency
//
// A Client's methods are safe for concurrent use; OnMessage runs on the
// socket's read goroutine, one frame at a time, in order.
//
// # Errors
//
// Ready fails with the context's error, or with ErrConnectionLost when the
// connection it waited on went down first. OnFatal gets an error matching
// ErrRejected (reject_subscription) or ErrRefused (disconnect with
// reconnect false).
package actioncable
