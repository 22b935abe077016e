package oracle_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/kits/oracle"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	oracleface "github.com/deskbridge/deskbridge/mock-desk/faces/oracle"
)

// count is how many times rec saw call.
func count(rec *sdtest.Recorder, call string) int {
	n := 0
	for _, c := range rec.Calls() {
		if c == call {
			n++
		}
	}
	return n
}

func await(t *testing.T, rec *sdtest.Recorder, call string, n int) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); count(rec, call) < n; time.Sleep(5 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "waiting for %s ×%d: %v", call, n, rec.Calls())
	}
}

// TestDroppedAndStalledGetMessages drives the kit against mock-desk's
// Oracle face: mid-chat the held getMessages is dropped without an answer
// twice (the customer side cut off a while each time) and, between the
// drops, getMessages stalls (held for the whole wait and answered empty)
// half the time. Every agent message arrives once and in order, every
// customer message reaches the agent once, DISCONNECTED is raised and
// cleared around each drop, and never is more than one getMessages of
// the session in flight.
func TestDroppedAndStalledGetMessages(t *testing.T) {
	w := newWorld(t, oracleface.Options{Hold: 500 * time.Millisecond}, nil)
	w.desk.SetFaults(mockdesk.Faults{Seed: 5, Poll: mockdesk.PollFaults{StallRate: 0.5}})
	rec := &sdtest.Recorder{}
	sd, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec})
	require.NoError(t, err)
	defer sd.(interface{ Close() error }).Close()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	require.NoError(t, sd.StartChat(ctx, servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}))
	var sess oracle.Session
	require.True(t, servicedesk.As(sd, &sess), "the engagement behind the chat")
	ac, err := w.desk.AwaitChat(ctx)
	require.NoError(t, err)
	require.NoError(t, ac.Join(ctx, servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}))
	await(t, rec, "joined(Ada)", 1)

	var want []string
	say := func(i int) {
		text := fmt.Sprintf("agent %d", i)
		_, err := ac.Say(ctx, servicedesk.TextResponse(text))
		require.NoError(t, err)
		want = append(want, "message("+text+",ada)")
	}
	var sent []string
	for round := range 2 {
		say(round*10 + 1)
		await(t, rec, want[len(want)-1], 1)
		require.NoError(t, w.desk.DropConnections(ctx, ac.ID()))
		say(round*10 + 2) // while the customer side is cut off
		id := fmt.Sprintf("user-%d", round)
		require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest(id), id, servicedesk.AdditionalDataToAgent{}))
		sent = append(sent, id)
		say(round*10 + 3)
		await(t, rec, "error(DISCONNECTED,false,)", round+1)
		say(round*10 + 4)
	}
	await(t, rec, want[len(want)-1], 1)
	require.NoError(t, ac.End(ctx))
	await(t, rec, "ended", 1)

	var got []string
	downs, ups := 0, 0
	for _, c := range rec.Calls() {
		switch c {
		case "error(DISCONNECTED,true,)":
			downs++
		case "error(DISCONNECTED,false,)":
			ups++
		case "joined(Ada)", "ended", "typing(false)", "typing(true)":
		default:
			if strings.HasPrefix(c, "queue(") {
				continue
			}
			got = append(got, c)
		}
	}
	assert.Equal(t, want, got, "agent messages: each once, in order")
	assert.Equal(t, 2, downs, "DISCONNECTED raised once a drop")
	assert.Equal(t, 2, ups, "and cleared")
	var stored []string
	for range sent {
		m, err := w.desk.AwaitCustomerMessageInfo(ctx, ac.ID())
		require.NoError(t, err)
		stored = append(stored, m.Request.ID)
	}
	assert.Equal(t, sent, stored, "customer messages stored in order, under the engine's ids")
	short, stop := context.WithTimeout(ctx, 300*time.Millisecond)
	defer stop()
	_, err = w.desk.AwaitCustomerMessageInfo(short, ac.ID())
	assert.Error(t, err, "no customer message stored twice")
	assert.Equal(t, 1, w.face.PeakGetMessages(sess.SessionID), "exactly one getMessages in flight at a time")
	n := w.desk.FaultCounts()
	assert.Positive(t, n["poll_stall"], "stalls were injected: %v", n)
}

// TestReconnectAfterRestart: a new desk with the persisted state resumes a
// live engagement where the last one stopped (what came meanwhile once),
// and answers false for one the agent concluded meanwhile.
func TestReconnectAfterRestart(t *testing.T) {
	w := newWorld(t, oracleface.Options{}, nil)
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
	await(t, rec, "message(before,ada)", 1)
	require.NoError(t, sd.(interface{ Close() error }).Close())
	// getMessages has no cursor of the client's: a message the server hands
	// out on the request the closed desk gave up on, before the server saw
	// the connection go, is not handed out again (the README says so). Let
	// the server see it go.
	time.Sleep(200 * time.Millisecond)
	_, err = ac.Say(ctx, servicedesk.TextResponse("meanwhile"))
	require.NoError(t, err)

	rec2 := &sdtest.Recorder{}
	sd2, err := w.kit.Factory(ctx, servicedesk.FactoryParams{Callback: rec2, PersistedState: rec.PersistedState()})
	require.NoError(t, err)
	on, err := sd2.(servicedesk.Reconnector).Reconnect(ctx)
	require.NoError(t, err)
	require.True(t, on, "a live engagement resumes")
	await(t, rec2, "message(meanwhile,ada)", 1)
	assert.NotContains(t, rec2.Calls(), "message(before,ada)", "nothing delivered twice across the restart")
	state := rec2.PersistedState()
	require.NoError(t, sd2.(interface{ Close() error }).Close())

	require.NoError(t, ac.End(ctx))
	rec3 := &sdtest.Recorder{}
	sd3, err := w.kit.Factory(ctx, servicedesk.FactoryParams{Callback: rec3, PersistedState: state})
	require.NoError(t, err)
	defer sd3.(interface{ Close() error }).Close()
	on, err = sd3.(servicedesk.Reconnector).Reconnect(ctx)
	require.NoError(t, err)
	assert.False(t, on, "a concluded engagement does not resume")
	assert.False(t, slices.Contains(rec3.Calls(), "ended"), "the end found by a resume is no callback: %v", rec3.Calls())
}
