// Package stream keeps a desk's event stream whole, written once for every
// kit: a Sequencer that puts numbered events back in order and finds gaps,
// a bounded Deduper of event ids, a GapFiller that merges a live stream
// with the history fetched after an outage (each item once, in order), a
// reconnecting WebSocket client (Socket: heartbeats, a single writer, a
// lifetime per connection to recycle before a desk-announced expiry) held
// in a SocketSlot, which mutes a socket it stops (Socket.Mute: its last
// frames and its end do not reach the next chat), and a Recovery that
// puts the socket and the gap filler together: it reports an outage once
// and its end after the fill. Calls
// pairs requests sent over a socket with their answers by request id, and
// a Gate holds requests until the current connection's login is answered;
// Exchange is the three together, one request and its answer.
// Generations tells a stopped socket's callbacks from the next one's (for a
// callback already under way when the socket was muted).
//
// # Concurrency
//
// Deduper, Sequencer, GapFiller, Recovery, SocketSlot, Calls, Gate and
// Generations are safe for concurrent use. A Socket's Send and Close may be
// called from any goroutine; its handlers run on its read goroutine, one at a time.
//
// # Errors
//
// Socket.Send fails with ErrSocketClosed after Close, and with the
// context's error when the frame could not be queued in time. A dial
// the server refused reaches OnState as a *HandshakeError: HandshakeStatus
// reads its HTTP status.
package stream
