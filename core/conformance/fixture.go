package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// fixture is one scenario's world: a harness, an engine over a store, a
// session and its event stream.
type fixture struct {
	t      *testing.T
	h      *Harness
	ctx    context.Context
	store  flow.Store
	engine *flow.Engine
	s      *flow.Session
	sub    *flow.Subscription
	seen   []flow.Event
	// lastChat is the desk's view of the chat start made last.
	lastChat Chat
}

const sessionID = "conformance-session"

func newFixture(t *testing.T, maker HarnessMaker) *fixture {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	f := &fixture{t: t, h: maker(t), ctx: ctx, store: flow.NewMemoryStore(0)}
	f.startEngine()
	return f
}

func (f *fixture) startEngine() {
	e, err := flow.NewEngine(f.h.Factory, flow.Options{
		Store:              f.store,
		EndChatTimeout:     5 * time.Second,
		ScreenShareTimeout: 10 * time.Second,
		SendTimeout:        10 * time.Second,
		NewID:              f.h.NewID,
		Logger:             f.h.logger(),
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.engine = e
	f.t.Cleanup(func() { _ = e.Close(context.Background()) })
	if f.s, err = e.Session(f.ctx, sessionID); err != nil {
		f.t.Fatal(err)
	}
	var from uint64
	if len(f.seen) > 0 {
		from = f.seen[len(f.seen)-1].Seq
	}
	f.sub = f.s.Subscribe(from)
}

// restart closes the engine and starts a new one over the same store, as a
// process restart would.
func (f *fixture) restart() {
	if err := f.engine.Close(f.ctx); err != nil {
		f.t.Fatalf("close engine: %v", err)
	}
	f.startEngine()
}

// await reads events until one satisfies pred.
func (f *fixture) await(what string, pred func(flow.Event) bool) flow.Event {
	f.t.Helper()
	for {
		evs, err := f.sub.Next(f.ctx)
		if err != nil {
			f.t.Fatalf("waiting for %s: %v (events so far: %s)", what, err, f.describe())
		}
		for i, ev := range evs {
			f.seen = append(f.seen, ev)
			if pred(ev) {
				f.pushBack(evs[i+1:])
				return ev
			}
		}
	}
}

// pushBack keeps unread events for the next await.
func (f *fixture) pushBack(rest []flow.Event) {
	if len(rest) == 0 {
		return
	}
	f.sub.Close()
	f.sub = f.s.Subscribe(rest[0].Seq - 1)
}

// all describes every event of the session, read or not.
func (f *fixture) all() string {
	evs, err := f.s.EventsSince(context.Background(), 0, 0)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "%d:%s", ev.Seq, ev.Type)
		switch ev.Type {
		case flow.EventState:
			fmt.Fprintf(&b, "(%s)", ev.State)
		case flow.EventMessageStatus, flow.EventUserMessage:
			fmt.Fprintf(&b, "(%s %s)", ev.MessageID, ev.Status)
		}
		b.WriteByte(' ')
	}
	return b.String()
}

func (f *fixture) describe() string {
	var b strings.Builder
	for _, ev := range f.seen {
		fmt.Fprintf(&b, "%d:%s", ev.Seq, ev.Type)
		if ev.Type == flow.EventState {
			fmt.Fprintf(&b, "(%s)", ev.State)
		}
		b.WriteByte(' ')
	}
	return b.String()
}

func isType(tp flow.EventType) func(flow.Event) bool {
	return func(ev flow.Event) bool { return ev.Type == tp }
}

func isState(st flow.State) func(flow.Event) bool {
	return func(ev flow.Event) bool { return ev.Type == flow.EventState && ev.State == st }
}

// start asks for an agent and returns the desk's view of the new chat.
func (f *fixture) start() Chat {
	f.t.Helper()
	require.NoError(f.t, f.s.StartChat(f.ctx, ConnectMessage(), flow.StartOptions{}), "start chat")
	chat, err := f.h.Desk.NextChat(f.ctx)
	require.NoError(f.t, err, "desk: next chat")
	f.await("waiting", isState(flow.StateWaiting))
	f.lastChat = chat
	return chat
}

// join starts a chat and has agent join it.
func (f *fixture) join(agent servicedesk.AgentProfile) Chat {
	f.t.Helper()
	chat := f.start()
	require.NoError(f.t, chat.Join(f.ctx, agent), "agent joins")
	ev := f.await("agent joined", isType(flow.EventAgentJoined))
	require.NotNil(f.t, ev.Profile, "joined profile")
	require.Equal(f.t, agent.ID, ev.Profile.ID, "joined profile %+v", ev.Profile)
	require.Equal(f.t, agent.Nickname, ev.Profile.Nickname, "joined profile %+v", ev.Profile)
	return chat
}

// deskFor builds a desk with the kit's factory outside any engine, for
// checks of its optional methods.
func (f *fixture) deskFor(id string) servicedesk.ServiceDesk {
	f.t.Helper()
	d, err := f.h.Factory(f.ctx, servicedesk.FactoryParams{Callback: nopCallback{}, Instance: instance(id), Logger: f.h.logger()})
	require.NoError(f.t, err, "factory")
	f.t.Cleanup(func() {
		if c, ok := d.(io.Closer); ok {
			_ = c.Close()
		}
	})
	return d
}

type instance string

func (i instance) SessionID() string { return string(i) }

var discard = slog.New(slog.DiscardHandler)

func (h *Harness) logger() *slog.Logger {
	switch {
	case h.Logger != nil:
		return h.Logger
	case os.Getenv("KIT_DEBUG") != "":
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return discard
}

// nopCallback serves desks built outside an engine (declaration checks).
type nopCallback struct{}

func (nopCallback) UpdateCapabilities(servicedesk.CapabilitiesUpdate) {}

func (nopCallback) UpdateAgentAvailability(servicedesk.AgentAvailability) {}

func (nopCallback) AgentJoined(servicedesk.AgentProfile) {}

func (nopCallback) AgentReadMessages() {}

func (nopCallback) AgentTyping(bool) {}

func (nopCallback) SendMessageToUser(servicedesk.MessageResponse, string) {}

func (nopCallback) SendTextToUser(string, string) {}

func (nopCallback) BeginTransferToAnotherAgent(*servicedesk.AgentProfile) {}

func (nopCallback) AgentLeftChat() {}

func (nopCallback) AgentEndedChat() {}

func (nopCallback) SetErrorStatus(servicedesk.ErrorInfo) {}

func (nopCallback) SetFileUploadStatus(string, bool, string) {}

func (nopCallback) ScreenShareEnded() {}

func (nopCallback) PersistedState() json.RawMessage { return nil }

func (nopCallback) UpdatePersistedState(any) error { return nil }

func (nopCallback) ReplacePersistedState(any) error { return nil }

func (nopCallback) ScreenShareRequest(context.Context) (servicedesk.ScreenShareState, error) {
	return servicedesk.ScreenShareDeclined, nil
}
