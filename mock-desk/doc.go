// Package mockdesk is a simulated service desk that speaks the deskbridge
// desk protocol (docs/desk-protocol.md) over three transports: REST with
// signed webhooks, WebSocket, and long polling. Kits are tested against it
// in-process (httptest), and cmd/mock-desk runs it as a binary with an
// agent console.
//
// # Overview
//
// A Desk holds a roster of agents (online or not, each with a capacity),
// a queue of waiting chats with positions and wait estimates, and chats.
// Each chat has an id and an unguessable token (to resume), a log of desk
// events numbered 1, 2, 3 … (its sequence numbers), the customer's messages
// stored once per idempotency key, files checked against the chat's
// capabilities, typing and read receipts both ways, transfers, screen
// share requests, and the summary the bot handed over.
//
// The Desk is an http.Handler: /v1/… is the customer protocol, /control/…
// the control API for tests and the console, /console/ the agent console.
// The same desk can also speak a real vendor's customer-side wire format
// through a vendor face, each its own package under faces/: connectface
// (Amazon Connect: StartChatContact, the Participant Service, its
// WebSocket) and genesysface (Genesys Cloud Web Messaging: the guest
// WebSocket and the history call) are handlers that serve the vendor's
// paths and pass every other path to the desk (cmd/mock-desk
// -face connect|genesys).
//
// A vendor face in its own package is built on the customer side alone:
// StartCustomerChat (or Customer, for a chat started before) gives a
// CustomerChat to send, type, read, upload, end and answer screen shares
// with, and Follow to push the chat's events to the face's customer as
// they come. RequestFault and FrameFaults apply the desk's faults to the
// face's requests and frames, Go ties its goroutines to the desk's
// lifetime. faces/salesforce is one (Salesforce Messaging for In-App and
// Web; cmd/mock-desk -face salesforce).
//
// Agents are scripted (a Script runs for every chat routed to them: join
// after a delay, say rich messages, echo, type, read, transfer, leave, end,
// ask for files, request a screen share) or manual: a test acts for them
// step by step with the Agent… and Await… methods (or the AgentChat
// handle from AwaitChat), a person with the console. Those methods take a
// chat id and use only core/servicedesk types, strings and ints, so a
// conformance suite in core can name them in an interface of its own.
//
// Faults (latency, 5xx and 429 with Retry-After, dropped WebSockets,
// stalled polls, duplicated, reordered and failed webhook deliveries) are
// injected per transport from a seed; FaultCounts says what was injected.
//
// # Concurrency
//
// All methods of Desk and AgentChat are safe for concurrent use. One mutex
// guards the desk's state, so the events of a chat get their sequence
// numbers in one order; waiters (long polls, WebSocket writers, awaits,
// scripts) sleep on channels closed at each change. Every goroutine the
// desk starts (scripts, webhook deliveries, WebSocket writers) stops on
// Close, which waits for them; blocking calls take a context first.
//
// # Errors
//
// Errors wrap one of the CodeError values (ErrChatNotFound, ErrUnauthorized,
// ErrChatEnded, ErrNoAgent, …) once, with the operation and ids; match them
// with errors.Is. On the wire every error is {"error":{"code":…,
// "message":…}} with the CodeError's code and HTTP status.
package mockdesk
