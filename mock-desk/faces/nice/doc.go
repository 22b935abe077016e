// Package niceface serves a mock-desk Desk through NICE CXone Digital's
// chat API as the CXone chat web SDK speaks it (nice-devone/
// nice-cxone-chat-web-sdk 3.3.0: dist/index.d.ts for the shapes,
// dist/index.js for the frames and paths, docs_guides/connection-guidance.md
// and authentication.md for the lifecycle), written from those sources,
// not from the kit:
//
//   - GET /chat/1.0/brand/{brand}/channel/{channel}/availability:
//     {"status":"online"|"offline"}, online while the desk has an agent.
//   - POST /chat/1.0/brand/{brand}/channel/{channel}/attachment, the
//     temporary upload: {"content" (base64),"fileName","mimeType"},
//     answered {"fileUrl"}, or 400 with the channel's file restrictions
//     {"allowedFileSize","allowedFileTypes","isAttachmentsEnabled"} and
//     the desk's reason as "message".
//   - GET /?brandId=…&channelId=…&customerId=…, the chat gateway
//     WebSocket. Frames {"action":"chatWindowEvent"|"register",
//     "eventId","payload":{"eventType","brand","channel",
//     "consumerIdentity","data"}} are answered by a frame of the same
//     eventId: {"eventId","eventType","data"} or {"eventId","error":
//     {"errorCode","errorMessage","transactionId"}}; {"action":"heartbeat"}
//     by "pong". A guest is the customerId of the URL; an authorized
//     customer comes from AuthorizeCustomer's authorizationCode
//     (ConsumerAuthorized with consumerIdentity and accessToken
//     {token,expiresIn}), comes back with ReconnectConsumer, renews its
//     token with RefreshToken (TokenRefreshed), and carries the token in
//     every message's data.accessToken. Events: SendMessage (the first of
//     a thread opens a contact: the desk chat, its text the summary,
//     consumerContact.customFields the attributes; every SendMessage is a
//     new message: nothing is deduplicated by idOnExternalPlatform),
//     SenderTypingStarted/Ended, MessageSeenByConsumer, EndContact,
//     RecoverLivechat (LivechatRecovered: contact, inboxAssignee, the
//     thread's messages newest first).
//
// The desk's events are pushed {"eventId","eventObject","eventType",
// "createdAt","data"} to the connection that opened or recovered the
// thread: SetPositionInQueue (queue position; CXone has no wait
// estimate), CaseInboxAssigneeChanged (agent joined, left, or the
// assignee changed: a transfer), SenderTypingStarted/Ended (direction
// outbound), MessageCreated (direction outbound; with Options.Streamed a
// text message is STREAMED: an SSE sourceUrl whose "delta" events carry
// it in pieces, the last with finish_reason "stop"), MessageSeenChanged
// (the agent saw the customer's messages) and CaseStatusChanged closed
// (the end, either side, or a refused chat). A connection replays
// nothing: RecoverLivechat does. Users are CXone's, with numeric ids:
// Agent finds the desk's profile of one.
//
// Faults: the desk's WS faults apply (handshake refusals, latency, drops,
// duplicated frames, action faults answered as errors), its REST faults
// to the HTTP calls, and a DropConnections partition cuts the socket.
// Paths the face does not know go to the Desk (cmd/mock-desk -face nice).
package niceface
