package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestReconnectAfterEngineRestart: the engine restarts over the same store;
// the kit finds the chat again from its persisted state, and messages go on
// both ways.
func TestReconnectAfterEngineRestart(t *testing.T, features Features, maker HarnessMaker) {
	requires(t, features.Reconnect, "Reconnect")
	f := newFixture(t, maker)
	chat := f.join(ada)
	id, err := f.s.SendText(f.ctx, "before the restart")
	require.NoError(f.t, err, "send")
	m, err := chat.AwaitMessage(f.ctx)
	require.NoError(f.t, err, "desk: await message")
	require.Equal(f.t, id, m.ID, "the desk's message %+v", m)
	f.await("sent", func(ev flow.Event) bool { return ev.Type == flow.EventMessageStatus && ev.MessageID == id })
	rec, err := f.store.Load(f.ctx, sessionID)
	require.NoError(f.t, err, "load record")
	require.NotContains(f.t, []string{"", "{}"}, string(rec.DeskState), "the kit persisted no state: a restart cannot find the chat")
	f.restart()
	f.await("reconnected", isState(flow.StateConnected))
	id2, err := f.s.SendText(f.ctx, "after the restart")
	require.NoError(f.t, err, "send after restart")
	m, err = chat.AwaitMessage(f.ctx)
	require.NoError(f.t, err, "desk: await message after restart")
	require.Equal(f.t, id2, m.ID, "the desk's message after the restart %+v", m)
	require.NoError(f.t, chat.Say(f.ctx, servicedesk.TextResponse("Welcome back")), "say")
	am := f.await("agent message after restart", isType(flow.EventAgentMessage))
	require.Equal(f.t, "Welcome back", am.Message.PlainText(), "the agent's message after the restart")
}
