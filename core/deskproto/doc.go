// Package deskproto is the client side of the deskbridge desk protocol
// (docs/desk-protocol.md): its wire types, a REST client, and Desk, the
// servicedesk.ServiceDesk that the generic kits (kits/rest, kits/websocket,
// kits/polling) share. A kit only supplies a Link: how actions reach the
// desk and how events come back.
//
// # Overview
//
// Desk maps the protocol's events onto the Callback in seq order, whatever
// order and however often the transport delivers them (a Sequencer drops
// repeats and holds events behind a gap; a gap that stays open for GapWait
// is filled by polling the desk's log). It keeps the chat id, chat token
// and last applied seq in the session's persisted state, so Reconnect
// resumes the same chat after a reload or restart with exactly the missed
// events. A user message's id is its idempotency key end to end; its files
// are uploaded after it, tied to it, and each file's outcome comes back as
// a file_status event. Connection changes the Link reports become Carbon's
// DISCONNECTED status, once per change.
//
// Client retries through github.com/hashicorp/go-retryablehttp, but only
// what is safe to resend: a 429 or a refused connection (the desk did
// nothing), and, after a 5xx or a lost answer, requests that carry an
// Idempotency-Key (a message's is its id; typing, receipts, screen share
// answers, uploads and the end get one per call) and reads. A start has no
// key in the protocol, so it is resent only when the desk surely did not
// process it. Retry-After is honoured up to the backoff's maximum; waits use
// full jitter.
//
// # Concurrency
//
// Client and Desk are safe for concurrent use. Inbox methods may be called
// from any goroutine (webhook handlers, read loops, pollers); deliveries
// are applied one batch at a time, in seq order. Close stops the Link, the
// gap filler and any pending screen share question, and waits for them.
//
// # Errors
//
// Protocol errors are *Error values carrying the HTTP status, the code and
// any Retry-After. Each of the protocol's codes (the Code… constants, one
// list for the desk and its clients) has a servicedesk.ErrorCode (KindOf):
// chat_not_found, unauthorized and chat_ended are CodeNotFound,
// rate_limited CodeRateLimited, unavailable CodeUnavailable, the refusals
// CodeRejected. An answer that is not the protocol's shape (a proxy's error
// page) gets the code of its HTTP status. An *Error unwraps to the
// sentinel of its code, so errors.Is, servicedesk.CodeOf and
// servicedesk.IsTemporary agree, and the engine can tell a refused message
// from a desk that is down. Transport failures wrap
// servicedesk.ErrUnavailable. Every error names the operation and the
// chat. After Close, methods fail with ErrClosed.
package deskproto
