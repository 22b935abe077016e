// Package vendorkit is the base a vendor kit's desk is built on, written
// once instead of in every kit: what a desk for a vendor's own protocol
// (Amazon Connect, Genesys Cloud, ...) needs besides that protocol.
//
// # Overview
//
// A kit's desk embeds a Chat: the desk's lifetime (goroutines that Close
// stops), the slot of its live socket or SSE stream, the agent's typing
// indicator, and the flags of one chat (an agent joined, the chat ended,
// and by whom), with the one rule for a chat the desk ended (DeskEnded: AgentEndedChat
// when an agent had joined, else a CONNECTING error; nothing when the
// customer ended it). Chat.EndChat is the frame of a desk's EndChat (the
// vendor told only of a customer's end of a chat it has), Chat.Resume the
// start of its Reconnect (a desk-side end quiet until it returns);
// Chat.JoinAgent tells of an agent (the chat's first persisted, for a
// resume) and Chat.Persist merges fields into the persisted state.
// LoadState decodes the session's persisted state into
// the kit's own type and says when it cannot, instead of starting from an
// empty state; Saved keeps that state under its own lock, saved whole
// (Update) or in part (Merge) as the chat moves on. Desks is a kit's set of open desks: its Factory and Close.
// Outage turns the outcomes of a desk's own calls into DISCONNECTED: raised
// after a run of failures while an agent is in, cleared by the read that
// follows the first answer. Resend retries a customer message so that no
// retry doubles it: after a try whose outcome is unknown it first looks the
// message up by the engine's id. SendWithFiles is the rule of a
// customer's message with files uploaded before it (a failed upload
// reported at once, the others with the message's outcome); RefuseFiles
// the body of FilesSelectedForUpload, FileRefusal the usual sentence for
// a file the desk refused. Profiles reads agents' profiles from a desk
// that names agents by id, once a chat; NoteLines and TranscriptHeading
// are the hand-off as an agent reads it in a message or a note. Recover makes the gap filler and the
// stream recovery of a chat whose vendor replays nothing on a new
// connection (Replay: what to read back and how to merge it). Reader is the one worker of a chat whose
// vendor's webhooks are a doorbell: it does the chat's work in order,
// reads the conversation after the kit's cursor on every ring (rings
// together are one read; a failed read is tried again before later work),
// and rings by itself now and then; ReadBack reads the messages after the
// cursor, a page at a time, oldest first and each once.
// NewUUID and NameUUID make the UUIDs vendors want their clients to choose
// (NameUUID the same for the same engine id, for resends); TokenExpiry
// reads when a vendor's JWT access token expires, SignRS256 signs an
// identity token for a vendor's user verification.
//
// # Concurrency
//
// Chat, Desks, Outage, Profiles and Saved, and Reader's Ring and Do, are safe for
// concurrent use; a Chat's callbacks are made without its lock held.
//
// # Errors
//
// LoadState fails with an error naming the kit when the persisted state
// does not decode. Desks.Open fails with the context's error, or with
// lifetime.ErrClosed after Close.
package vendorkit
