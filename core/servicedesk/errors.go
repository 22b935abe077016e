package servicedesk

import (
	"errors"
	"strings"
)

// Sentinel errors. Desks wrap them (fmt.Errorf("...: %w", ErrUnavailable))
// so that the engine and kits can tell kinds of failure apart with errors.Is.
var (
	// ErrNoChat: the operation needs a chat with an agent and there is none.
	ErrNoChat = errors.New("no chat in progress")
	// ErrUnavailable: the desk cannot be reached now; a later try may work.
	ErrUnavailable = errors.New("service desk unavailable")
	// ErrRateLimited: the desk asked the caller to slow down.
	ErrRateLimited = errors.New("service desk rate limit")
	// ErrRejected: the desk refused the request; trying again will not help.
	ErrRejected = errors.New("rejected by the service desk")
	// ErrChatNotFound: the desk does not know the chat (ended or expired).
	ErrChatNotFound = errors.New("chat not found on the service desk")
)

// Error is a failed desk operation, wrapped once with the operation and ids
// by the engine. Use errors.Is and errors.As on it; Err is the cause.
type Error struct {
	// Op is the ServiceDesk or Callback method, e.g. "SendMessageToAgent".
	Op        string
	Desk      string
	SessionID string
	MessageID string
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("servicedesk ")
	if e.Desk != "" {
		b.WriteString(e.Desk)
		b.WriteByte(' ')
	}
	b.WriteString(e.Op)
	if e.SessionID != "" {
		b.WriteString(" session=")
		b.WriteString(e.SessionID)
	}
	if e.MessageID != "" {
		b.WriteString(" message=")
		b.WriteString(e.MessageID)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
