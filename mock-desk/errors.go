package mockdesk

import (
	"errors"
	"net/http"
)

// CodeError is a protocol error: a stable machine code, the HTTP status it
// maps to, and a default message. Errors returned by the desk wrap one of
// the Err… values below; match them with errors.Is.
type CodeError struct {
	Code    string
	Status  int
	Message string
}

func (e *CodeError) Error() string { return e.Message }

func codeErr(code string, status int, msg string) *CodeError {
	return &CodeError{Code: code, Status: status, Message: msg}
}

// Protocol errors. The Code is the "code" member of the JSON error body
// ({"error":{"code":…,"message":…}}) on every transport.
var (
	ErrBadJSON            = codeErr("bad_json", http.StatusBadRequest, "malformed JSON")
	ErrBadRequest         = codeErr("bad_request", http.StatusBadRequest, "bad request")
	ErrUnauthorized       = codeErr("unauthorized", http.StatusUnauthorized, "missing or wrong chat token")
	ErrChatNotFound       = codeErr("chat_not_found", http.StatusNotFound, "no such chat")
	ErrNotFound           = codeErr("not_found", http.StatusNotFound, "no such endpoint")
	ErrMethodNotAllowed   = codeErr("method_not_allowed", http.StatusMethodNotAllowed, "method not allowed")
	ErrChatEnded          = codeErr("chat_ended", http.StatusConflict, "the chat has ended")
	ErrWrongState         = codeErr("wrong_state", http.StatusConflict, "not possible in the chat's current state")
	ErrNoAgent            = codeErr("no_agent", http.StatusConflict, "no agent is in the chat")
	ErrIdempotencyReused  = codeErr("idempotency_key_reused", http.StatusUnprocessableEntity, "idempotency key was used with a different request")
	ErrBodyTooLarge       = codeErr("body_too_large", http.StatusRequestEntityTooLarge, "request body too large")
	ErrFileTooLarge       = codeErr("file_too_large", http.StatusRequestEntityTooLarge, "file too large")
	ErrFileTypeNotAllowed = codeErr("file_type_not_allowed", http.StatusUnsupportedMediaType, "file type not allowed")
	ErrUploadsDisabled    = codeErr("uploads_not_allowed", http.StatusForbidden, "file uploads are not allowed in this chat")
	ErrFileRejected       = codeErr("file_rejected", http.StatusUnprocessableEntity, "the desk refused the file")
	ErrTooManyFiles       = codeErr("too_many_files", http.StatusBadRequest, "too many files in one upload")
	ErrBadCursor          = codeErr("bad_cursor", http.StatusBadRequest, "cursor is not a sequence number of this chat")
	ErrRateLimited        = codeErr("rate_limited", http.StatusTooManyRequests, "too many requests; retry after the Retry-After delay")
	ErrUnavailable        = codeErr("unavailable", http.StatusServiceUnavailable, "the desk is temporarily unavailable")
	ErrMessageRejected    = codeErr("message_rejected", http.StatusUnprocessableEntity, "the desk refused the message")
	ErrNoScreenShare      = codeErr("no_screen_share", http.StatusConflict, "no screen share request is pending or active")
	ErrUnknownAgent       = codeErr("agent_not_found", http.StatusNotFound, "no such agent")
	ErrClosed             = codeErr("desk_closed", http.StatusServiceUnavailable, "the desk is shutting down")
)

// codeOf returns the CodeError err wraps, or an internal one.
func codeOf(err error) *CodeError {
	var ce *CodeError
	if errors.As(err, &ce) {
		return ce
	}
	return &CodeError{Code: "internal", Status: http.StatusInternalServerError, Message: "internal error"}
}

// ErrorBody is the JSON error shape of every transport.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// FileID names the rejected file of an upload.
	FileID string `json:"file_id,omitempty"`
	// RetryAfter, in seconds, is how long to wait before resending, on
	// WebSocket error frames with code rate_limited or unavailable (HTTP
	// answers carry the Retry-After header instead).
	RetryAfter int `json:"retry_after,omitempty"`
}

func errorBody(err error) ErrorBody {
	ce := codeOf(err)
	msg := err.Error()
	if ce.Code == "internal" {
		msg = ce.Message
	}
	var fe *fileError
	var fileID string
	if errors.As(err, &fe) {
		fileID = fe.fileID
	}
	return ErrorBody{Error: ErrorDetail{Code: ce.Code, Message: msg, FileID: fileID}}
}

// fileError carries the id of a rejected file next to its reason.
type fileError struct {
	fileID string
	err    error
}

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }
