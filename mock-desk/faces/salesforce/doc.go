// Package salesforceface is mock-desk's Salesforce Messaging for In-App
// and Web face: an http.Handler that speaks the end-user side of the
// Messaging for In-App and Web API (iamessage v2 REST and the event
// router's SSE) over mock-desk's customer side, written from Salesforce's
// documented shapes, independently of kits/salesforce.
//
// # Overview
//
// New wraps a *mockdesk.Desk. Access tokens (unauthenticated,
// authenticated with a customer identity token, continuation) are opaque
// JWT-shaped strings of the face's own; a conversation is a mock-desk chat
// started with its routing attributes (Summary as the agent's summary);
// its events go out on GET /eventrouter/v1/sse as the documented event
// types, ids the chat's sequence numbers, replayed after Last-Event-Id;
// GET …/entries lists them as conversation entries. The desk's REST faults
// refuse calls (429 with Retry-After, 503), its WebSocket faults cut and
// duplicate the stream's frames, and DropConnections ends the stream.
// Every other path is the desk's own (its console, its control API).
//
// # Concurrency
//
// A Face is safe for concurrent use.
package salesforceface
