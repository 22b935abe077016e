package nice

import (
	"fmt"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/nice/internal/wire"
)

// Error is the gateway's answer to a refused event: its errorCode and
// errorMessage (the SDK's error frame).
type Error struct {
	EventType     string
	Code          string
	Message       string
	TransactionID string
}

func frameError(eventType string, e *wire.Error) *Error {
	return &Error{EventType: eventType, Code: e.Code, Message: e.Message, TransactionID: e.TransactionID}
}

func (e *Error) Error() string {
	return fmt.Sprintf("nice: %s: %s: %s", e.EventType, e.Code, e.Message)
}

// ErrorCode maps the error code onto the shared kinds. An authorization
// refused is temporary: the next connection authorizes anew.
func (e *Error) ErrorCode() servicedesk.ErrorCode {
	switch e.Code {
	case "TooManyRequests", "RateLimited":
		return servicedesk.CodeRateLimited
	case "ServiceUnavailable", "InternalServerError", "InternalError", "GatewayTimeout":
		return servicedesk.CodeUnavailable
	case "NotFound", "ThreadNotFound", "ContactNotFound", "ContactClosed", "RecoveringLivechatFailed", "RecoveringThreadFailed":
		return servicedesk.CodeNotFound
	}
	if e.authorization() {
		return servicedesk.CodeUnavailable
	}
	return servicedesk.CodeRejected
}

// authorization reports whether the customer's token or code was refused.
func (e *Error) authorization() bool {
	return e.Code == "AuthorizationFailed" || e.Code == "Unauthorized" || e.Code == "TokenExpired"
}

// Unwrap returns the servicedesk sentinel of the error's kind.
func (e *Error) Unwrap() error { return e.ErrorCode().Err() }

// Reason is the message a person reads.
func (e *Error) Reason() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Code
}
