package vendorkit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// fakeVendor takes a message or loses the answer; it remembers what it
// took.
type fakeVendor struct {
	fail    []error // the answers of the first tries
	taken   int
	lookups int
}

func (v *fakeVendor) send(context.Context) error {
	if len(v.fail) > 0 {
		err := v.fail[0]
		v.fail = v.fail[1:]
		if errors.Is(err, servicedesk.ErrUnavailable) {
			v.taken++ // processed, but the answer was lost
		}
		return err
	}
	v.taken++
	return nil
}

func (v *fakeVendor) sent(context.Context) (bool, error) {
	v.lookups++
	return v.taken > 0, nil
}

func TestResend(t *testing.T) {
	p := retry.Policy{Backoff: retry.Backoff{Min: time.Millisecond, Max: time.Millisecond}, Retries: 3}
	unknown := func(err error) bool { return servicedesk.CodeOf(err) == servicedesk.CodeUnavailable }

	v := &fakeVendor{fail: []error{servicedesk.ErrUnavailable}}
	assert.NoError(t, vendorkit.Resend(context.Background(), p, unknown, v.sent, v.send))
	assert.Equal(t, 1, v.taken, "the lookup found the message: not sent twice")
	assert.Equal(t, 1, v.lookups)

	v = &fakeVendor{fail: []error{servicedesk.ErrRateLimited}}
	assert.NoError(t, vendorkit.Resend(context.Background(), p, unknown, v.sent, v.send))
	assert.Equal(t, 1, v.taken)
	assert.Zero(t, v.lookups, "a refused try is sent again without a lookup")

	v = &fakeVendor{fail: []error{servicedesk.ErrUnavailable}}
	assert.NoError(t, vendorkit.Resend(context.Background(), p, unknown, nil, v.send))
	assert.Equal(t, 2, v.taken, "without a lookup the message is sent again")

	v = &fakeVendor{fail: []error{servicedesk.ErrRejected}}
	assert.ErrorIs(t, vendorkit.Resend(context.Background(), p, unknown, v.sent, v.send), servicedesk.ErrRejected)
	assert.Zero(t, v.taken)
}
