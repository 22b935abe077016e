package nice_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	niceface "github.com/deskbridge/deskbridge/mock-desk/faces/nice"
)

var ada = servicedesk.AgentProfile{ID: "agent-ada", Nickname: "Ada", UserType: servicedesk.UserHuman}

// messages returns the agent messages the recorder saw, in order.
func messages(rec *sdtest.Recorder) []string {
	var out []string
	for _, c := range rec.Calls() {
		if strings.HasPrefix(c, "message(") {
			out = append(out, c)
		}
	}
	return out
}

// TestDroppedSocketMidChat: the gateway socket drops in the middle of a
// chat while both sides go on talking: the agent's messages reach the
// customer once each and in order (the gap filled from RecoverLivechat,
// merged with the live pushes), the customer's reach the desk once each
// and in order, and DISCONNECTED is raised and cleared.
func TestDroppedSocketMidChat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := newWorld(t, niceface.Options{}, nil)
	rec := &sdtest.Recorder{}
	sd := startDesk(t, w.kit, rec)
	require.NoError(t, sd.StartChat(ctx, servicedesk.MessageResponse{}, handoffOpts()))
	chat, err := conformdesk.New(w.desk).NextChat(ctx)
	require.NoError(t, err)
	require.NoError(t, chat.Join(ctx, ada))
	require.Eventually(t, func() bool { return strings.Contains(sdtest.Join(rec.Calls()), "joined(Ada)") }, 10*time.Second, 10*time.Millisecond)
	var want, sent []string
	say := func(i int) {
		require.NoError(t, chat.Say(ctx, servicedesk.TextResponse(fmt.Sprintf("agent %d", i))))
		want = append(want, fmt.Sprintf("message(agent %d,%s)", i, ada.ID))
	}
	send := func(i int) {
		id := fmt.Sprintf("user-%d", i)
		require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest(fmt.Sprintf("user %d", i)), id, servicedesk.AdditionalDataToAgent{}))
		sent = append(sent, id)
	}
	say(0)
	send(0)
	require.NoError(t, chat.DropConnection(ctx))
	for i := 1; i < 5; i++ {
		say(i)
		send(i)
	}
	require.Eventually(t, func() bool { return len(messages(rec)) >= len(want) }, 15*time.Second, 20*time.Millisecond, "agent messages: %v", messages(rec))
	time.Sleep(300 * time.Millisecond) // room for a doubled one to show
	require.Equal(t, want, messages(rec), "agent messages lost, doubled or reordered")
	var got []string
	for range sent {
		m, err := chat.AwaitMessage(ctx)
		require.NoError(t, err)
		got = append(got, m.ID)
	}
	require.Equal(t, sent, got, "customer messages lost, doubled or reordered")
	quiet, stop := context.WithTimeout(ctx, 300*time.Millisecond)
	defer stop()
	extra, err := chat.AwaitMessage(quiet)
	require.Error(t, err, "an extra customer message at the desk: %+v", extra)
	all := sdtest.Join(rec.Calls())
	down := strings.Index(all, "error(DISCONNECTED,true")
	require.GreaterOrEqual(t, down, 0, "DISCONNECTED was not raised: %s", all)
	require.Contains(t, all[down:], "error(DISCONNECTED,false", "DISCONNECTED was not cleared: %s", all)
}

// TestStreamedMessage: an agent's STREAMED message is read from its SSE
// source, delta by delta until the "stop", and shown as one message.
func TestStreamedMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w := newWorld(t, niceface.Options{Streamed: true}, nil)
	rec := &sdtest.Recorder{}
	sd := startDesk(t, w.kit, rec)
	require.NoError(t, sd.StartChat(ctx, servicedesk.MessageResponse{}, handoffOpts()))
	chat, err := conformdesk.New(w.desk).NextChat(ctx)
	require.NoError(t, err)
	require.NoError(t, chat.Join(ctx, ada))
	text := "Your card was declined because the bank flagged the payment as unusual; please call them."
	require.NoError(t, chat.Say(ctx, servicedesk.TextResponse(text)))
	require.NoError(t, chat.Say(ctx, servicedesk.TextResponse("Anything else?")))
	require.Eventually(t, func() bool { return len(messages(rec)) >= 2 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, []string{"message(" + text + "," + ada.ID + ")", "message(Anything else?," + ada.ID + ")"}, messages(rec))
}
