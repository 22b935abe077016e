// Package genesys is a deskbridge kit for Genesys Cloud Web Messaging: it
// hands a conversation to a Genesys agent as a Web Messaging guest, the way
// Genesys's Messenger and mobile SDKs do, but on the server.
//
// # Overview
//
// New takes a Config (region or domain, deployment id) and returns a Kit;
// Kit.Factory builds one desk per chat session and has the
// servicedesk.Factory signature. A desk:
//
//   - holds one WebSocket per guest to wss://webmessaging.<domain>/v1
//     ?deploymentId=…, sends configureSession with a session token it
//     chooses (a UUID), and on every reconnection sends it again to resume;
//     a SessionResponse that says newSession (Genesys forgot the session)
//     or readOnly (the conversation is over) ends the chat;
//   - starts the conversation as the SDKs' autostart does: an onMessage
//     with a Presence Join event, the bot's summary in
//     channel.metadata.customAttributes (Config.SummaryAttribute);
//   - sends texts with onMessage (type Text), the engine's message id as
//     metadata.customMessageId so a resend never doubles it, waiting for the
//     guest's own message to come back as its receipt; paces onMessage to
//     Genesys's 2 messages a second and honours a 4029's retryAfter;
//   - uploads files with onAttachment, the pre-signed PUT with the headers
//     Genesys asks for, and the UploadSuccessEvent, then sends them in an
//     onMessage's content; typing is an onMessage Typing event (at most one
//     per 5 s; no "stopped"); closeSession ends the chat;
//   - keeps the socket alive with the application-level echo, not a
//     WebSocket ping alone;
//   - after every connection fills the gap from the history REST call
//     (GET https://api.<domain>/api/v2/webmessaging/messages, newest first)
//     with a JWT from getJwt, and delivers each message once, in order
//     (core/transport/stream.Recovery and GapFiller);
//   - maps outbound messages: Presence Join to AgentJoined (a nickname and an
//     image; Config.AgentProfile can complete it), Text and Structured
//     messages to SendMessageToUser (image attachments as image items, card
//     Link actions as link buttons, quick replies as a list of choices),
//     bot texts before any agent to UpdateAgentAvailability, Typing to
//     AgentTyping for its duration, Presence Disconnect, SessionExpiredEvent,
//     SessionClearedEvent and ConnectionClosedEvent to the end of the chat
//     (a CONNECTING error when no agent ever joined). Unknown classes and
//     event types are logged and ignored.
//
// With Config.Authenticate a chat is an authenticated session instead of a
// guest's: the customer's auth code (from the OpenID Connect provider the
// deployment trusts) is exchanged for a JWT, which configures the session
// (configureAuthenticatedSession) and is renewed with its refresh token on
// every later connection; PageAuthCode takes the code from the page.
//
// The session token, whether an agent joined, the last message delivered
// and an authenticated session's refresh token are persisted through
// Callback.UpdatePersistedState; Reconnect uses them.
//
// # Concurrency
//
// Kit methods are safe for concurrent use. A desk's methods may be called
// from any goroutine. Requests wait for their answers by tracingId; pushed
// messages are delivered from the WebSocket's read goroutine and the gap
// fill, one at a time, in order. Close stops every goroutine of a desk.
//
// # Capabilities
//
// User and agent typing, files (the deployment's allowedMedia as
// capabilities; blockedExtensions flagged by FilesSelectedForUpload), and
// reconnect. A guest sees no availability, queue position, wait time, read
// receipts, transfers or agent leaving, and no screen share: see the
// README's table, kept in step by a test.
//
// # Errors
//
// Error answers are *Error values (Genesys's code, 4000–4029 or an HTTP-like
// status, and its message) that match servicedesk.ErrRateLimited (4029),
// ErrChatNotFound (4006, 4007), ErrUnavailable (5xx) or ErrRejected (the
// rest, e.g. 4011 message too long, 4001 file type) with errors.Is, and
// report that servicedesk.ErrorCode. The engine names the session and the
// message in the errors it returns; the kit adds only the operation.
//
// # As
//
// servicedesk.As (and flow.Session.As) fill a *Guest: the deployment and
// the guest session token, once a session was configured or resumed. The
// guest API tells a guest no conversation id.
package genesys
