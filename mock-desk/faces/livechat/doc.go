// Package livechatface serves a mock-desk Desk through LiveChat's Customer
// Chat API v3.6, built from LiveChat's published reference
// (livechat/livechat-public-docs: messaging/customer-chat-api
// rtm-reference, rtm-pushes, data-structures, the Web API's upload_file
// and list_group_statuses, and authorization/customer-authorization):
//
//   - POST /v2/customer/token, the agent token grant: with an agent access
//     token, a new customer identity (entity_id) or a new customer access
//     token for one, expiring after TokenTTL.
//   - GET /v3.6/customer/rtm/ws?organization_id=…, the RTM socket: frames
//     {"request_id","action","payload"} answered {"request_id","action",
//     "type":"response","success","payload"} (errors as payload.error
//     {type,message}); login within LoginTimeout; ping; start_chat,
//     resume_chat (a new thread: a new desk chat), send_event (message, or
//     file with an upload_file URL; every request a new event: LiveChat does
//     not deduplicate by custom_id), send_sneak_peek (the customer typing),
//     mark_events_as_seen, deactivate_chat, get_chat, list_threads,
//     list_group_statuses.
//   - POST /v3.6/customer/action/list_group_statuses and upload_file, the
//     Web API with the customer's Bearer token.
//
// The desk's events become pushes: queue_update queue_position_updated
// (wait_time in seconds), agent_joined user_added_to_chat, agent_left
// user_removed_from_chat, transfer_started chat_transferred, agent typing
// incoming_typing_indicator, agent_read events_marked_as_seen, agent
// messages incoming_event (text a message, else a rich_message of cards),
// chat_ended chat_deactivated (user_id the agent or customer who ended
// it). A refused chat is start_chat's error groups_offline with the
// desk's reason. start_chat's response and the new chat's first pushes
// come in either order (the socket's one writer takes whichever is ready;
// LiveChat documents no order either). The opening events of start_chat are the agent's
// summary, the login's session fields the chat's attributes. A
// connection replays nothing; the history calls do.
//
// Faults: the desk's WS faults apply (handshake refusals, latency, drops,
// duplicated frames, and action faults answered as too_many_requests or
// service_unavailable), its REST faults to the token grant and the Web
// API, and a DropConnections partition cuts the RTM socket. A connection
// whose token expired gets customer_disconnected access_token_expired and
// is closed. Paths the face does not know go to the Desk (cmd/mock-desk
// -face livechat).
package livechatface
