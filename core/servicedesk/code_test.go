package servicedesk_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

type statusErr int

func (e statusErr) Error() string   { return http.StatusText(int(e)) }
func (e statusErr) HTTPStatus() int { return int(e) }

type codedErr servicedesk.ErrorCode

func (e codedErr) Error() string                    { return "coded" }
func (e codedErr) ErrorCode() servicedesk.ErrorCode { return servicedesk.ErrorCode(e) }
func (e codedErr) Unwrap() error                    { return servicedesk.ErrorCode(e).Err() }

func TestCodeOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want servicedesk.ErrorCode
	}{
		{nil, servicedesk.CodeOK},
		{errors.New("boom"), servicedesk.CodeUnknown},
		{fmt.Errorf("send: %w", servicedesk.ErrUnavailable), servicedesk.CodeUnavailable},
		{fmt.Errorf("send: %w", servicedesk.ErrRateLimited), servicedesk.CodeRateLimited},
		{servicedesk.ErrChatNotFound, servicedesk.CodeNotFound},
		{servicedesk.ErrRejected, servicedesk.CodeRejected},
		{servicedesk.ErrNoChat, servicedesk.CodeNoChat},
		{fmt.Errorf("typing: %w", errors.ErrUnsupported), servicedesk.CodeUnimplemented},
		{context.Canceled, servicedesk.CodeCanceled},
		// The caller's context wins over what the transport made of it.
		{fmt.Errorf("%w: %w", servicedesk.ErrUnavailable, context.DeadlineExceeded), servicedesk.CodeDeadlineExceeded},
		// An HTTP status is the last resort: a proxy's 502 is unavailable.
		{fmt.Errorf("call: %w", statusErr(502)), servicedesk.CodeUnavailable},
		{statusErr(404), servicedesk.CodeNotFound},
		{statusErr(200), servicedesk.CodeUnknown},
		{&servicedesk.Error{Op: "StartChat", Err: codedErr(servicedesk.CodeRateLimited)}, servicedesk.CodeRateLimited},
	} {
		assert.Equal(t, tc.want, servicedesk.CodeOf(tc.err), "CodeOf(%v)", tc.err)
	}
}

func TestCodeForStatus(t *testing.T) {
	want := map[int]servicedesk.ErrorCode{
		200: servicedesk.CodeOK, 304: servicedesk.CodeOK,
		400: servicedesk.CodeRejected, 401: servicedesk.CodeRejected, 403: servicedesk.CodeRejected,
		404: servicedesk.CodeNotFound, 410: servicedesk.CodeNotFound, 408: servicedesk.CodeUnavailable,
		409: servicedesk.CodeRejected, 422: servicedesk.CodeRejected, 429: servicedesk.CodeRateLimited,
		500: servicedesk.CodeUnavailable, 501: servicedesk.CodeUnimplemented, 502: servicedesk.CodeUnavailable,
		503: servicedesk.CodeUnavailable, 504: servicedesk.CodeUnavailable,
	}
	for status, code := range want {
		assert.Equal(t, code, servicedesk.CodeForStatus(status), "status %d", status)
	}
}

// TestCodeErrRoundTrip: every code but OK and Unknown has a sentinel that
// CodeOf maps back to it, and a name.
func TestCodeErrRoundTrip(t *testing.T) {
	for c := servicedesk.CodeOK; c <= servicedesk.CodeDeadlineExceeded; c++ {
		if c == servicedesk.CodeUnknown {
			assert.Nil(t, c.Err())
			continue
		}
		assert.NotEqual(t, "unknown", c.String(), "code %d has no name", int(c))
		if c == servicedesk.CodeOK {
			assert.Nil(t, c.Err())
			continue
		}
		assert.Equal(t, c, servicedesk.CodeOf(c.Err()), "code %s", c)
	}
	assert.Equal(t, "unknown", servicedesk.ErrorCode(99).String())
}

func TestIsTemporary(t *testing.T) {
	assert.True(t, servicedesk.IsTemporary(servicedesk.ErrUnavailable))
	assert.True(t, servicedesk.IsTemporary(servicedesk.ErrRateLimited))
	assert.True(t, servicedesk.IsTemporary(fmt.Errorf("start: %w", context.DeadlineExceeded)))
	assert.True(t, servicedesk.IsTemporary(statusErr(503)))
	assert.False(t, servicedesk.IsTemporary(servicedesk.ErrRejected))
	assert.False(t, servicedesk.IsTemporary(context.Canceled))
	assert.False(t, servicedesk.IsTemporary(nil))
}
