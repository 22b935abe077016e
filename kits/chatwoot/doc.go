// Package chatwoot is a deskbridge kit for Chatwoot: it hands a
// conversation to Chatwoot's agents through the public client API of an
// API channel inbox, as the inbox's own client would, but on the server.
//
// # Overview
//
// New takes a Config (the installation's URL and the inbox identifier)
// and returns a Kit; Kit.Factory builds one desk per chat session and has
// the servicedesk.Factory signature. A desk:
//
//   - creates a contact (POST /public/api/v1/inboxes/{inbox}/contacts):
//     its source_id names it in the paths after, its pubsub_token
//     subscribes to its events; a verified customer is its identifier,
//     with identifier_hash (HMAC-SHA256 with the inbox's token) when
//     Config.HMACToken is set;
//   - subscribes to the RoomChannel on that token over ActionCable (/cable,
//     core/transport/actioncable), then creates the conversation with the
//     hand-off as custom attributes, posts the summary and the bot
//     transcript as its first message, and opens a conversation the
//     inbox's agent bot holds (pending) with the bot's token;
//   - sends texts with the engine's message id as echo_id, and drops their
//     echo; sends the user's files as attachments[] of the message
//     (multipart, each file read as it is sent); toggles typing, marks the
//     conversation seen, resolves it (toggle_status) at the end;
//   - follows message.created, conversation.status_changed,
//     conversation.updated and assignee.changed (the assignee: agent
//     joined, transfer, left), conversation.typing_on/off;
//   - after every subscription fills the gap from the messages list (the
//     cable replays nothing) and delivers each message once, in order
//     (core/transport/stream.Recovery and GapFiller);
//   - paces every request of the kit (one IP for all customers, which
//     Chatwoot throttles) and pauses them all for a 429's Retry-After.
//
// # Concurrency
//
// A Kit and its desks are safe for concurrent use, as the engine uses
// them.
//
// # Errors
//
// Calls fail with errors matching the servicedesk sentinels
// (ErrRateLimited, ErrUnavailable, ErrChatNotFound, ErrRejected, ErrNoChat)
// and naming the operation.
package chatwoot
