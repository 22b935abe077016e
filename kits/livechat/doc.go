// Package livechat is a deskbridge kit for LiveChat (Text), as a LiveChat
// customer speaking the Customer Chat API v3.6 from the server.
//
// # Overview
//
// Each chat session is one LiveChat customer identity, made by the agent
// token grant (accounts.livechat.com/v2/customer/token with an agent
// access token of scope customers:own) and kept in the persisted state
// (entity_id), with a customer access token issued for it when needed.
// A chat has one RTM WebSocket (stream.Socket) that logs in on every
// connection (within LiveChat's 30 s), pings every 15 s, and carries
// start_chat (resume_chat for a later chat of the same session),
// send_event, send_sneak_peek, mark_events_as_seen, deactivate_chat,
// get_chat and list_threads; requests are matched to their answers by
// request_id (stream.Calls) and wait for the connection's login
// (stream.Gate). The pushes become callbacks: incoming_event
// SendMessageToUser (message text, file, rich message cards),
// incoming_typing_indicator AgentTyping, user_added_to_chat AgentJoined,
// user_removed_from_chat AgentLeftChat, chat_transferred
// BeginTransferToAnotherAgent, events_marked_as_seen AgentReadMessages,
// queue_position_updated UpdateAgentAvailability, chat_deactivated the
// desk's end (vendorkit.Chat.EndedByDesk); customer_disconnected is
// followed as its reason says (reconnect, with a new token, or end).
// Availability is the Web API's list_group_statuses; files go through the
// Web API's upload_file and then a file event.
//
// LiveChat replays nothing on a new connection: after every reconnection
// the gap is filled from list_threads, merged with the live pushes by
// event id (stream.GapFiller, stream.Recovery). Nor does it order a
// response before the pushes of what the request set going: pushes that
// name a chat while start_chat or resume_chat is unanswered are held and
// taken, in order, once the answer names the chat. A send_event whose
// answer was lost is looked up by its custom_id (the engine's message id)
// in the chat before it is sent again (vendorkit.Resend): LiveChat does
// not deduplicate.
//
// # Concurrency
//
// A Kit and its desks are safe for concurrent use; callbacks are made from
// the socket's read goroutine and the callers' goroutines, never with a
// lock held.
//
// # Capabilities
//
// Availability, queue position and wait, typing and read receipts both
// ways, files, transfers and Reconnect. No screen share.
//
// # Errors
//
// A refused request is an *Error with LiveChat's error type and message;
// its kind (servicedesk.ErrRateLimited, ErrUnavailable, ErrChatNotFound,
// ErrRejected) says whether it is retried. REST failures are
// httpjson.Error values or *Error. New fails on a Config that lacks the
// organization id or a way to get customer tokens.
package livechat
