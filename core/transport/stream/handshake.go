package stream

import (
	"errors"
	"fmt"
)

// HandshakeError is a WebSocket handshake the server answered with an
// HTTP status other than 101: a kit tells a refused session (401, 403)
// from a passing outage (503) by Status.
type HandshakeError struct {
	// Status is the server's HTTP status.
	Status int
	url    string
	err    error
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("stream: dial %s: %v (HTTP %d)", e.url, e.err, e.Status)
}

func (e *HandshakeError) Unwrap() error { return e.err }

// HandshakeStatus returns the HTTP status of the refused handshake err
// holds, if it holds one (a Socket's OnState error of a failed dial).
func HandshakeStatus(err error) (status int, ok bool) {
	var he *HandshakeError
	if errors.As(err, &he) {
		return he.Status, true
	}
	return 0, false
}
