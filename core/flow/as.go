package flow

import (
	"context"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// As fills target from the session's desk (see servicedesk.As): a Go host
// reaches what only its kit knows, such as the Amazon Connect contact,
// without parsing Record.DeskState. It runs on the session's queue, so it
// waits for the commands before it, up to ctx. It answers false when the
// session has no desk, or the desk has nothing of target's type.
func (s *Session) As(ctx context.Context, target any) bool {
	var ok bool
	err := s.call(ctx, func() error {
		ok = s.desk != nil && servicedesk.As(s.desk, target)
		return nil
	})
	return err == nil && ok
}
