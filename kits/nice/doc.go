// Package nice is a deskbridge kit for NICE CXone Digital chat (the
// successor of inContact Patron Chat), as a CXone chat customer speaking
// the chat web SDK's protocol (nice-cxone-chat-web-sdk 3.3.0) from the
// server.
//
// # Overview
//
// Each chat session is one CXone customer: a guest, known by a customer
// id the kit makes and persists (the gateway URL's customerId), or, with
// Config.AuthorizationCode, an OAuth-authorized customer: every
// connection sends AuthorizeCustomer with a new authorization code
// (ConsumerAuthorized gives the customer's identity and an access token)
// or, while the token is good, ReconnectConsumer; the token is renewed
// with RefreshToken after 90 % of its life (TokenRefreshed), as the SDK
// does, and travels in every event's data.accessToken. A token CXone
// refuses makes the next connection authorize anew.
//
// A chat has one gateway WebSocket (stream.Socket, the SDK's
// {"action":"heartbeat"} answered "pong"). Events go as chatWindowEvent
// frames and their answers are paired by eventId (stream.Calls); every
// request waits for the connection's authorization (stream.Gate). The
// chat is a livechat thread whose id the kit chooses: its first
// SendMessage (the summary and the bot conversation, the hand-off as the
// contact's custom fields) opens a contact, which CXone routes. The
// pushes become callbacks: CaseInboxAssigneeChanged (the SDK's
// AssignedAgentChanged) AgentJoined, AgentLeftChat, or a transfer
// (BeginTransferToAnotherAgent, then AgentJoined); SenderTypingStarted
// and Ended of an agent AgentTyping; MessageCreated of an agent
// SendMessageToUser (text, attachments, link buttons; a STREAMED
// message's SSE source is read until its "stop" and shown as one
// message); MessageSeenChanged or MessageReadChanged AgentReadMessages;
// SetPositionInQueue UpdateAgentAvailability; CaseStatusChanged (the
// SDK's ContactStatusChanged) closed the desk's end
// (vendorkit.Chat.EndedByDesk: a refused chat is a CONNECTING error).
// Availability is GET …/availability; files go to the temporary upload
// (POST …/attachment) and then as the message's attachments.
//
// The gateway replays nothing on a new connection: after every
// reconnection RecoverLivechat brings the thread again (LivechatRecovered:
// its contact, assignee and messages), merged with the live pushes by
// message id (stream.GapFiller, stream.Recovery), in order. CXone does not
// deduplicate SendMessage by its idOnExternalPlatform (the engine's
// message id): one whose answer was lost is looked up in the recovered
// thread before it is sent again (vendorkit.Resend).
//
// # Concurrency
//
// A Kit and its desks are safe for concurrent use. The socket's read
// goroutine pairs answers and queues pushes; one delivery goroutine a desk
// shows them in order (a streamed message is read from its source there,
// bounded by Config.StreamTimeout, without holding up the socket).
// Callbacks are made from it, the recovery's goroutine and the callers'
// goroutines, never with a lock held.
//
// # Capabilities
//
// Availability, queue position, typing and read receipts both ways,
// files, transfers and Reconnect. No wait estimate (CXone gives none) and
// no screen share.
//
// # Errors
//
// A refused event is an *Error with CXone's errorCode and errorMessage;
// its kind (servicedesk.ErrRateLimited, ErrUnavailable, ErrChatNotFound,
// ErrRejected) says whether it is retried. REST failures are
// httpjson.Error values; a file the channel refuses fails with the
// channel's file restrictions as its reason. New fails on a Config
// without a brand, a channel or a known environment (or both URLs).
package nice
