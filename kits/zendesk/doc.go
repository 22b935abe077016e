// Package zendesk is a deskbridge kit for Zendesk messaging through
// Sunshine Conversations v2: the kit is a custom integration of the
// Sunshine Conversations app, the customer is a Sunshine Conversations
// user, and the agent answers in the Zendesk Agent Workspace.
//
// # Overview
//
// StartChat creates the user (POST /v2/apps/{appId}/users, externalId the
// verified customer's id or one per session) and a personal conversation
// (POST …/conversations), posts the bot's transcript and the summary into
// it (the bot's turns as the business under Config.BotName, marked in
// their metadata), and passes control to the agent workspace
// (POST …/passControl with first_message_id, the requester and the
// configured ticket fields as metadata). The customer's messages are
// posted as the user (POST …/messages, the engine's message id as the
// deskbridge_message_id metadata), files through POST …/attachments, read
// receipts as the conversation:read activity.
//
// The agent's side comes by the integration's webhook (WebhookHandler):
// X-API-Key checked, events deduplicated by id. A business message is a
// bell: the desk reads the conversation's messages after its cursor (GET
// …/messages) and shows each once, in the conversation's order, whatever
// Zendesk's retries did to the deliveries. The first business author
// joins as the agent; another author is a transfer; conversation:typing
// from the business is the agent typing. switchboard:passControl to
// another integration, releaseControl and conversation:remove end the
// chat (the agent finished), after the last messages are read. Every
// Config.ReconcileInterval an open chat also reads the conversation by
// itself, in case a webhook never came.
//
// # Several instances
//
// The webhook reaches one URL for all conversations. Each kit routes an
// event to the desk that follows its conversation; with several instances,
// Config.Elsewhere carries an event no desk here follows to the others,
// which Deliver it. A desk that resumes (Reconnect) reads the conversation
// itself, so an event missed meanwhile is not lost.
//
// # Concurrency
//
// Kit and its desks are safe for concurrent use. Each desk has one worker
// goroutine that makes the callbacks of the agent's side, in order.
//
// # Errors
//
// A call Sunshine Conversations refuses fails with an *Error, an
// *httpjson.Error (the status, and the first error's code and its title as
// Message); servicedesk.CodeOf reads its kind. 429 and 5xx are retried with backoff, honouring Retry-After; a
// message whose first try's outcome is unknown is looked up by its id
// before it is sent again.
package zendesk
