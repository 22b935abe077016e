// Package oracle is a deskbridge kit for Oracle B2C Service chat: it
// hands a conversation to a B2C Service agent through the chat REST API's
// end-user side ("REST API for Chat in B2C Service",
// docs.oracle.com/en/cloud/saas/b2c-service/cxscc), on the server.
//
// # Overview
//
// New takes a Config (the site's URL and the chat API user's credentials,
// from the environment) and returns a Kit; Kit.Factory builds one desk
// per chat session and has the servicedesk.Factory signature. A desk:
//
//   - starts a chat with establishSessions (Basic authentication; the
//     customer's name and email, the summary and the newest transcript
//     lines as the question, the routing attributes, the customer and the
//     claims as custom fields) and requestEngagement with the JWT it
//     answered, on the chat session server and pool it named;
//   - keeps exactly one getMessages of the session in flight (a held
//     request the server answers within 30 s): the next goes once the
//     last was answered or failed and its messages were delivered, in
//     sequenceNumber order, each once (core/transport/stream.Sequencer: a
//     repeat dropped, a message after a gap held until the gap fills, a
//     gap still open after the next answer given up);
//   - maps RNEngagementWaitInformationChangedMessage to queue position and
//     wait, ParticipantAdded to AgentJoined (its greeting shown),
//     MessagePosted to SendMessageToUser, ActivityChanged to AgentTyping,
//     ParticipantLeft to AgentLeftChat (BeginTransferToAnotherAgent when
//     TRANSFERRED_TO_AGENT), Concluded to the end of the chat; the
//     customer's own participant is not shown back;
//   - posts the customer's texts (postMessage, with the engine's message
//     id as messageId), the typing activity (activity), the end
//     (concludeEngagement), and asks getQueueStats for AreAnyAgentsOnline;
//   - renews the JWT with establishSessions before it expires, and once
//     when a call is refused with 401.
//
// The session (its id, JWT, server and pool), the customer's participant,
// the last sequenceNumber delivered and the agent in the chat are
// persisted; Reconnect resumes getMessages from them.
//
// # Concurrency
//
// Kit methods are safe for concurrent use. A desk's methods may be called
// from any goroutine. System messages are delivered from the desk's one
// getMessages goroutine, in order. Close stops every goroutine of a desk.
//
// # Capabilities
//
// Availability, queue position and wait, user and agent typing, transfers
// and reconnect. The consumer API offers no read receipts, files or screen
// share: those answer errors.ErrUnsupported (see the README's table, kept
// in step by a test).
//
// # Errors
//
// Calls fail with core/transport/httpjson's *Error (the server's
// errorCode and message) that matches servicedesk.ErrRateLimited (429),
// ErrUnavailable (5xx), ErrChatNotFound (404, and 409 for a concluded
// engagement) or ErrRejected (the rest) with errors.Is. 429 and 5xx
// answers are tried again (after Retry-After); a postMessage whose answer
// was lost is not, since the pages promise no deduplication.
//
// # As
//
// servicedesk.As (and flow.Session.As) fill a *Session: the session and
// engagement ids, once a chat was started or resumed.
package oracle
