package egain_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// TestConnectionDroppedMidChat drives the kit against mock-desk's eGain
// face and cuts the chat's connections twice while the agent and the
// customer talk: every agent message arrives once and in order, every
// customer message reaches the agent once, and DISCONNECTED is raised
// and cleared around each cut.
func TestConnectionDroppedMidChat(t *testing.T) {
	w := newWorld(t, nil)
	w.desk.SetFaults(mockdesk.Faults{Seed: 3, WS: mockdesk.WSFaults{DuplicateRate: 0.3}})
	rec := &sdtest.Recorder{}
	sd, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, sd.StartChat(ctx, servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}))
	ac, err := w.desk.AwaitChat(ctx)
	require.NoError(t, err)
	require.NoError(t, ac.Join(ctx, servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}))
	count := func(call string) (n int) {
		for _, c := range rec.Calls() {
			if c == call {
				n++
			}
		}
		return n
	}
	await := func(call string, n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); count(call) < n; time.Sleep(5 * time.Millisecond) {
			require.True(t, time.Now().Before(deadline), "waiting for %s ×%d: %v", call, n, rec.Calls())
		}
	}
	await("joined(Ada)", 1)

	var want []string
	say := func(i int) {
		text := fmt.Sprintf("agent %d", i)
		_, err := ac.Say(ctx, servicedesk.TextResponse(text))
		require.NoError(t, err)
		want = append(want, "message("+text+",ada)")
	}
	for round := range 2 {
		say(round*10 + 1)
		await(want[len(want)-1], 1)
		require.NoError(t, w.desk.DropConnections(ctx, ac.ID()))
		say(round*10 + 2) // while the customer side is cut off
		id := fmt.Sprintf("user-%d", round)
		require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest(id), id, servicedesk.AdditionalDataToAgent{}))
		m, err := w.desk.AwaitCustomerMessageInfo(ctx, ac.ID())
		require.NoError(t, err)
		assert.Equal(t, id, m.IdempotencyKey)
		say(round*10 + 3)
		await("error(DISCONNECTED,false,)", round+1)
	}
	require.NoError(t, ac.End(ctx))
	await("ended", 1)
	var got []string
	downs, ups := 0, 0
	for _, c := range rec.Calls() {
		switch c {
		case "error(DISCONNECTED,true,)":
			downs++
		case "error(DISCONNECTED,false,)":
			ups++
		case "joined(Ada)", "ended", "typing(false)":
		default:
			got = append(got, c)
		}
	}
	assert.Equal(t, want, got, "agent messages: each once, in order")
	assert.Equal(t, 2, downs, "DISCONNECTED raised once a cut")
	assert.Equal(t, 2, ups, "and cleared")
	_, err = w.desk.AwaitCustomerMessageInfo(shortCtx(t), ac.ID())
	assert.Error(t, err, "no customer message stored twice")
	_ = sd.(interface{ Close() error }).Close()
}

func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

// TestReconnectAfterRestart: a new desk with the persisted state resumes a
// live chat where the last one stopped (what came meanwhile replayed
// once), and answers false for a chat the agent ended meanwhile.
func TestReconnectAfterRestart(t *testing.T) {
	w := newWorld(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rec := &sdtest.Recorder{}
	sd, err := w.kit.Factory(ctx, servicedesk.FactoryParams{Callback: rec})
	require.NoError(t, err)
	require.NoError(t, sd.StartChat(ctx, servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}))
	ac, err := w.desk.AwaitChat(ctx)
	require.NoError(t, err)
	require.NoError(t, ac.Join(ctx, servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}))
	_, err = ac.Say(ctx, servicedesk.TextResponse("before"))
	require.NoError(t, err)
	rec.Wait(2, 5*time.Second)
	require.NoError(t, sd.(interface{ Close() error }).Close())
	_, err = ac.Say(ctx, servicedesk.TextResponse("meanwhile"))
	require.NoError(t, err)

	rec2 := &sdtest.Recorder{}
	sd2, err := w.kit.Factory(ctx, servicedesk.FactoryParams{Callback: rec2, PersistedState: rec.PersistedState()})
	require.NoError(t, err)
	on, err := sd2.(servicedesk.Reconnector).Reconnect(ctx)
	require.NoError(t, err)
	require.True(t, on, "a live chat resumes")
	assert.Equal(t, []string{"message(meanwhile,ada)"}, rec2.Wait(1, 5*time.Second))
	require.NoError(t, ac.End(ctx))
	rec2.Wait(2, 5*time.Second)
	require.NoError(t, sd2.(interface{ Close() error }).Close())

	// The engine's state: the first desk's, with what the second merged.
	state := rec.State()
	maps.Copy(state, rec2.State())
	raw, err := json.Marshal(state)
	require.NoError(t, err)
	rec3 := &sdtest.Recorder{}
	sd3, err := w.kit.Factory(ctx, servicedesk.FactoryParams{Callback: rec3, PersistedState: raw})
	require.NoError(t, err)
	defer sd3.(interface{ Close() error }).Close()
	on, err = sd3.(servicedesk.Reconnector).Reconnect(ctx)
	require.NoError(t, err)
	assert.False(t, on, "an ended chat does not resume")
	assert.Empty(t, rec3.Calls(), "the end found by a resume is no callback")
}
