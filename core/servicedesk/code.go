package servicedesk

import (
	"context"
	"errors"
	"net/http"
)

// ErrorCode is the kind of a failure, the same whatever desk, transport or
// front end it came from: the one vocabulary that desks, the desk protocol,
// the gateway and mock-desk map their own codes onto. The zero value is OK.
type ErrorCode int

// The error codes. Each but OK and Unknown has a sentinel error (see Err),
// so errors.Is and CodeOf agree.
const (
	// CodeOK: no error.
	CodeOK ErrorCode = iota
	// CodeUnknown: a failure of no known kind.
	CodeUnknown
	// CodeNoChat: the operation needs a chat with an agent and there is
	// none (ErrNoChat).
	CodeNoChat
	// CodeNotFound: the desk does not know the chat, or no longer lets this
	// customer into it: ended, expired, token refused (ErrChatNotFound).
	CodeNotFound
	// CodeRejected: the desk refused the request; trying it again as it is
	// will not help (ErrRejected).
	CodeRejected
	// CodeRateLimited: the desk asked the caller to slow down
	// (ErrRateLimited).
	CodeRateLimited
	// CodeUnavailable: the desk cannot be reached now; a later try may work
	// (ErrUnavailable).
	CodeUnavailable
	// CodeUnimplemented: the desk does not offer the operation
	// (errors.ErrUnsupported).
	CodeUnimplemented
	// CodeCanceled: the caller gave up (context.Canceled).
	CodeCanceled
	// CodeDeadlineExceeded: the operation ran out of time
	// (context.DeadlineExceeded).
	CodeDeadlineExceeded
)

var codeNames = [...]string{
	CodeOK:               "ok",
	CodeUnknown:          "unknown",
	CodeNoChat:           "no_chat",
	CodeNotFound:         "not_found",
	CodeRejected:         "rejected",
	CodeRateLimited:      "rate_limited",
	CodeUnavailable:      "unavailable",
	CodeUnimplemented:    "unimplemented",
	CodeCanceled:         "canceled",
	CodeDeadlineExceeded: "deadline_exceeded",
}

// String returns the code's snake_case name, e.g. "rate_limited".
func (c ErrorCode) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "unknown"
}

// codeSentinels pairs each code with its sentinel, in the order CodeOf
// tries them: the caller's context first (a cancelled call reports that,
// whatever the desk said), then what the desk said.
var codeSentinels = []struct {
	code ErrorCode
	err  error
}{
	{CodeCanceled, context.Canceled},
	{CodeDeadlineExceeded, context.DeadlineExceeded},
	{CodeNoChat, ErrNoChat},
	{CodeNotFound, ErrChatNotFound},
	{CodeRateLimited, ErrRateLimited},
	{CodeUnavailable, ErrUnavailable},
	{CodeRejected, ErrRejected},
	{CodeUnimplemented, errors.ErrUnsupported},
}

// Err returns the sentinel error of the code (ErrUnavailable for
// CodeUnavailable, context.Canceled for CodeCanceled, ...), nil for CodeOK
// and CodeUnknown. An error type that knows its code returns c.Err() from
// its Unwrap, so that errors.Is matches it.
func (c ErrorCode) Err() error {
	for _, s := range codeSentinels {
		if s.code == c {
			return s.err
		}
	}
	return nil
}

// Coder is implemented by errors that know their code (a desk protocol
// error, a vendor's error answer).
type Coder interface {
	ErrorCode() ErrorCode
}

// HTTPStatuser is implemented by errors that carry the HTTP status of the
// answer they come from. CodeOf falls back to the status when nothing more
// precise is known: a proxy's 502 is unavailable, not unknown.
type HTTPStatuser interface {
	HTTPStatus() int
}

// CodeOf returns the code of err: CodeOK for nil; the code of a sentinel
// it wraps (context errors first); the code an error in its chain reports
// (Coder); the code of an HTTP status in its chain (HTTPStatuser, see
// CodeForStatus); otherwise CodeUnknown.
func CodeOf(err error) ErrorCode {
	if err == nil {
		return CodeOK
	}
	for _, s := range codeSentinels {
		if errors.Is(err, s.err) {
			return s.code
		}
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	var h HTTPStatuser
	if errors.As(err, &h) {
		if code := CodeForStatus(h.HTTPStatus()); code != CodeOK {
			return code
		}
	}
	return CodeUnknown
}

// CodeForStatus maps an HTTP status onto a code: 429 rate limited; 404 and
// 410 not found; 408 and the 5xx but 501 unavailable; 501 unimplemented;
// the other 4xx rejected; anything below 400 OK.
func CodeForStatus(status int) ErrorCode {
	switch {
	case status < 400:
		return CodeOK
	case status == http.StatusTooManyRequests:
		return CodeRateLimited
	case status == http.StatusNotFound || status == http.StatusGone:
		return CodeNotFound
	case status == http.StatusRequestTimeout:
		return CodeUnavailable
	case status == http.StatusNotImplemented:
		return CodeUnimplemented
	case status >= 500:
		return CodeUnavailable
	}
	return CodeRejected
}

// IsTemporary reports whether a later try of the same operation may
// succeed: the desk was unavailable or rate limited, or the operation ran
// out of time.
func IsTemporary(err error) bool {
	switch CodeOf(err) {
	case CodeUnavailable, CodeRateLimited, CodeDeadlineExceeded:
		return true
	}
	return false
}
