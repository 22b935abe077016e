// Package connectface serves a mock-desk Desk through Amazon Connect's
// customer-side wire formats, built from AWS's documented shapes:
// StartChatContact (PUT /contact/chat, the server-side call; its SigV4
// signature is required but not verified), the Participant Service REST
// calls (POST /participant/…, X-Amz-Bearer tokens, errors as
// x-amzn-ErrorType plus {"Message":…}), the pre-signed attachment PUT,
// and the participant WebSocket (topics aws/subscribe, aws/heartbeat,
// aws/chat with a stringified transcript item as content). Paths it does
// not know go to the Desk, so one server holds both the face and the
// desk's control API and console (cmd/mock-desk -face connect).
//
// The desk's events become Connect transcript items: agent_joined and
// agent_left are participant.joined/left events, agent messages are
// text/markdown MESSAGE items (images and link buttons as markdown
// paragraphs), agent typing is a typing event (Connect has no "stopped"),
// agent reads are MESSAGEMETADATA receipts, a transfer is
// transfer.succeeded, chat_ended is chat.ended, and a refusal is a SYSTEM
// message before chat.ended. Queue updates, capabilities and screen share
// have no Connect form and are dropped. A WebSocket replays nothing: only
// the participant's first connection starts at the chat's beginning;
// GetTranscript serves the rest.
//
// Faults: the desk's REST faults apply to the Participant calls (as
// ThrottlingException 429 and InternalServerException 500), its WS faults
// to the WebSocket (handshake refusals, latency, drops, duplicated aws/chat
// frames; a WebSocket delivers in order, so no reordering), and a
// DropConnections partition to everything of the chat.
//
// The face uses only mock-desk's customer-side API (mockdesk.CustomerChat).
package connectface
