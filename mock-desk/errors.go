package mockdesk

import (
	"errors"
	"net/http"
	"strings"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
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

// ErrorCode implements servicedesk.Coder: the kind of the protocol code,
// as the desk protocol's clients read it.
func (e *CodeError) ErrorCode() servicedesk.ErrorCode { return deskproto.KindOf(e.Code) }

func codeErr(code string, status int, msg string) *CodeError {
	return &CodeError{Code: code, Status: status, Message: msg}
}

// Protocol errors. The Code is the "code" member of the JSON error body
// ({"error":{"code":…,"message":…}}) on every transport.
var (
	errBadJSON            = codeErr(deskproto.CodeBadJSON, http.StatusBadRequest, "malformed JSON")
	ErrBadRequest         = codeErr(deskproto.CodeBadRequest, http.StatusBadRequest, "bad request")
	ErrUnauthorized       = codeErr(deskproto.CodeUnauthorized, http.StatusUnauthorized, "missing or wrong chat token")
	ErrChatNotFound       = codeErr(deskproto.CodeChatNotFound, http.StatusNotFound, "no such chat")
	errNotFound           = codeErr(deskproto.CodeNotFound, http.StatusNotFound, "no such endpoint")
	errMethodNotAllowed   = codeErr(deskproto.CodeMethodNotAllowed, http.StatusMethodNotAllowed, "method not allowed")
	ErrChatEnded          = codeErr(deskproto.CodeChatEnded, http.StatusConflict, "the chat has ended")
	ErrWrongState         = codeErr(deskproto.CodeWrongState, http.StatusConflict, "not possible in the chat's current state")
	ErrNoAgent            = codeErr(deskproto.CodeNoAgent, http.StatusConflict, "no agent is in the chat")
	ErrIdempotencyReused  = codeErr(deskproto.CodeIdempotencyReused, http.StatusUnprocessableEntity, "idempotency key was used with a different request")
	errBodyTooLarge       = codeErr(deskproto.CodeBodyTooLarge, http.StatusRequestEntityTooLarge, "request body too large")
	ErrFileTooLarge       = codeErr(deskproto.CodeFileTooLarge, http.StatusRequestEntityTooLarge, "file too large")
	ErrFileTypeNotAllowed = codeErr(deskproto.CodeFileTypeNotAllowed, http.StatusUnsupportedMediaType, "file type not allowed")
	ErrUploadsDisabled    = codeErr(deskproto.CodeUploadsNotAllowed, http.StatusForbidden, "file uploads are not allowed in this chat")
	ErrFileRejected       = codeErr(deskproto.CodeFileRejected, http.StatusUnprocessableEntity, "the desk refused the file")
	errTooManyFiles       = codeErr(deskproto.CodeTooManyFiles, http.StatusBadRequest, "too many files in one upload")
	ErrBadCursor          = codeErr(deskproto.CodeBadCursor, http.StatusBadRequest, "cursor is not a sequence number of this chat")
	ErrRateLimited        = codeErr(deskproto.CodeRateLimited, http.StatusTooManyRequests, "too many requests; retry after the Retry-After delay")
	ErrUnavailable        = codeErr(deskproto.CodeUnavailable, http.StatusServiceUnavailable, "the desk is temporarily unavailable")
	ErrMessageRejected    = codeErr(deskproto.CodeRejected, http.StatusUnprocessableEntity, "the desk refused the message")
	ErrNoScreenShare      = codeErr(deskproto.CodeNoScreenShare, http.StatusConflict, "no screen share request is pending or active")
	ErrUnknownAgent       = codeErr(deskproto.CodeAgentNotFound, http.StatusNotFound, "no such agent")
	ErrClosed             = codeErr(deskproto.CodeDeskClosed, http.StatusServiceUnavailable, "the desk is shutting down")
	errControlForbidden   = codeErr(deskproto.CodeUnauthorized, http.StatusForbidden, "the control API answers only its own console and programs on an allowed host")
	errControlToken       = codeErr(deskproto.CodeUnauthorized, http.StatusUnauthorized, "the control API needs Authorization: Bearer <control token>")
	errNotJSON            = codeErr(deskproto.CodeBadRequest, http.StatusUnsupportedMediaType, "the control API takes application/json bodies only")
)

// codeOf returns the CodeError err wraps, or an internal one.
func codeOf(err error) *CodeError {
	var ce *CodeError
	if errors.As(err, &ce) {
		return ce
	}
	return &CodeError{Code: deskproto.CodeInternal, Status: http.StatusInternalServerError, Message: "internal error"}
}

// Reason returns the desk's reason inside an error it returned: the text
// between the last two ": " before the CodeError's message ("File type
// not allowed." of "mockdesk: upload f_1 to chat ch_1: File type not
// allowed.: file type not allowed"), for a face's error message.
func Reason(err error) string {
	msg := err.Error()
	ce := codeOf(err)
	msg = strings.TrimSuffix(msg, ": "+ce.Message)
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// errorBody is err as the protocol's error answer.
func errorBody(err error) deskproto.ErrorBody {
	ce := codeOf(err)
	msg := err.Error()
	if ce.Code == deskproto.CodeInternal {
		msg = ce.Message
	}
	var fe *fileError
	var fileID string
	if errors.As(err, &fe) {
		fileID = fe.fileID
	}
	return deskproto.ErrorBody{Error: deskproto.ErrorDetail{Code: ce.Code, Message: msg, FileID: fileID}}
}

// fileError carries the id of a rejected file next to its reason.
type fileError struct {
	fileID string
	err    error
}

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }
