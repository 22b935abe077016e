package deskproto

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// The error codes of the protocol (docs/desk-protocol.md, "Errors"): the
// "code" member of every error answer, on every transport.
const (
	CodeBadJSON            = "bad_json"
	CodeBadRequest         = "bad_request"
	CodeUnauthorized       = "unauthorized"
	CodeChatNotFound       = "chat_not_found"
	CodeNotFound           = "not_found"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeChatEnded          = "chat_ended"
	CodeWrongState         = "wrong_state"
	CodeNoAgent            = "no_agent"
	CodeIdempotencyReused  = "idempotency_key_reused"
	CodeBodyTooLarge       = "body_too_large"
	CodeFileTooLarge       = "file_too_large"
	CodeFileTypeNotAllowed = "file_type_not_allowed"
	CodeUploadsNotAllowed  = "uploads_not_allowed"
	CodeFileRejected       = "file_rejected"
	CodeTooManyFiles       = "too_many_files"
	CodeBadCursor          = "bad_cursor"
	CodeRateLimited        = "rate_limited"
	CodeUnavailable        = "unavailable"
	CodeRejected           = "message_rejected"
	CodeNoScreenShare      = "no_screen_share"
	CodeAgentNotFound      = "agent_not_found"
	CodeDeskClosed         = "desk_closed"
	CodeTimeout            = "timeout"
	CodeInternal           = "internal"
)

// codeKinds maps the protocol's codes onto the servicedesk vocabulary. A
// code missing here (a newer desk's) falls back to its HTTP status.
var codeKinds = map[string]servicedesk.ErrorCode{
	CodeBadJSON:            servicedesk.CodeRejected,
	CodeBadRequest:         servicedesk.CodeRejected,
	CodeUnauthorized:       servicedesk.CodeNotFound, // the chat token no longer opens the chat
	CodeChatNotFound:       servicedesk.CodeNotFound,
	CodeNotFound:           servicedesk.CodeUnimplemented, // no such endpoint
	CodeMethodNotAllowed:   servicedesk.CodeUnimplemented,
	CodeChatEnded:          servicedesk.CodeNotFound,
	CodeWrongState:         servicedesk.CodeRejected,
	CodeNoAgent:            servicedesk.CodeNoChat,
	CodeIdempotencyReused:  servicedesk.CodeRejected,
	CodeBodyTooLarge:       servicedesk.CodeRejected,
	CodeFileTooLarge:       servicedesk.CodeRejected,
	CodeFileTypeNotAllowed: servicedesk.CodeRejected,
	CodeUploadsNotAllowed:  servicedesk.CodeRejected,
	CodeFileRejected:       servicedesk.CodeRejected,
	CodeTooManyFiles:       servicedesk.CodeRejected,
	CodeBadCursor:          servicedesk.CodeRejected,
	CodeRateLimited:        servicedesk.CodeRateLimited,
	CodeUnavailable:        servicedesk.CodeUnavailable,
	CodeRejected:           servicedesk.CodeRejected,
	CodeNoScreenShare:      servicedesk.CodeRejected,
	CodeAgentNotFound:      servicedesk.CodeRejected,
	CodeDeskClosed:         servicedesk.CodeUnavailable,
	CodeTimeout:            servicedesk.CodeUnavailable,
	CodeInternal:           servicedesk.CodeUnavailable,
}

// KindOf returns the servicedesk code of a protocol error code, or
// CodeUnknown for a code the protocol does not define.
func KindOf(code string) servicedesk.ErrorCode {
	if k, ok := codeKinds[code]; ok {
		return k
	}
	return servicedesk.CodeUnknown
}

// Error is the protocol's error as a Go error: an ErrorDetail with the
// HTTP status (0 over WebSocket) and any Retry-After.
type Error struct {
	Status     int
	Code       string
	Message    string
	FileID     string
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("desk answered %d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("desk answered %s: %s", e.Code, e.Message)
}

// ErrorCode implements servicedesk.Coder: the kind of the protocol code,
// or, for a code the protocol does not define (a proxy's error page), the
// kind of the HTTP status.
func (e *Error) ErrorCode() servicedesk.ErrorCode {
	if k := KindOf(e.Code); k != servicedesk.CodeUnknown {
		return k
	}
	if k := servicedesk.CodeForStatus(e.Status); k != servicedesk.CodeOK {
		return k
	}
	return servicedesk.CodeUnknown
}

// RetryDelay implements retry.Delayer: the desk's Retry-After.
func (e *Error) RetryDelay() time.Duration { return e.RetryAfter }

// HTTPStatus implements servicedesk.HTTPStatuser.
func (e *Error) HTTPStatus() int { return e.Status }

// Unwrap returns the sentinel of the error's code, so callers can test
// with errors.Is(err, servicedesk.ErrChatNotFound) and friends, and
// servicedesk.IsTemporary tells whether to try again.
func (e *Error) Unwrap() error { return e.ErrorCode().Err() }

// decodeError reads an error body; a body that is not the protocol's shape
// still yields an *Error with the status.
func decodeError(status int, body []byte) *Error {
	var env ErrorBody
	if err := json.Unmarshal(body, &env); err != nil || env.Error.Code == "" {
		msg := string(body)
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return &Error{Status: status, Code: http.StatusText(status), Message: msg}
	}
	e := env.Error.AsError(status)
	e.RetryAfter = 0 // HTTP answers carry the Retry-After header
	return e
}

// ErrClosed is returned by a Desk's methods after Close.
var ErrClosed = errors.New("deskproto: desk closed")
