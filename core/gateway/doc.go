// Package gateway is the browser gateway: the "middleware on your server"
// that Carbon AI Chat's docs ask for when a service desk needs secrets or
// lacks CORS. It serves one WebSocket per browser tab that carries the
// service desk contract both ways, an upload endpoint, the transcript for
// Carbon's customLoadHistory, and the @carbon/ai-chat adapter module
// (/deskbridge.js). The protocol is in docs/gateway-protocol.md.
//
// # Overview
//
// Every browser tab has a session: a flow.Session of the gateway's engine,
// named by an unguessable id and opened by a token (HMAC-SHA256 of the id
// under the gateway's secret; compared in constant time). A socket says
// hello with its token (none the first time) and the last event sequence
// number it saw, and gets a welcome, then exactly the events it missed,
// then new events as they happen, each with its seq.
//
// The browser calls the ServiceDesk methods by name (areAnyAgentsOnline,
// startChat, sendMessageToAgent, userTyping, userReadMessages,
// filesSelectedForUpload, screenShareStop, endChat, reconnect) and the
// gateway applies them to the session's engine, which drives the desk
// through a kit. Every event the engine logs goes back to the socket. In
// desk mode an event that stands for a Carbon ServiceDeskCallback call
// carries it (method and arguments), so the adapter only has to make the
// call; in flow mode the page draws the engine's events itself. Both modes
// share one event log, so a reload or a reconnect resumes either.
//
// Limits: an Origin allowlist on every handshake and HTTP call; a frame
// size limit (oversized frames are answered, much larger ones close the
// socket with 1009); a token bucket per socket (rate_limited errors with
// retry_after_ms); upload size and type checks, content sniffed; a bounded
// number of sockets per session and of sessions. Refused frames leave the
// session as it was. Heartbeat frames and pings keep sockets alive and
// detect dead peers. Shutdown drains: sockets get what they have not seen,
// then 1001.
//
// # Concurrency
//
// A Gateway is safe for concurrent use. Each socket has a reader (a
// goroutine of its own once upgraded), which applies ops in the order they
// arrive (the slow ones, areAnyAgentsOnline and reconnect, run beside it),
// and a writer of events and heartbeats that holds a goroutine only while
// it has something to write; writes are serialised per socket. The engine
// orders everything per session, whatever socket it came from.
//
// # Errors
//
// Protocol errors are frames {"type":"error","re":id,"error":{"code":…,
// "message":…}} with the codes listed in docs/gateway-protocol.md; HTTP
// endpoints answer {"error":{"code":…,"message":…}}. New fails without an Engine or a
// Factory; Shutdown returns ctx's error when the sockets did not close in
// time.
package gateway
