// Package chatwootface is mock-desk's Chatwoot face: the public client API
// of an API channel inbox (contacts, conversations, messages, typing, last
// seen, resolve) and its ActionCable RoomChannel, as a contact sees them,
// over mock-desk's customer-side API. It is written from Chatwoot's
// controllers and JSON builders, not from any client of it.
//
// # Overview
//
// New returns a Face, an http.Handler: /public/api/v1/inboxes/{inbox}/...
// and /cable are Chatwoot's, /api/v1/accounts/{account}/conversations/{id}
// /toggle_status takes an agent bot's token (Options.Bot: conversations
// start pending, held by the bot, and start at the desk when opened), and
// every other path goes to the desk (its console). Message ids grow with
// time across the contact's and the agents' messages, as Chatwoot's do;
// the messages list pages backwards 20 at a time (before). A message's
// attachments[] (multipart) go to the desk as the chat's files, checked
// against its limits and Options.MaxAttachmentBytes; a refused one
// refuses the message (422). Every POST is stored, a repeated echo_id
// too. The cable replays nothing: a subscription gets what happens after
// its confirmation.
//
// # Faults
//
// REST requests take the desk's REST faults (429 or 503 with
// Retry-After), the cable's handshake its handshake faults, its frames the
// frame faults (latency, drops, duplicated events); DropConnections cuts
// the chat's sockets without a close frame.
//
// # Concurrency
//
// A Face is safe for concurrent use.
package chatwootface
