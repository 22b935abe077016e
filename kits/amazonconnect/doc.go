// Package amazonconnect is a deskbridge kit for Amazon Connect chat: it
// hands a conversation to a human agent through Connect's customer-side
// APIs, the way amazon-connect-chatjs does in a browser, but on the server.
//
// # Overview
//
// New takes a Config (region, instance id, contact flow id; credentials
// come from the AWS SDK's default chain, never from the Config) and returns
// a Kit; Kit.Factory builds one desk per chat session and has the
// servicedesk.Factory signature. A desk:
//
//   - starts a chat contact with StartChatContact (SigV4, through
//     github.com/aws/aws-sdk-go-v2/service/connect), with the bot's summary
//     in a contact attribute (Config.SummaryAttribute) and transfer_info's
//     additional_data as attributes;
//   - connects the customer participant with CreateParticipantConnection
//     (types WEBSOCKET and CONNECTION_CREDENTIALS, bearer token, no SigV4;
//     written on go-retryablehttp, as no Participant Service Go module can
//     be had here) and holds the WebSocket: it subscribes to aws/chat, sends
//     aws/heartbeat every 10 s, recycles the connection before its 59-minute
//     lifetime or the connection token's expiry, and reconnects with
//     jittered backoff, asking for a fresh URL each time;
//   - after every connection, fills the gap with GetTranscript from the
//     last item delivered (Connect replays nothing) and delivers each item
//     once, in order (core/transport/stream.GapFiller);
//   - sends messages with SendMessage, the engine's message id as
//     ClientToken; typing (at most one event per 10 s, as ChatJS; Connect has
//     no "stopped typing") and read and delivered receipts (at most one
//     delivered receipt per 5 s, as ChatJS) with SendEvent; files with
//     StartAttachmentUpload, the pre-signed PUT and CompleteAttachmentUpload;
//     ends with DisconnectParticipant;
//   - maps Connect's events onto the callbacks: participant.joined/left of
//     an agent to AgentJoined/AgentLeftChat, typing to AgentTyping (for 10 s),
//     transfer.succeeded to BeginTransferToAnotherAgent, chat.ended to
//     AgentEndedChat (or a CONNECTING error when no agent ever joined),
//     read receipts to AgentReadMessages; text/plain, text/markdown (an image
//     or link paragraph becomes an image or link button item) and
//     interactive messages to SendMessageToUser; SYSTEM messages while
//     waiting to UpdateAgentAvailability. Unknown event types are logged and
//     ignored.
//
// The contact id, participant id and token, connection token and expiry,
// and the last item delivered are persisted through
// Callback.UpdatePersistedState; Reconnect uses them after a reload or a
// restart.
//
// # Concurrency
//
// Kit methods are safe for concurrent use. A desk's methods may be called
// from any goroutine; the engine calls them one at a time per kind. Events
// are delivered from the WebSocket's read goroutine and the gap fill, one
// at a time, in order. Close stops every goroutine of a desk; Kit.Close
// closes every desk still open.
//
// # Capabilities
//
// User and agent typing, read receipts both ways, files (Connect's types
// and 20 MB limit by default: DefaultAttachments), transfers, reconnect
// after a restart. Not available through Connect's customer APIs:
// availability before a start, queue position and wait time, screen share.
// The README's table lists them and a test keeps it in step.
//
// # Errors
//
// Participant Service failures are *APIError values (HTTP status, Connect
// exception name, message) that report their servicedesk.ErrorCode
// (RateLimited, Unavailable, NotFound or Rejected) and match its sentinel
// with errors.Is. Throttling and 5xx answers are retried with backoff
// honouring Retry-After before an error is returned. StartChatContact
// errors are the AWS SDK's (smithy API errors), wrapped once. Errors name
// the contact (contact=…); the engine adds the session and message.
//
// # As
//
// servicedesk.As (and flow.Session.As) fill a *Contact: the contact id and
// the customer's participant id, once a contact was started or resumed.
package amazonconnect
