// Package zendeskface is mock-desk's Zendesk face: Sunshine Conversations
// v2 as a custom integration sees it, written from the API reference
// (zendesk/sunshine-conversations-api-spec openapi.yaml), in front of a
// mock-desk whose agents play the Zendesk Agent Workspace.
//
// # Overview
//
// The REST side: Create and Get User, Create and Get Conversation, Post
// and List Messages (cursor pages of 100, backwards), Post Activity
// (conversation:read as the user), passControl and releaseControl, and
// Upload Attachment (multipart "source"), with Basic or HS256 JWT
// authentication and errors as {"errors":[{"code","title"}]}. A
// switchboard holds two integrations, the integration itself (name
// "deskbridge", type custom) and the Agent Workspace (name
// "zd-agentWorkspace", type "zd:agentWorkspace"): passControl to the
// Agent Workspace starts a mock-desk chat with the conversation's messages
// from first_message_id as the summary; passControl back ends it.
//
// The webhook side: every event is POSTed to Options.WebhookURL as
// {app, webhook, events:[…]} with X-API-Key, retried on failure up to 5
// times with exponential backoff (Zendesk: over 15 minutes; here within
// seconds): conversation:message for every stored message,
// conversation:typing for the agent's typing (and, as the agent's first
// sign of life, a typing:start and typing:stop when an agent joins, since
// Zendesk tells an integration nothing when an agent accepts the ticket),
// switchboard:passControl, :failure and releaseControl. An agent leaving
// without solving the ticket is not expressible and sends nothing.
//
// The desk's faults apply: REST latency, 429 and 5xx (mockdesk.RequestFault),
// webhook latency, lost, duplicated and reordered deliveries
// (mockdesk.WebhookFault), and DropConnections cuts the conversation off:
// its REST calls answer 503 and its deliveries fail (and are retried).
//
// # Concurrency
//
// A Face is safe for concurrent use; each conversation's deliveries go
// out in order from one goroutine.
package zendeskface
