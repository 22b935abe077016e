// Package salesforce is a deskbridge kit for Salesforce Messaging for
// In-App and Web (Enhanced Chat): it hands a conversation to a Salesforce
// agent as the deployment's custom client does, but on the server.
//
// # Overview
//
// New takes a Config (the deployment's SCRT URL, org id and developer
// name) and returns a Kit; Kit.Factory builds one desk per chat session
// and has the servicedesk.Factory signature. A desk:
//
//   - gets an end user's access token (POST …/authorization/unauthenticated
//     /access-token, or the authenticated call with a customer identity
//     token when the hand-off carries a verified customer and
//     Config.IdentityToken is set), renews it before it expires and after
//     a 401 (…/authorization/continuation-access-token);
//   - opens one SSE stream per end user (GET /eventrouter/v1/sse with
//     Authorization, X-Org-Id and Last-Event-Id), reconnects with the
//     sample app's backoff (1 s × 1.5 up to 30 s, 10 attempts in a row) and
//     drops a stream silent for 90 s (core/transport/sse);
//   - creates the conversation with a lowercase UUID it chooses (POST
//     …/conversation), the hand-off as routingAttributes;
//   - sends texts (POST …/conversation/{id}/message) with the engine's
//     message id as the entry id (a UUID), so a resend is stored once;
//     typing as TypingStartedIndicator/TypingStoppedIndicator entries
//     (POST …/entry); delivery and read acknowledgements of agent entries
//     (POST …/acknowledge-entries); closes with DELETE …/conversation/{id};
//   - after every connection fills the gap from the entries list (GET
//     …/conversation/{id}/entries) and delivers each entry once, in order
//     (core/transport/stream.Recovery and GapFiller), and checks the
//     conversation is still among the open ones (GET …/conversation/list);
//   - maps events: CONVERSATION_MESSAGE from an agent or bot to
//     SendMessageToUser (a join first when none came), system texts before
//     an agent to UpdateAgentAvailability; CONVERSATION_PARTICIPANT_CHANGED
//     add/remove of an agent or bot to AgentJoined/AgentLeftChat;
//     CONVERSATION_ROUTING_RESULT to the wait estimate, a transfer
//     (BeginTransferToAnotherAgent) or, failed before any agent, the end
//     with a CONNECTING error; typing indicators to AgentTyping; read
//     acknowledgements to AgentReadMessages; CONVERSATION_CLOSE_CONVERSATION
//     to the end. Unknown event types and entry types are logged and
//     ignored; so are pings.
//
// The access token, the conversation id, the last event id, the last entry
// delivered and whether an agent joined are persisted through
// Callback.UpdatePersistedState; Reconnect uses them.
//
// # Concurrency
//
// Kit methods are safe for concurrent use. A desk's methods may be called
// from any goroutine. Events are delivered from the stream's goroutine and
// the gap fill, one at a time, in order. Close stops every goroutine of a
// desk.
//
// # Capabilities
//
// Wait time (the routing result's estimate), user and agent typing, user
// and agent read receipts, transfer and reconnect. No availability check,
// queue position, files or screen share: see the README's table, kept in
// step by a test.
//
// # Errors
//
// Error answers are *httpjson.Error values (the HTTP status and
// Salesforce's message) that match servicedesk.ErrRateLimited (429),
// ErrChatNotFound (404, 410, 417, a 401 the continuation token cannot
// cure), ErrUnavailable (5xx) or ErrRejected (the rest) with errors.Is,
// and report that servicedesk.ErrorCode. The kit adds only the operation
// to errors.
//
// # As
//
// servicedesk.As (and flow.Session.As) fill a *Conversation: the
// conversation id and the end user's access token.
package salesforce
