// Package genesysface serves a mock-desk Desk through Genesys Cloud Web
// Messaging's guest API, built from the shapes of Genesys's
// web-messaging SDKs (MyPureCloud/web-messaging-sdk-java,
// genesys-messenger-transport-mobile-sdk): one WebSocket per guest at
// /v1?deploymentId=… whose requests carry an action and the guest's
// session token (configureSession, onMessage, onAttachment, getJwt, echo,
// closeSession, and configureAuthenticatedSession with the JWT of an
// authenticated session) and whose answers and events are envelopes
// {"type","class","code","body","tracingId"}; the pre-signed upload URL;
// the history REST call GET /api/v2/webmessaging/messages with the
// JWT; and authenticated sessions: the auth code exchange and the JWT
// refresh of /api/v2/webdeployments/token, with the face as the
// customer's OpenID Connect provider too (Face.IssueAuthCode), the
// signed-in customer becoming the chat's customer on the agent side. Paths it does not know go to the Desk (cmd/mock-desk -face
// genesys).
//
// A guest's conversation starts with an autostart (an onMessage carrying a
// Presence Join event, whose channel.metadata.customAttributes "summary" is
// the agent's summary) or its first text. The desk's events become
// outbound StructuredMessages: agent_joined a Presence Join event, agent
// messages Text messages (images as Attachment content, link buttons as a
// Card's Link actions), agent typing a Typing event, chat_ended a Presence
// Disconnect, a refusal a text before it. Agent leave, transfers, reads,
// queue updates and screen share have no guest-side form and are dropped.
// The WebSocket replays nothing; the history does.
//
// Faults: the desk's WS faults apply (handshake refusals, latency, drops,
// duplicated frames, and action faults answered as code 429 with
// retryAfter or code 500), its REST faults to the history call, and a
// DropConnections partition cuts the guest's WebSocket and history calls.
//
// The face uses mock-desk's customer-side API (mockdesk.CustomerChat); a
// guest's configureSession reads the chat's state from the agent side
// (Desk.ChatView), as it is answered even while the chat is cut off.
package genesysface
