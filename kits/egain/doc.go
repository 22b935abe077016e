// Package egain is a deskbridge kit for eGain chat: it hands a
// conversation to an eGain agent (Advisor Desktop) through the customer
// side IBM's service desk starter kit drives
// (watson-developer-cloud/assistant-web-chat-service-desk-starter,
// src/egain): eGain's Bring-Your-Own-Channel relay in front of the
// Conversation Hub, on the server instead of in the browser.
//
// # Overview
//
// New takes a Config (the relay's URL, the entry point id, the tenant's
// customer id) and returns a Kit; Kit.Factory builds one desk per chat
// session and has the servicedesk.Factory signature. A desk:
//
//   - starts a chat with POST initialize {sessionId, userId} (the customer
//     id in base64 as the Authorization), with the entry point, the
//     verified customer and the hand-off as Conversation Hub attributes
//     (vendorkit.Attributes: routing attributes, customer, summary,
//     claims; then the newest transcript lines that fit,
//     vendorkit.TranscriptLines); the answer's sessionToken authorizes the
//     session's WebSocket;
//   - holds one WebSocket per chat (core/transport/stream.Socket:
//     heartbeats, reconnection with backoff) whose opening frame names the
//     session and the last message delivered; the relay replays what came
//     after it and then says "connected", so a dropped connection loses
//     nothing, and a message that comes twice is dropped by its id;
//   - sends texts, typing.start and typing.end, and conversation.end as
//     frames with a messageId (the engine's message id for a text, so that
//     a resend after a lost answer is taken once) and waits for each one's
//     answer, retrying 429 (after its retryAfter) and 5xx;
//   - maps the Conversation Hub messages: agent.join to AgentJoined (the
//     agent's name; Config.AgentProfile can complete it), text to
//     SendMessageToUser (its HTML links and images as markdown, then
//     servicedesk.MarkdownItems), typing.start and typing.end to
//     AgentTyping, agent.transfer to BeginTransferToAnotherAgent,
//     queue.transfer to AgentLeftChat, the agent.end.conversation text, the
//     "Conversation ended" status and conversation.end to the end of the
//     chat, agent.unavailable before an agent to a CONNECTING error with
//     its reason. Unknown types are logged and ignored; a frame without
//     the session's token is ignored, as the starter kit does;
//   - asks the entry point's agentAvailability (eGain's XML) for
//     AreAnyAgentsOnline.
//
// The relay session (its ids and token), whether an agent joined, the
// agent's name and the last message delivered are persisted through
// Callback.UpdatePersistedState; Reconnect resumes the session from them.
//
// # Concurrency
//
// Kit methods are safe for concurrent use. A desk's methods may be called
// from any goroutine. Actions wait for their answers by messageId; pushed
// messages are delivered from the WebSocket's read goroutine, one at a
// time, in order. Close stops every goroutine of a desk.
//
// # Capabilities
//
// Availability, user and agent typing, transfers, agent leave (back to
// the queue) and reconnect. The customer API offers no queue position or
// wait time, read receipts, files or screen share: see the README's
// table, kept in step by a test.
//
// # Errors
//
// A refused action is an *Error (the relay's code and message) that
// matches servicedesk.ErrRateLimited (429), ErrUnavailable (5xx),
// ErrChatNotFound (404, 409) or ErrRejected (the rest) with errors.Is.
// initialize and the availability fail with core/transport/httpjson's
// *Error of the same kinds (a 401 is a customer id the relay does not
// know). The engine names the session and the message in the errors it
// returns; the kit adds only the operation.
//
// # As
//
// servicedesk.As (and flow.Session.As) fill a *Session: the entry point
// and the relay session's ids, once a chat was started or resumed.
package egain
