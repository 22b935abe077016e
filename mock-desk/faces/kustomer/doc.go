// Package kustomerface is mock-desk's Kustomer face: Kustomer's server-side
// chat API (the v2.1 chat routes an API key uses to act for a customer),
// the core resources a chat bridge needs beside it, and Kustomer's signed
// outbound webhooks, written from developer.kustomer.com, in front of a
// mock-desk whose agents play Kustomer's agents.
//
// # Overview
//
// Every request needs "Authorization: Bearer <API key>"; errors answer
// {"errors":[{"status","code","title","detail"}]} (JSON:API, as Kustomer's
// API does). Resources are JSON:API objects {"type","id","attributes",
// "relationships"} inside {"data": …}. The paths and where each shape
// comes from:
//
//   - POST /v1/customers and GET /v1/customers/externalId={externalId}
//     (API reference, core resources "Create customer", "Get customer by
//     external ID"): the customer a chat is for; a second create with the
//     same externalId answers 409.
//   - POST /v2.1/chat/handoff (API reference, chat "Create a chat session
//     via handoff"; docs/chat/server-chat-api): customerId, messages of
//     direction in or out (2 to 100, at least one of each, sorted by
//     date), from (the org user the outbound ones show), externalId,
//     active. It answers 201 with the chat_session. The face starts the
//     mock-desk chat with the imported messages as the agent's summary; a
//     chat the desk refuses (no agent, a closed queue) answers 422
//     chat_refused with the desk's reason, and no conversation is made.
//   - POST /v2.1/chat/messages (chat "Create an inbound chat message"):
//     customerId, session, body and/or attachments ({_id, name,
//     contentType, contentLength}). The message's externalId (the core
//     message resource's externalId, "the unique identifier from the
//     channel") is kept, and a second message with the same externalId in
//     the session answers the first one (inferred: the chat reference does
//     not say what a repeated externalId does). Attachments go to the
//     desk's file checks with the message; a refused file answers 400 with
//     the desk's reason.
//   - GET /v2.1/chat/sessions/{id}/messages (chat "List messages for a
//     chat session"): chat_message resources, pageSize (at most 100) and
//     page from 1, with links.next; sort=-createdAt lists the newest first
//     (inferred from the core list routes' sort parameter; the default is
//     oldest first).
//   - GET and PATCH /v1/conversations/{id} (core resources "Get
//     conversation", "Update conversation"; docs/concepts/conversations-
//     and-messages): status open or done, assignedUsers. A session's id is
//     its conversation's (docs/chat/server-chat-api). PATCH with status
//     done ends the mock-desk chat as the customer.
//   - GET /v1/users/{id} (core resources "Get user"): the agents who took
//     part, displayName and avatarUrl; a user's id is the mock-desk
//     agent's id.
//   - POST /v1/attachments (docs/guides/attachments): name, contentType,
//     contentLength; 201 with data.id and meta.upload {url, fields}; the
//     presigned form is POSTed to /upload/{id} (multipart: the fields, then
//     file), 204. A file whose bytes differ from contentLength is refused.
//
// The webhook side (docs/events/outbound-webhooks, delivery-and-retries,
// event-catalog): each event is POSTed to Options.WebhookURL as the event
// envelope {id, name, org, partition, data, changes, createdAt} with
// X-Kustomer-Webhook-Event (its name) and X-Kustomer-Webhook-Signature
// (lowercase hex HMAC-SHA256 of the raw body keyed with the webhook's
// token). kustomer.message.create comes for every message of a session
// (the customer's, the agent's); kustomer.conversation.update when its
// assignment or status changes (changes.attributes.<name>.before/after).
// A delivery that fails (no 2xx) is tried again on Kustomer's schedule
// (1, 1, 2, 5, 10, 15 and 30 minutes), here scaled to Options.RetryBase.
// Kustomer has no webhook for typing or reads: the agent's typing and read
// receipts are not shown, and the customer's have no route.
//
// The desk's agent side maps onto a conversation: an agent joining or a
// transfer sets assignedUsers to that agent, an agent leaving empties it,
// an agent's message is an out chat message created by the agent (its
// text as markdown paragraphs: an image as ![alt](url), a link button as
// [label](url)), and the agent ending the chat sets status done.
//
// The desk's faults apply: REST latency, 429 and 5xx with Retry-After
// (mockdesk.RequestFault); webhook latency, lost, duplicated and reordered
// deliveries (mockdesk.WebhookFault); and DropConnections cuts a session
// off: its REST calls answer 503 and its deliveries fail (and are tried
// again).
//
// # Concurrency
//
// A Face is safe for concurrent use; each session's deliveries go out in
// order from one goroutine.
package kustomerface
