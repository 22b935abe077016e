package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestScreenShareAccepted: the agent asks to see the screen and the user
// accepts; the desk learns it.
func TestScreenShareAccepted(t *testing.T, features Features, maker HarnessMaker) {
	requires(t, features.ScreenShare, "ScreenShare")
	newFixture(t, maker).screenShare(true)
}

// TestScreenShareDeclined: the agent asks to see the screen and the user
// declines; the desk learns it.
func TestScreenShareDeclined(t *testing.T, features Features, maker HarnessMaker) {
	requires(t, features.ScreenShare, "ScreenShare")
	newFixture(t, maker).screenShare(false)
}

func (f *fixture) screenShare(accept bool) {
	chat := f.join(ada)
	require.NoError(f.t, chat.RequestScreenShare(f.ctx), "request screen share")
	f.await("screen share requested", func(ev flow.Event) bool {
		return ev.Type == flow.EventScreenShare && ev.ScreenShare == flow.ScreenShareRequested
	})
	require.NoError(f.t, f.s.AnswerScreenShare(f.ctx, accept), "answer")
	got, err := chat.AwaitScreenShare(f.ctx)
	require.NoError(f.t, err, "desk: await screen share answer")
	want := servicedesk.ScreenShareDeclined
	if accept {
		want = servicedesk.ScreenShareAccepted
	}
	require.Equal(f.t, want, got, "the screen share answer at the desk")
}

// TestScreenShareCancelledByAgent: the agent withdraws a screen share
// request before the user answers.
func TestScreenShareCancelledByAgent(t *testing.T, features Features, maker HarnessMaker) {
	requires(t, features.ScreenShare, "ScreenShare")
	f := newFixture(t, maker)
	chat := f.join(ada)
	require.NoError(f.t, chat.RequestScreenShare(f.ctx), "request screen share")
	f.await("requested", func(ev flow.Event) bool {
		return ev.Type == flow.EventScreenShare && ev.ScreenShare == flow.ScreenShareRequested
	})
	require.NoError(f.t, chat.CancelScreenShare(f.ctx), "cancel")
	f.await("cancelled", func(ev flow.Event) bool {
		return ev.Type == flow.EventScreenShare && ev.ScreenShare == flow.ScreenShareCancelled
	})
	require.ErrorIs(f.t, f.s.AnswerScreenShare(f.ctx, true), flow.ErrNoScreenShareRequest, "answer after cancel")
}

// TestScreenShareStoppedByUser: the user stops sharing; the desk learns it
// ended.
func TestScreenShareStoppedByUser(t *testing.T, features Features, maker HarnessMaker) {
	requires(t, features.ScreenShare, "ScreenShare")
	f := newFixture(t, maker)
	f.screenShare(true)
	chat := f.lastChat
	require.NoError(f.t, f.s.StopScreenShare(f.ctx), "stop sharing")
	got, err := chat.AwaitScreenShare(f.ctx)
	require.NoError(f.t, err, "desk: await stop")
	require.Equal(f.t, servicedesk.ScreenShareEnded, got, "the desk after the user stopped sharing")
}
