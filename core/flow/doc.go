// Package flow is the flow engine: it runs the hand-off of a chat from an
// AI assistant to a human agent in a service desk, and back, on the server.
//
// # Overview
//
// An Engine holds many Sessions, one per end user's chat. A Session drives
// one agent chat at a time through a servicedesk.ServiceDesk built for it by
// the engine's servicedesk.Factory: the availability check, the request for
// an agent, queue updates, the agent joining, messages and files both ways,
// typing, read receipts, transfers, screen sharing, the end, and the resume
// after a restart. It reproduces the behaviour of Carbon AI Chat's browser
// engine, with its known bugs fixed (see docs/flow-engine.md).
//
// Front ends (a Go chat backend, the browser gateway, a test) issue commands
// (StartChat, SendMessage, EndChat, ...) and read Events. Every outcome a
// person would see is an Event with a per-session sequence number in the
// session's event log; a front end reads from the last Seq it saw and gets
// exactly what it missed, even across a restart (the Store keeps the log's
// tail).
//
// # States
//
// A session is in one State. The table below is walked completely by
// TestTransitionTable; "·" means the call changes nothing, "drop" that it is
// recorded as dropped (Session.Stats) and ignored.
//
//	from          event                                  to
//	idle/ended    StartChat                              starting → waiting (pre-start hook, then desk.StartChat)
//	starting      hook cancels | hook fails              ended (cancelled | CONNECTING error)
//	starting      EndChat                                ended, desk not called
//	waiting       AgentJoined                            connected
//	waiting       BeginTransfer(profile)                 transferring (join timer stopped)
//	waiting       CONNECTING, DISCONNECTED(true),        ended with an inline error; desk not called
//	              StartChat failed
//	waiting       join timeout                           ending → ended ("No agents accepted the chat")
//	waiting       EndChat | AgentEndedChat               ending → ended (request cancelled)
//	connected     BeginTransfer                          transferring
//	transferring  AgentJoined                            connected
//	connected     AgentLeftChat                          agent_left
//	agent_left    AgentJoined | BeginTransfer            connected | transferring
//	agent side    DISCONNECTED(true)                     disconnected (outbox held)
//	disconnected  DISCONNECTED(false)                    the state before it (outbox resumes)
//	agent side    EndChat | AgentEndedChat               pre-end hook, ending → ended
//	agent side    CONNECTING                             ending → ended (Carbon leaves a stuck chat)
//	(restart)     chat running when the process stopped  reconnecting → the state before, or ended
//	reconnecting  Reconnect false | fails | times out    ending → ended, desk told
//	ending        desk EndChat answers or times out      ended
//
// "Agent side" is connected, agent_left, transferring and disconnected.
//
// # Concurrency
//
// Every method of Engine, Session and the desk's Callback is safe for
// concurrent use. Commands and callbacks are applied one at a time per
// session, in the order they were made; a goroutine drains a session's queue
// only while there is work, so idle sessions cost no goroutine. Desk calls run
// on their own goroutines with a timeout and report back through the queue;
// user messages reach the desk one at a time, in order. Hooks (PreStartChat,
// PreEndChat) run off the queue and may call the session. Events are
// immutable once published: readers must not modify them.
//
// A command returns after it was applied and saved to the Store. Close stops
// the engine without ending chats: a new engine over the same Store resumes
// them through the desk's Reconnect.
//
// # Lifetime
//
// The engine forgets sessions nobody uses and ends chats whose user is
// gone (Options.MaxSessions, ChatlessTTL, IdleTTL, AbandonAfter,
// PresenceAfter, MaxChatDuration), whatever its front end. A front end
// that shows a session to its user holds it with Session.Attach; the
// user's commands count as the user being there, and Session.Touch does
// for other requests. With a shared store, only sessions this engine owns
// are swept.
//
// # Errors
//
// Commands return errors matching ErrNoChat, ErrChatRunning,
// ErrStartCancelled, ErrEndCancelled, ErrNoScreenShareRequest, ErrNotSharing,
// ErrInvalid or ErrClosed; Engine.Session fails with ErrTooManySessions at
// MaxSessions when no session can make room. Desk failures are wrapped once in a
// *servicedesk.Error naming the operation, desk, session and message; they
// become events (an inline error, a failed message status), not command
// errors, because the desk is called after the command returned. A message
// the desk turns away for a while (servicedesk.IsTemporary) is tried again,
// in order, for Options.SendRetryFor before its status says failed. Callbacks
// never fail: a call that does not fit the state is dropped and counted.
// Subscriptions fail with ErrEventsTrimmed when the events a front end asks
// for are no longer kept; it must then reload the transcript from its own
// records.
package flow
