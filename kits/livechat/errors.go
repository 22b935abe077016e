package livechat

import (
	"fmt"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Error is LiveChat's answer to a failed request: its error type
// ("too_many_requests", "validation", ...) and message, over RTM or the
// Web API (Status set).
type Error struct {
	Action     string
	Type       string
	Message    string
	Status     int
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("livechat: %s: %s: %s", e.Action, e.Type, e.Message)
}

// ErrorCode maps the error type onto the shared kinds (rtm-reference,
// "Possible errors"; src/constants ERRORS).
func (e *Error) ErrorCode() servicedesk.ErrorCode {
	switch e.Type {
	case "too_many_requests":
		return servicedesk.CodeRateLimited
	case "internal", "service_unavailable", "request_timeout", "pending_requests_limit_reached":
		return servicedesk.CodeUnavailable
	case "not_found", "chat_inactive", "license_not_found":
		return servicedesk.CodeNotFound
	}
	if e.Status >= 500 {
		return servicedesk.CodeUnavailable
	}
	return servicedesk.CodeRejected
}

// Unwrap returns the servicedesk sentinel of the error's kind.
func (e *Error) Unwrap() error { return e.ErrorCode().Err() }

// RetryDelay is the wait before another try of a rate-limited request:
// the answer's Retry-After, else a second (RTM says no more than that the
// limit lifts "after some time").
func (e *Error) RetryDelay() time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	if e.Type == "too_many_requests" {
		return time.Second
	}
	return 0
}

// Reason is the message a person reads.
func (e *Error) Reason() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Type
}
