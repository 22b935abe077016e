package flow

import (
	"errors"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Errors returned by sessions and stores. Match them with errors.Is.
var (
	// ErrNoChat: the command needs an agent chat and none is running.
	ErrNoChat = servicedesk.ErrNoChat
	// ErrChatRunning: StartChat while a chat is in progress.
	ErrChatRunning = errors.New("flow: a chat is already running")
	// ErrOtherCustomer: the session belongs to another verified customer.
	ErrOtherCustomer = errors.New("flow: the session belongs to another customer")
	// ErrStartCancelled: the pre-start hook cancelled the chat.
	ErrStartCancelled = errors.New("flow: start cancelled by the pre-start hook")
	// ErrEndCancelled: the pre-end hook kept the chat going.
	ErrEndCancelled = errors.New("flow: end cancelled by the pre-end hook")
	// ErrNoScreenShareRequest: an answer without a pending request.
	ErrNoScreenShareRequest = errors.New("flow: no screen share request is pending")
	// ErrNotSharing: StopScreenShare while the screen is not shared.
	ErrNotSharing = errors.New("flow: the screen is not being shared")
	// ErrClosed: the session or engine was closed.
	ErrClosed = errors.New("flow: closed")
	// ErrEventsTrimmed: the events after the requested Seq are no longer kept;
	// the front end must reload the whole transcript from its own records.
	ErrEventsTrimmed = errors.New("flow: events no longer kept")
	// ErrNotFound: the store has no such session.
	ErrNotFound = errors.New("flow: session not found")
	// ErrSeqGap: a store was handed events out of order.
	ErrSeqGap = errors.New("flow: event sequence gap")
	// ErrStoreUnavailable: the store cannot be reached now (a network store
	// down, a closed store); nothing was written.
	ErrStoreUnavailable = errors.New("flow: store unavailable")
	// ErrStoreFull: the store is out of room (a size bound, a full disk).
	ErrStoreFull = errors.New("flow: store full")
	// ErrStateTooLarge: persisted desk state over Options.MaxDeskStateBytes.
	ErrStateTooLarge = errors.New("flow: persisted desk state too large")
	// ErrTooManySessions: Engine.Session for a new session at
	// Options.MaxSessions, with no session without a chat to make room.
	ErrTooManySessions = errors.New("flow: too many sessions")
	// ErrInvalid: a command's arguments are unusable.
	ErrInvalid = errors.New("flow: invalid argument")
)
