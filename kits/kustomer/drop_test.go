package kustomer_test

// Direct tests that faults mid-chat lose, double and reorder nothing,
// either way: the desk's side cut off (its REST calls 503, its deliveries
// failing and retried) while webhook deliveries are duplicated, reordered
// and lost, and the deliveries of a whole stretch lost for good.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/kits/kustomer"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
)

var ada = servicedesk.AgentProfile{ID: "agent-ada", Nickname: "Ada", UserType: servicedesk.UserHuman}

// liveChat is a started chat with Ada in it: the kit's desk with a
// recording callback, and the agent's seat.
type liveChat struct {
	desk  servicedesk.ServiceDesk
	rec   *sdtest.Recorder
	agent conformance.Chat
	md    *mockdesk.Desk
}

func startLive(t *testing.T, ctx context.Context, adjust func(*kustomer.Config)) liveChat {
	t.Helper()
	md := conformdesk.NewDesk(t, mockdesk.Options{DropPartition: mockdesk.Duration(600 * time.Millisecond)})
	kit, _ := faceKit(t, md, adjust)
	rec := &sdtest.Recorder{}
	d, err := kit.Factory(ctx, servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("drop-session")})
	require.NoError(t, err)
	require.NoError(t, d.StartChat(ctx, servicedesk.TextResponse("Connecting you to an agent."), servicedesk.StartChatOptions{}))
	agent, err := conformdesk.New(md).NextChat(ctx)
	require.NoError(t, err)
	require.NoError(t, agent.Join(ctx, ada))
	waitCall(t, rec, "joined(Ada)")
	return liveChat{desk: d, rec: rec, agent: agent, md: md}
}

// waitCall waits for call among the recorded ones.
func waitCall(t *testing.T, rec *sdtest.Recorder, call string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(rec.Calls(), call) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in %s", call, sdtest.Join(rec.Calls()))
		}
		rec.Wait(len(rec.Calls())+1, 100*time.Millisecond)
	}
}

// agentTexts are the agent messages shown, in order.
func agentTexts(rec *sdtest.Recorder) []string {
	var out []string
	for _, c := range rec.Calls() {
		if text, ok := strings.CutPrefix(c, "message("); ok {
			out = append(out, strings.TrimSuffix(text, ","+ada.ID+")"))
		}
	}
	return out
}

// send sends a customer message until the desk takes it, as the engine
// does (the same id each time).
func send(ctx context.Context, d servicedesk.ServiceDesk, id, text string) error {
	for {
		err := d.SendMessageToAgent(ctx, servicedesk.NewTextRequest(text), id, servicedesk.AdditionalDataToAgent{})
		if err == nil || ctx.Err() != nil || !servicedesk.IsTemporary(err) {
			return err
		}
	}
}

func TestDeskCutOffMidChatLosesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := startLive(t, ctx, func(cfg *kustomer.Config) { cfg.ReconcileInterval = 200 * time.Millisecond })
	c.md.SetFaults(mockdesk.Faults{Seed: 5, Webhook: mockdesk.WebhookFaults{DuplicateRate: 0.4, ReorderRate: 0.4, UnreachableRate: 0.3}})
	const n = 12
	said := make(chan error, 1)
	go func() {
		for i := range n {
			if err := c.agent.Say(ctx, servicedesk.TextResponse(fmt.Sprintf("agent %d", i))); err != nil {
				said <- err
				return
			}
		}
		said <- nil
	}()
	var ids []string
	for i := range n {
		if i == n/3 {
			require.NoError(t, c.agent.DropConnection(ctx))
		}
		id := fmt.Sprintf("m-%d", i)
		require.NoError(t, send(ctx, c.desk, id, fmt.Sprintf("customer %d", i)), "send %s", id)
		ids = append(ids, id)
	}
	require.NoError(t, <-said)
	var got []string
	for len(got) < n {
		m, err := c.agent.AwaitMessage(ctx)
		require.NoError(t, err, "the desk's message %d", len(got))
		got = append(got, m.ID)
	}
	require.Equal(t, ids, got, "the customer's messages at the desk")
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("agent %d", i)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(agentTexts(c.rec)) < n && time.Now().Before(deadline) {
		c.rec.Wait(len(c.rec.Calls())+1, 200*time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a late redelivery would show by now
	require.Equal(t, want, agentTexts(c.rec), "the agent's messages the customer saw")
	calls := sdtest.Join(c.rec.Calls())
	down := strings.Index(calls, "error(DISCONNECTED,true,)")
	require.GreaterOrEqual(t, down, 0, "DISCONNECTED while the desk was cut off: %s", calls)
	require.Greater(t, strings.LastIndex(calls, "error(DISCONNECTED,false,)"), down, "DISCONNECTED cleared: %s", calls)
	n2, _ := conformdesk.Faults(c.md).Injected(ctx)
	require.Positive(t, n2["duplicate"]+n2["reorder"]+n2["unreachable"], "no webhook fault injected: %v", n2)
}

func TestDeliveriesLostForGoodAreReadBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	md := conformdesk.NewDesk(t, mockdesk.Options{})
	kit, face := faceKit(t, md, func(cfg *kustomer.Config) { cfg.ReconcileInterval = 300 * time.Millisecond })
	rec := &sdtest.Recorder{}
	d, err := kit.Factory(ctx, servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("lost-session")})
	require.NoError(t, err)
	require.NoError(t, d.StartChat(ctx, servicedesk.TextResponse("Connecting you."), servicedesk.StartChatOptions{}))
	agent, err := conformdesk.New(md).NextChat(ctx)
	require.NoError(t, err)
	// Every delivery of the chat fails from here on (the webhook points
	// nowhere): the join, three messages, a transfer and the end come only
	// by the kit's own reads.
	face.SetWebhookURL("")
	require.NoError(t, agent.Join(ctx, ada))
	for i := range 3 {
		require.NoError(t, agent.Say(ctx, servicedesk.TextResponse(fmt.Sprintf("agent %d", i))))
	}
	grace := servicedesk.AgentProfile{ID: "agent-grace", Nickname: "Grace", UserType: servicedesk.UserHuman}
	require.NoError(t, agent.Transfer(ctx, grace))
	waitCall(t, rec, "joined(Grace)")
	require.NoError(t, agent.Say(ctx, servicedesk.TextResponse("Grace here.")))
	require.NoError(t, agent.End(ctx))
	waitCall(t, rec, "ended")
	got := slices.DeleteFunc(rec.Calls(), func(c string) bool { return strings.HasPrefix(c, "caps(") })
	require.Equal(t, []string{"joined(Ada)", "message(agent 0,agent-ada)", "message(agent 1,agent-ada)", "message(agent 2,agent-ada)",
		"transfer(Grace)", "joined(Grace)", "message(Grace here.,agent-grace)", "ended"}, got)
}
