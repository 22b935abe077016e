package gateway

import (
	"context"
	"fmt"
	"testing"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestCodeOfDeskErrors: a desk's failure reaches the browser in the
// servicedesk vocabulary, not as internal.
func TestCodeOfDeskErrors(t *testing.T) {
	deskErr := func(err error) error {
		return &servicedesk.Error{Op: "AreAnyAgentsOnline", Desk: "rest", SessionID: "s1", Err: err}
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{deskErr(fmt.Errorf("dial: %w", servicedesk.ErrUnavailable)), codeUnavailable},
		{deskErr(servicedesk.ErrRateLimited), codeUnavailable},
		{deskErr(context.DeadlineExceeded), codeTimeout},
		{deskErr(servicedesk.ErrRejected), codeInternal},
		{fmt.Errorf("flow: %w", flow.ErrNoChat), codeNoChat},
		{fmt.Errorf("gateway: %w", errDeadline), codeTimeout},
	} {
		if got := codeOf(tc.err); got != tc.want {
			t.Errorf("codeOf(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
