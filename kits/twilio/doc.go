// Package twilio is a deskbridge kit for Twilio Flex over Twilio
// Conversations, on the server: the bridge is the customer's identity on
// a conversation and hands it to a Flex agent.
//
// # Overview
//
// New takes a Config (account, auth token, TaskRouter workspace, the
// public webhook URL) and returns a Kit; Kit.Factory builds one desk per
// chat session and has the servicedesk.Factory signature;
// Kit.WebhookHandler receives the webhooks of every conversation. A desk:
//
//   - creates a conversation (POST /v1/Conversations, form-encoded, a
//     unique name so a retried create finds the first), adds the customer
//     as a participant with an identity of its own, and gives the
//     conversation a scoped webhook to Config.WebhookURL;
//   - posts the bot transcript of the hand-off as the opening messages,
//     then hands the conversation to Flex with POST /v1/Interactions: the
//     conversation is the channel's media_channel_sid, the routing
//     attributes, the customer (Flex's from, customerName, customers) and
//     the summary (conversationSummary) are the task's attributes;
//   - posts the customer's messages as that identity, the engine's message
//     id in the message attributes so a resend after a lost answer finds
//     the message instead of doubling it; files go to the media service
//     (POST https://mcs.us1.twilio.com/v1/Services/{IS}/Media) and into
//     the message as MediaSid;
//   - learns of agents, their messages, their read horizon and the end
//     from the webhooks (onParticipantAdded/Removed/Updated,
//     onMessageAdded, onConversationStateUpdated, TaskRouter task.*),
//     applied in message index order: a jump in the index makes it read
//     the messages after the last one handled before going on, so a late,
//     lost, duplicated or reordered webhook loses and doubles nothing; it
//     also reconciles with the conversation now and then
//     (Config.ReconcileInterval), since Twilio does not retry webhooks;
//   - ends the chat by closing the interaction's channel and the
//     conversation; the conversation closed (the agent ended the chat) or
//     the task ended is the chat's end;
//   - persists the conversation, participant, interaction and the index
//     after the last message handled, so Reconnect resumes after a
//     restart: it follows the conversation again and reads back what
//     happened meanwhile.
//
// # Webhooks across restarts and instances
//
// Twilio posts every conversation's webhooks to one URL; the kit routes
// them by ConversationSid to the desk that follows the conversation
// (StartChat and Reconnect follow it). Events of a conversation nobody
// here follows are kept a short while (a StartChat whose answers are on
// their way) and, with Config.Elsewhere, passed to the other instances,
// which Deliver them. Nothing depends on a webhook arriving: a resumed
// or reconciled desk reads the conversation back.
//
// # Concurrency
//
// A Kit and its desks are safe for concurrent use. Each desk applies its
// conversation's events on one goroutine of its own; the webhook handler
// only queues them.
//
// # Errors
//
// Twilio's error answers are *httpjson.Error (Twilio's message in it),
// matching servicedesk.ErrRateLimited, ErrChatNotFound, ErrUnavailable or
// ErrRejected with errors.Is; New fails on a missing or malformed setting.
package twilio
