// Package egainface serves a mock-desk Desk through the customer side of
// eGain chat as IBM's service desk starter kit drives it
// (watson-developer-cloud/assistant-web-chat-service-desk-starter,
// src/egain/webChat/client/src/egainServiceDesk.ts): eGain's
// Bring-Your-Own-Channel relay in front of the Conversation Hub, whose
// messages are those of eGain's Conversation Manager API v3
// (apidev.egain.com, conversationmgr "Send message": the message types a
// customer client sends and receives).
//
// Paths and frames, with where each comes from:
//
//   - GET /system/egain/chat/entrypoint/agentAvailability/{id}: XML
//     <agentAvailability available="true|false"/> (the starter kit's
//     areAnyAgentsOnline; Cisco ECE "Chat APIs" use cases, the same eGain
//     chat server API). An unknown entry point answers 404.
//   - POST /initialize: {"sessionId","userId"} with Authorization: the
//     customer id in base64, answered {"sessionToken"} (the starter kit's
//     initialize). Inferred, not in the kit: the entry point
//     ("entryPointId"), the customer ("customer": {"id","name","email"})
//     and the hand-off as Conversation Hub metadata attributes
//     ("attributes": [{"name","value"}], the shape of the Send message
//     request's metadata). The same sessionId again answers the same
//     token (a retried initialize starts no second chat).
//   - GET /ws?userId=…&sessionId=…&sessionToken=…: the WebSocket. The
//     customer's first frame is {"userId","sessionId","CustomerId",
//     "sessionToken"} (the starter kit's onopen); inferred: its
//     "lastMessageId", after which the relay replays the conversation's
//     messages (empty: from the start), so that a new connection misses
//     nothing, and then {"status":"connected"}, once it has replayed what
//     the conversation had at the opening. The customer's frames are {"CustomerId","sessionId",
//     "message","sessionToken"}, "End conversation" as the message ending
//     the chat (the starter kit); inferred: "type" (a Conversation Hub
//     type a customer may send: text, typing.start, typing.end,
//     conversation.end) and "messageId", answered by
//     {"authorization","messageId","status":"accepted"} or
//     {"authorization","messageId","error":{"code","message","retryAfter"}}.
//   - Pushed frames: {"authorization": sessionToken, "eGainMessage": a
//     JSON string {"type","value"}} or {"authorization","status":
//     "Conversation ended"} (the starter kit's handleMessage). Types, from
//     the kit and the Conversation Hub's list: agent.join (value: a JSON
//     string {"agentName"}), text (HTML; "agent.end.conversation" when the
//     agent ends the chat), typing.start, typing.end, agent.unavailable
//     (the request refused before an agent), agent.transfer (value: a JSON
//     string {"agentName"} of the new agent; its value shape inferred) and
//     queue.transfer (the agent gave the chat back to the queue; inferred
//     as the agent's leave). Inferred: each eGainMessage's "id", the key of
//     the replay and of a client's dedupe.
//
// The desk's events become those messages: agent_joined agent.join, an
// agent message one text (text items as they are, images as <img>, link
// buttons as <a>, paragraphs apart), agent_typing typing.start or
// typing.end, transfer_started agent.transfer, agent_left queue.transfer,
// agent_ended the agent.end.conversation text, a refusal agent.unavailable
// with its reason, chat_ended the status frame. Queue updates, reads,
// files and screen share have no form here and are dropped.
//
// Faults: the desk's WS faults apply (handshake refusals, latency, drops,
// duplicated frames, and action faults answered as an error of code 429
// with retryAfter or 503), its REST faults to initialize and the
// availability, and a DropConnections partition cuts the WebSocket,
// refuses new handshakes with 503 while it lasts, and fails the
// customer's actions.
//
// The face uses mock-desk's customer-side API (mockdesk.CustomerChat).
package egainface
