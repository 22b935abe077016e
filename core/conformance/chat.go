package conformance

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func richResponse() servicedesk.MessageResponse {
	return servicedesk.NewResponse(
		servicedesk.TextItem("Hi, I'm **Ada**. See [the policy](https://example.com/policy)."),
		servicedesk.ImageItem("https://example.com/receipt.png", "Your receipt"),
		servicedesk.LinkButtonItem("Open the form", "https://example.com/form"),
	)
}

// TestFullConversation: a whole chat: the summary reaches the agent, queue
// and wait updates, the agent joins, messages both ways with their ids,
// typing and read receipts both ways (as declared), the user ends it.
func TestFullConversation(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	chat := f.start()
	assert.Contains(f.t, chat.Summary(), Summary, "the agent's summary lacks the transfer_info summary")
	if features.QueuePosition {
		for _, pos := range []int{2, 1} {
			require.NoError(f.t, chat.QueueUpdate(f.ctx, pos, -1), "queue update")
			// A desk may send queue updates of its own (the position it
			// computed at the start): wait for the one the agent set.
			f.await(fmt.Sprintf("queue position %d", pos), func(ev flow.Event) bool {
				if ev.Type != flow.EventQueueUpdate || ev.Availability == nil {
					return false
				}
				p := ev.Availability.PositionInQueue
				return p != nil && *p == float64(pos)
			})
		}
	}
	if features.WaitTime {
		require.NoError(f.t, chat.QueueUpdate(f.ctx, -1, 3), "wait update")
		ev := f.await("wait time", isType(flow.EventQueueUpdate))
		require.NotNil(f.t, ev.Availability.EstimatedWaitTime, "wait update %+v", ev.Availability)
		require.Equal(f.t, 3.0, *ev.Availability.EstimatedWaitTime, "wait update, in minutes")
	}
	require.NoError(f.t, chat.Join(f.ctx, ada), "agent joins")
	joined := f.await("agent joined", isType(flow.EventAgentJoined))
	require.Equal(f.t, ada, *joined.Profile, "joined profile")
	f.await("connected", isState(flow.StateConnected))

	id, err := f.s.SendText(f.ctx, "My card was declined")
	require.NoError(f.t, err, "send")
	msg, err := chat.AwaitMessage(f.ctx)
	require.NoError(f.t, err, "desk: await message")
	require.Equal(f.t, "My card was declined", msg.Text, "the desk's message")
	require.Equal(f.t, id, msg.ID, "the desk's message id is the engine's")
	f.await("message sent", func(ev flow.Event) bool {
		return ev.Type == flow.EventMessageStatus && ev.MessageID == id && ev.Status == flow.MessageSent
	})

	require.NoError(f.t, chat.Say(f.ctx, richResponse()), "agent says")
	am := f.await("agent message", isType(flow.EventAgentMessage))
	want := richResponse().Output.Generic
	got := am.Message.Output.Generic
	require.Len(f.t, got, len(want), "items of the agent's message")
	for i := range want {
		g, w := got[i], want[i]
		assert.Equal(f.t, []string{string(w.ResponseType), w.Text, w.Source, w.URL, w.Label},
			[]string{string(g.ResponseType), g.Text, g.Source, g.URL, g.Label}, "item %d: type, text, source, url, label", i)
	}
	if assert.NotNil(f.t, am.Profile, "agent message profile") {
		assert.Equal(f.t, ada.ID, am.Profile.ID, "agent message profile")
	}
	if features.AgentTyping {
		require.NoError(f.t, chat.Typing(f.ctx, true), "agent typing")
		ev := f.await("agent typing", isType(flow.EventAgentTyping))
		require.True(f.t, *ev.Typing, "typing event says not typing")
	}
	if features.UserTyping {
		require.NoError(f.t, f.s.UserTyping(f.ctx, true), "user typing")
		on, err := chat.AwaitTyping(f.ctx)
		require.NoError(f.t, err, "desk: await typing")
		require.True(f.t, on, "desk saw typing stop, want start")
	}
	if features.AgentRead {
		require.NoError(f.t, chat.Read(f.ctx), "agent read")
		f.await("agent read", isType(flow.EventAgentRead))
	}
	if features.UserRead {
		require.NoError(f.t, f.s.UserRead(f.ctx), "user read")
		require.NoError(f.t, chat.AwaitRead(f.ctx), "desk: await read")
	}
	require.NoError(f.t, f.s.EndChat(f.ctx, flow.EndOptions{}), "user ends")
	require.NoError(f.t, chat.AwaitEnded(f.ctx), "desk: await end")
	ended := f.await("chat ended", isType(flow.EventChatEnded))
	require.Equal(f.t, flow.EndByUser, ended.Reason, "end reason")
}

// TestAnotherChatInTheSameSession: a user who talked to an agent asks for one again later in
// the same session; the engine reuses the session's desk.
func TestAnotherChatInTheSameSession(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	for round := range 2 {
		chat := f.join(ada)
		id, err := f.s.SendText(f.ctx, fmt.Sprintf("question %d", round))
		require.NoError(f.t, err, "send")
		m, err := chat.AwaitMessage(f.ctx)
		if err != nil {
			f.t.Fatalf("chat %d: desk: await message %s: %v (events: %s)", round, id, err, f.all())
		}
		require.Equal(f.t, id, m.ID, "chat %d: the desk's message %+v", round, m)
		require.NoError(f.t, chat.Say(f.ctx, servicedesk.TextResponse(fmt.Sprintf("answer %d", round))), "say")
		am := f.await("agent message", isType(flow.EventAgentMessage))
		require.Equal(f.t, fmt.Sprintf("answer %d", round), am.Message.PlainText(), "chat %d: what the user saw", round)
		if round == 0 {
			require.NoError(f.t, chat.End(f.ctx), "agent ends the first chat")
		} else {
			require.NoError(f.t, f.s.EndChat(f.ctx, flow.EndOptions{}), "user ends the second chat")
		}
		f.await("chat ended", isType(flow.EventChatEnded))
		f.await("ended", isState(flow.StateEnded))
	}
}

// TestAgentEnds: the agent ends the chat; the user sees it ended by the
// agent.
func TestAgentEnds(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	chat := f.join(ada)
	require.NoError(f.t, chat.End(f.ctx), "agent ends")
	ended := f.await("chat ended", isType(flow.EventChatEnded))
	require.Equal(f.t, flow.EndByAgent, ended.Reason, "chat_ended %+v", ended)
	require.True(f.t, ended.EndedByAgent, "chat_ended %+v", ended)
}

// TestAgentLeavesThenAnotherJoins: the agent leaves, another joins the same
// chat, and messages go on with the new agent.
func TestAgentLeavesThenAnotherJoins(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	chat := f.join(ada)
	require.NoError(f.t, chat.Leave(f.ctx), "agent leaves")
	f.await("agent left", isType(flow.EventAgentLeft))
	require.NoError(f.t, chat.Join(f.ctx, grace), "another agent joins")
	ev := f.await("second agent", isType(flow.EventAgentJoined))
	require.Equal(f.t, grace.ID, ev.Profile.ID, "the second agent")
	id, err := f.s.SendText(f.ctx, "still there?")
	require.NoError(f.t, err, "send")
	msg, err := chat.AwaitMessage(f.ctx)
	require.NoError(f.t, err, "desk: await message")
	require.Equal(f.t, id, msg.ID, "the desk's message %+v", msg)
	require.NoError(f.t, chat.Say(f.ctx, servicedesk.TextResponse("Grace here.")), "say")
	am := f.await("message from grace", isType(flow.EventAgentMessage))
	require.NotNil(f.t, am.Profile, "profile of grace's message")
	require.Equal(f.t, grace.ID, am.Profile.ID, "profile of grace's message")
}

// TestTransfer: the agent transfers the chat; the user sees the transfer and
// the new agent.
func TestTransfer(t *testing.T, features Features, maker HarnessMaker) {
	requires(t, features.Transfer, "Transfer")
	f := newFixture(t, maker)
	chat := f.join(ada)
	require.NoError(f.t, chat.Transfer(f.ctx, grace), "transfer")
	f.await("transfer", isType(flow.EventTransfer))
	ev := f.await("new agent", isType(flow.EventAgentJoined))
	require.Equal(f.t, grace.ID, ev.Profile.ID, "the agent after the transfer")
	f.await("connected", isState(flow.StateConnected))
}

// TestStartRefused: the desk refuses the chat; the user sees a connecting
// error and the chat ends.
func TestStartRefused(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	require.NoError(f.t, f.h.Desk.RefuseNextChat(f.ctx, "All our agents are offline"), "refuse next chat")
	require.NoError(f.t, f.s.StartChat(f.ctx, ConnectMessage(), flow.StartOptions{}), "start chat")
	ev := f.await("connecting error", isType(flow.EventError))
	require.Equal(f.t, servicedesk.ErrorConnecting, ev.ErrorType, "error %+v", ev)
	require.NotEmpty(f.t, ev.Text, "the connecting error's text")
	f.await("ended", isState(flow.StateEnded))
}

// TestUserMessageFails: the desk refuses one user message; it is reported
// failed and the chat goes on.
func TestUserMessageFails(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	chat := f.join(ada)
	require.NoError(f.t, chat.RejectNextMessage(f.ctx, "Message refused"), "reject next message")
	id, err := f.s.SendText(f.ctx, "this one fails")
	require.NoError(f.t, err, "send")
	ev := f.await("message failed", func(ev flow.Event) bool {
		return ev.Type == flow.EventMessageStatus && ev.MessageID == id
	})
	require.Equal(f.t, flow.MessageFailed, ev.Status, "status of %s", id)
	// The chat goes on.
	id2, err := f.s.SendText(f.ctx, "this one works")
	require.NoError(f.t, err, "send")
	for {
		msg, err := chat.AwaitMessage(f.ctx)
		require.NoError(f.t, err, "desk: await message")
		if msg.ID == id2 {
			break
		}
		if msg.ID != id || !msg.Rejected {
			f.t.Fatalf("desk got %+v", msg)
		}
	}
}
