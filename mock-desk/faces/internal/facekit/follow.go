package facekit

import (
	"context"
	"errors"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// FollowChat hands each of cc's events to see, in seq order and once,
// for a face that pushes them over webhooks of its own: after
// DropConnections cut the chat off it follows again from the last event
// seen (waiting retry between tries), until the chat's events are all
// read after it ended, the chat is gone, the desk closes, or ctx ends.
func FollowChat(ctx context.Context, cc *mockdesk.CustomerChat, retry time.Duration, see func(deskproto.Event)) {
	var seq uint64
	for ctx.Err() == nil {
		fl, err := cc.Follow(ctx, seq)
		if errors.Is(err, mockdesk.ErrChatNotFound) {
			return
		}
		for err == nil {
			var evs []deskproto.Event
			evs, err = fl.Next(ctx)
			for _, ev := range evs {
				see(ev)
			}
			seq = fl.Seq()
		}
		if errors.Is(err, mockdesk.ErrChatEnded) || errors.Is(err, mockdesk.ErrClosed) {
			return
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
