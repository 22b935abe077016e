// Package oracleface is mock-desk's Oracle B2C Service chat face: an
// http.Handler that speaks the end-user side of the Chat REST API
// (establishSessions and the consumer Engagement Engine API) over
// mock-desk's customer side, written from Oracle's documented shapes,
// independently of kits/oracle.
//
// # Overview
//
// New wraps a *mockdesk.Desk. What it serves, and where each shape comes
// from (docs.oracle.com/en/cloud/saas/b2c-service/cxscc, "REST API for
// Chat in B2C Service"; the Oracle Mobile Chat 1.0 reference app, UPL, and
// the IBM web chat service desk starter's src/oracle for how a client
// drives it):
//
//   - POST /services/rest/crossChannelServices/latest/establishSessions
//     ("About Establish Sessions"): Basic authentication with the chat API
//     user; the body's sessionInformation is a JSON string (firstName,
//     lastName, emailAddress, queueId, interfaceId, question,
//     customFields [{name, type, value}]); the answer has the JWT (jwt and
//     channelToken), siteName and sessionServerResponse, a JSON string
//     {domain, port, pool} naming the chat session server (the face
//     names itself). The JWT carries exp; its lifetime is Options.TokenTTL.
//   - POST /engagement/api/consumer/{site}/v1/requestEngagement?pool=
//     (op-engagement-api-consumer-fqsitename-v1-requestengagement-post):
//     Authorization: Bearer <jwt>; the chat starts with the customer's
//     name, the question as the agent's summary and the custom fields as
//     the contact's attributes; the answer has engagementId, sessionId,
//     clientId (each also as a string) and resultType.
//   - POST …/getMessages?pool= (…-getmessages-post): Bearer and the
//     SessionId header; held up to Options.Hold (30 s, the documented
//     maximum) until there are system messages, else answered with an
//     empty systemMessages. The messages: RNEngagementWaitInformationChangedMessage
//     {position, expectedWaitTimeSeconds}, RNEngagementParticipantAddedMessage
//     {clientId, name, role LEAD, greeting}, RNEngagementMessagePostedMessage
//     {clientId, body, richText false: the agent's items as markdown},
//     RNEngagementActivityChangedMessage {clientId, mode RESPONDING or
//     LISTENING}, RNEngagementParticipantLeftMessage {clientId, role,
//     disconnectReason PARTICIPANT_LEFT, or TRANSFERRED_TO_AGENT before
//     the next agent's ParticipantAdded: inferred}, RNEngagementConcludedMessage
//     {reason AGENT_CONCLUDED, END_USER_CONCLUDED, or NO_AGENTS_AVAILABLE
//     for a refused chat: inferred}; each with engagementId, createdTime
//     and sequenceNumber (and its string), 1, 2, … per engagement.
//     Messages are handed out once: the face keeps each session's place and
//     moves it only past an answer it wrote (the pages say no more; that a
//     request has no cursor of its own is from the getMessages page). After
//     the conclusion was handed out, getMessages answers 409.
//   - POST …/postMessage?pool= (…-postmessage-post): {body,
//     clientTransactionId, clientRequestTime, messageId, richText}; the
//     desk's message id is messageId (the client's id of its message),
//     else clientTransactionId. The pages promise no
//     deduplication and the face makes none: a message sent twice is
//     stored twice.
//   - POST …/activity?pool= {mode} (the IBM starter's call): RESPONDING is
//     the customer typing, LISTENING not.
//   - POST …/concludeEngagement?pool=: the customer ends the chat.
//   - GET …/getQueueStats?pool=&request=<URL encoded JSON {queueId,
//     chatProactiveAvailableType}> (…-getqueuestats-get): Bearer, no
//     SessionId; availableAgentSessions is the agents online.
//
// Errors are the status with a JSON {errorCode, message} (inferred: the
// pages show no error body): 401 ACCESS_DENIED for a missing or expired
// JWT, 404 for an unknown SessionId, 409 CONFLICT for a concluded
// engagement, 400 INVALID_FIELD for a refused message. The desk's REST
// faults refuse every call but getMessages (429 with Retry-After, 503);
// its poll faults apply to getMessages (latency, 429, 503, stalls held for
// the whole wait and answered empty, duplicated and swapped messages);
// DropConnections drops a held getMessages without an answer. Every other
// path is the desk's own (its console, its control API).
//
// # Concurrency
//
// A Face is safe for concurrent use. Answers of one session are made one
// at a time; PeakGetMessages tells how many of its getMessages were ever in
// flight at once.
package oracleface
