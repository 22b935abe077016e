// Package kustomer is a deskbridge kit for Kustomer chat, server side: the
// kit acts for the customer on Kustomer's v2.1 chat API with an API key,
// hands the bot's conversation over in one handoff call, and hears the
// agent's side on Kustomer's outbound webhook.
//
// # Overview
//
// StartChat makes the customer (POST /v1/customers with an externalId: the
// verified customer's id, else one per session; a 409 finds the one made
// before) and opens the chat session with POST /v2.1/chat/handoff: the
// bot's transcript imported (the customer's turns in, the bot's out, shown
// as the Config.From user) and a hand-off note last (the summary, who the
// customer is, the routing attributes). A session's id is its
// conversation's. The customer's messages are POST /v2.1/chat/messages
// (the engine's message id as the message's externalId), files an
// attachment record (POST /v1/attachments) whose bytes go to its
// presigned form, and EndChat sets the conversation's status to done.
//
// The agent's side comes by the outbound webhook (WebhookHandler):
// X-Kustomer-Webhook-Signature checked, events deduplicated by id. An
// event is only a bell: the desk's worker reads the conversation (GET
// /v1/conversations/{id}) and then the session's messages after its
// cursor (GET /v2.1/chat/sessions/{id}/messages), shows each agent message
// once in the session's order, and applies the conversation's state: a
// user assigned joins as the agent, another one takes the chat over (a
// transfer), none is the agent leaving, status done ends the chat. Every
// Config.ReconcileInterval an open chat also reads by itself, in case a
// delivery never came.
//
// # Capabilities
//
// Files, transfers and Reconnect. Kustomer's chat API and webhooks carry
// no typing either way, no read receipts, no availability and no queue:
// those optional methods answer errors.ErrUnsupported.
//
// # Concurrency
//
// Kit and its desks are safe for concurrent use. Each desk has one worker
// goroutine that makes the callbacks of the agent's side, in order.
//
// # Errors
//
// A call Kustomer refuses fails with an *Error (an *httpjson.Error: the
// status, the first JSON:API error's code, its detail or title as
// Message); servicedesk.CodeOf reads its kind. 429 and 5xx are retried
// with backoff, honouring Retry-After; a customer message whose try's
// outcome is unknown is looked up by its externalId before it is sent
// again; a handoff whose outcome is unknown is not sent again.
package kustomer
