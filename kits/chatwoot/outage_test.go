package chatwoot_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/chatwoot"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	chatwootface "github.com/deskbridge/deskbridge/mock-desk/faces/chatwoot"
)

var ada = servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman}

// faceWorld is the kit against mock-desk's Chatwoot face without
// background faults, one desk of one session recorded.
type faceWorld struct {
	t    *testing.T
	ctx  context.Context
	desk *mockdesk.Desk
	kit  *chatwoot.Kit
	sd   servicedesk.ServiceDesk
	rec  *sdtest.Recorder
}

func newFaceWorld(t *testing.T, opts chatwootface.Options, tweak func(*chatwoot.Config)) *faceWorld {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	desk := conformdesk.NewDesk(t, mockdesk.Options{PingInterval: mockdesk.Duration(time.Second)})
	opts.InboxIdentifier = inbox
	face := chatwootface.New(desk, opts)
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cfg := chatwoot.Config{URL: srv.URL, InboxIdentifier: inbox, HTTPClient: hc, MinInterval: time.Millisecond,
		Backoff: retry.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}}
	cfg.AgentProfile = func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
		if full, ok := face.Agent(p.ID); ok {
			return full
		}
		return p
	}
	if tweak != nil {
		tweak(&cfg)
	}
	kit, err := chatwoot.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kit.Close() })
	w := &faceWorld{t: t, ctx: ctx, desk: desk, kit: kit, rec: &sdtest.Recorder{}}
	w.sd, err = kit.Factory(ctx, servicedesk.FactoryParams{Callback: w.rec, Instance: sdtest.Instance("s1")})
	require.NoError(t, err)
	return w
}

func (w *faceWorld) start(h servicedesk.Handoff) string {
	w.t.Helper()
	require.NoError(w.t, w.sd.StartChat(w.ctx, servicedesk.NewResponse(servicedesk.TextItem("to a person")), servicedesk.StartChatOptions{Handoff: h}))
	id, err := w.desk.AwaitChatID(w.ctx)
	require.NoError(w.t, err)
	return id
}

// waitFor waits until a call starting with prefix was recorded.
func (w *faceWorld) waitFor(prefix string) []string {
	w.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		calls := w.rec.Calls()
		for _, c := range calls {
			if strings.HasPrefix(c, prefix) {
				return calls
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.t.Fatalf("no %s in %s", prefix, sdtest.Join(w.rec.Calls()))
	return nil
}

func (w *faceWorld) say(chat, text string) {
	w.t.Helper()
	_, err := w.desk.AgentSay(w.ctx, chat, servicedesk.NewResponse(servicedesk.TextItem(text)))
	require.NoError(w.t, err)
}

// TestDroppedCableMidChat: the cable drops with a message of each side in
// flight (the agent's frame held on the wire, the user's request held at
// Chatwoot's door, both past the drop) and more of both during the
// outage. Chatwoot replays nothing after a drop: the agent's messages of
// the outage come from the gap fill, each once and in order, between
// DISCONNECTED raised and cleared; the user's are retried through the
// outage, with a backoff that spends eight tries well within it, and
// reach the desk once each, in order.
func TestDroppedCableMidChat(t *testing.T) {
	w := newFaceWorld(t, chatwootface.Options{}, func(c *chatwoot.Config) {
		// Slow enough to come back that the outage's messages miss the cable.
		c.CableBackoff = retry.Backoff{Min: 400 * time.Millisecond, Max: 400 * time.Millisecond}
		c.Backoff = retry.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}
	})
	send := func(text, id string) error {
		return w.sd.SendMessageToAgent(w.ctx, servicedesk.NewTextRequest(text), id, servicedesk.AdditionalDataToAgent{})
	}
	chat := w.start(servicedesk.Handoff{})
	require.NoError(t, w.desk.AgentJoin(w.ctx, chat, ada))
	w.waitFor("joined(")
	w.say(chat, "before")
	require.NoError(t, send("user before", "m-before"))
	w.waitFor("message(before")

	// Each side's next message waits 300 ms in the face; the drop comes
	// 100 ms in, and cuts the chat off for a second (503s).
	w.desk.SetFaults(mockdesk.Faults{REST: mockdesk.HTTPFaults{Latency: mockdesk.Duration(300 * time.Millisecond)},
		WS: mockdesk.WSFaults{Latency: mockdesk.Duration(300 * time.Millisecond)}})
	w.say(chat, "in flight")
	inFlight := make(chan error, 1)
	go func() { inFlight <- send("user in flight", "m-in-flight") }()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, w.desk.DropConnections(w.ctx, chat))
	w.desk.SetFaults(mockdesk.Faults{})
	w.say(chat, "during one")
	w.say(chat, "during two")
	require.NoError(t, <-inFlight, "the user's message in flight at the drop")
	require.NoError(t, send("user after", "m-after"))
	w.waitFor("error(DISCONNECTED,false")
	w.say(chat, "after")
	calls := w.waitFor("message(after")

	var seen []string
	for _, c := range calls {
		if strings.HasPrefix(c, "message(") || strings.HasPrefix(c, "error(DISCONNECTED") {
			seen = append(seen, c)
		}
	}
	assert.Equal(t, []string{"message(before,ada)", "error(DISCONNECTED,true,)", "message(in flight,ada)", "message(during one,ada)",
		"message(during two,ada)", "error(DISCONNECTED,false,)", "message(after,ada)"}, seen, "what the user saw")
	msgs, err := w.desk.CustomerMessages(chat)
	require.NoError(t, err)
	var got []string
	for _, m := range msgs {
		got = append(got, m.IdempotencyKey+" "+m.Request.Input.Text)
	}
	// The face files a second POST of one echo_id as echo_id#2: a
	// resend Chatwoot would have stored twice shows here.
	assert.Equal(t, []string{"m-before user before", "m-in-flight user in flight", "m-after user after"}, got, "what the desk got")
}

// TestBotHandoff: an inbox with an agent bot creates the conversation
// pending; the kit posts the transcript as the bot's private note and
// opens it with the bot's token: only then does it reach the agents, with
// the summary and the transcript for the agent to read first.
func TestBotHandoff(t *testing.T) {
	w := newFaceWorld(t, chatwootface.Options{Bot: true, BotToken: "bot-tok", AccountID: "7"}, func(c *chatwoot.Config) {
		c.BotToken, c.AccountID = "bot-tok", "7"
	})
	chat := w.start(servicedesk.Handoff{Summary: "refund for order 42",
		Transcript: []servicedesk.Turn{{From: "user", Text: "I want a refund"}, {From: "bot", Text: "Let me get a person"}}})
	sum, err := w.desk.ChatSummary(chat)
	require.NoError(t, err)
	assert.Contains(t, sum, "refund for order 42")
	assert.Contains(t, sum, "user: I want a refund")
	assert.Contains(t, sum, "bot: Let me get a person")
	require.NoError(t, w.desk.AgentJoin(w.ctx, chat, ada))
	w.waitFor("joined(")
	w.say(chat, "hello")
	w.waitFor("message(hello,ada)")
	msgs, err := w.desk.CustomerMessages(chat)
	require.NoError(t, err)
	assert.Empty(t, msgs, "the transcript went as a note, not as the user's message")
}

// TestBotHandoffWithoutToken: the kit without the bot's token leaves a
// pending conversation pending: the desk never gets it.
func TestBotHandoffWithoutToken(t *testing.T) {
	w := newFaceWorld(t, chatwootface.Options{Bot: true, BotToken: "bot-tok", AccountID: "7"}, nil)
	require.NoError(t, w.sd.StartChat(w.ctx, servicedesk.NewResponse(servicedesk.TextItem("to a person")), servicedesk.StartChatOptions{}))
	ctx, cancel := context.WithTimeout(w.ctx, 300*time.Millisecond)
	defer cancel()
	_, err := w.desk.AwaitChatID(ctx)
	assert.Error(t, err, "a pending conversation reached the agents")
}

// TestReconnectAfterRestart: a new desk from the persisted state resumes
// the conversation and fills what the agent wrote while no desk followed
// it; a resolved conversation does not resume.
func TestReconnectAfterRestart(t *testing.T) {
	w := newFaceWorld(t, chatwootface.Options{}, nil)
	chat := w.start(servicedesk.Handoff{})
	require.NoError(t, w.desk.AgentJoin(w.ctx, chat, ada))
	w.say(chat, "first")
	w.waitFor("message(first,ada)")
	require.NoError(t, w.sd.(interface{ Close() error }).Close())
	w.say(chat, "while down")
	rec := &sdtest.Recorder{}
	require.NoError(t, rec.ReplacePersistedState(w.rec.State()))
	sd, err := w.kit.Factory(w.ctx, servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("s1"), PersistedState: rec.PersistedState()})
	require.NoError(t, err)
	ok, err := sd.(servicedesk.Reconnector).Reconnect(w.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	w.rec = rec
	calls := w.waitFor("message(while down,ada)")
	assert.NotContains(t, sdtest.Join(calls), "message(first", "a message delivered before the restart came again")
	require.NoError(t, w.desk.DeskEnd(w.ctx, chat, "done"))
	w.waitFor("ended")
	sd2, err := w.kit.Factory(w.ctx, servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("s1"), PersistedState: rec.PersistedState()})
	require.NoError(t, err)
	ok, err = sd2.(servicedesk.Reconnector).Reconnect(w.ctx)
	require.NoError(t, err)
	assert.False(t, ok, "a resolved conversation resumed")
}
