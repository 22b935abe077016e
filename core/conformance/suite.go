package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"go.uber.org/goleak"
)

// Timeout bounds each scenario.
var Timeout = 20 * time.Second

var (
	ada   = servicedesk.AgentProfile{ID: "agent-ada", Nickname: "Ada", UserType: servicedesk.UserHuman, ProfilePictureURL: "https://example.com/ada.png"}
	grace = servicedesk.AgentProfile{ID: "agent-grace", Nickname: "Grace", UserType: servicedesk.UserHuman}
)

// Summary is the summary_message_to_agent the suite sends; desks must show
// it to the agent.
const Summary = "Card ending 4242 was declined twice."

// ConnectMessage is the bot response the suite starts chats with.
func ConnectMessage() servicedesk.MessageResponse {
	return servicedesk.NewResponse(
		servicedesk.TextItem("Let me get you a person."),
		servicedesk.GenericItem{
			ResponseType:        servicedesk.ResponseConnectToAgent,
			MessageToHumanAgent: "Customer asks about a declined card.",
			TransferInfo: &servicedesk.TransferInfo{
				AdditionalData:        map[string]string{"queue": "billing"},
				SummaryMessageToAgent: []servicedesk.GenericItem{servicedesk.TextItem(Summary)},
			},
		},
	)
}

// Run runs every scenario against the kit that maker builds. Each scenario
// is a subtest with a stable name; scenarios of undeclared capabilities
// instead check that the kit answers errors.ErrUnsupported.
func Run(t *testing.T, caps Capabilities, maker HarnessMaker) {
	t.Helper()
	RunExcluding(t, caps, nil, maker)
}

// RunExcluding is Run without the scenarios named in excluded, for a real
// desk whose protocol cannot express what a scenario needs (Genesys's
// guests never see an agent leave a chat that goes on). Each value is the
// reason, shown as the skip message; a name that is no scenario fails the
// test, so an exclusion cannot outlive a renamed scenario.
func RunExcluding(t *testing.T, caps Capabilities, excluded map[string]string, maker HarnessMaker) {
	t.Helper()
	for name := range excluded {
		if !slices.ContainsFunc(scenarios, func(sc scenario) bool { return sc.name == name }) {
			t.Errorf("excluded scenario %q does not exist", name)
		}
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if why, ok := excluded[sc.name]; ok {
				t.Skipf("excluded by the kit: %s", why)
			}
			if sc.needs != nil {
				if ok, why := sc.needs(caps); !ok {
					t.Skipf("capability not declared: %s (checked by declarations/*)", why)
				}
			}
			f := newFixture(t, maker)
			sc.run(f, caps)
		})
	}
}

type scenario struct {
	name  string
	needs func(Capabilities) (bool, string)
	run   func(f *fixture, caps Capabilities)
}

var scenarios = []scenario{
	{"declarations/optional_methods", nil, checkDeclarations},
	{"availability/online", nil, func(f *fixture, caps Capabilities) { f.availability(caps, true) }},
	{"availability/offline", nil, func(f *fixture, caps Capabilities) { f.availability(caps, false) }},
	{"availability/unknown", nil, availabilityUnknown},
	{"chat/full_conversation", nil, fullConversation},
	{"chat/agent_ends", nil, agentEnds},
	{"chat/another_chat_in_the_same_session", nil, anotherChat},
	{"chat/agent_leaves_then_another_joins", nil, agentLeavesThenAnotherJoins},
	{"chat/transfer", has(func(c Capabilities) bool { return c.Transfer }, "Transfer"), transfer},
	{"chat/start_refused", nil, startRefused},
	{"chat/user_message_fails", nil, userMessageFails},
	{"files/accepted", has(func(c Capabilities) bool { return c.FileUpload }, "FileUpload"), filesAccepted},
	{"files/rejected_with_reason", has(func(c Capabilities) bool { return c.FileUpload }, "FileUpload"), filesRejected},
	{"files/upload_fails_after_send", has(func(c Capabilities) bool { return c.FileUpload }, "FileUpload"), uploadFailsAfterSend},
	{"screen_share/accepted", has(func(c Capabilities) bool { return c.ScreenShare }, "ScreenShare"), func(f *fixture, _ Capabilities) { f.screenShare(true) }},
	{"screen_share/declined", has(func(c Capabilities) bool { return c.ScreenShare }, "ScreenShare"), func(f *fixture, _ Capabilities) { f.screenShare(false) }},
	{"screen_share/cancelled_by_agent", has(func(c Capabilities) bool { return c.ScreenShare }, "ScreenShare"), screenShareCancelled},
	{"screen_share/stopped_by_user", has(func(c Capabilities) bool { return c.ScreenShare }, "ScreenShare"), screenShareStopped},
	{"reconnect/after_engine_restart", has(func(c Capabilities) bool { return c.Reconnect }, "Reconnect"), reconnectAfterRestart},
	{"faults/connection_lost_mid_chat", nil, connectionLost},
	{"faults/desk_errors_retried", nil, deskErrorsRetried},
	{"faults/duplicate_and_reordered_delivery", nil, duplicateAndReordered},
	{"lifecycle/close_idempotent", nil, closeIdempotent},
	{"lifecycle/close_while_call_blocks", nil, closeWhileBlocked},
	{"lifecycle/no_goroutine_leaks", nil, noGoroutineLeaks},
}

func has(f func(Capabilities) bool, name string) func(Capabilities) (bool, string) {
	return func(c Capabilities) (bool, string) { return f(c), name }
}

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

func (f *fixture) must(err error, what string) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
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
	f.must(f.s.StartChat(f.ctx, ConnectMessage(), flow.StartOptions{}), "start chat")
	chat, err := f.h.Desk.NextChat(f.ctx)
	f.must(err, "desk: next chat")
	f.await("waiting", isState(flow.StateWaiting))
	f.lastChat = chat
	return chat
}

// join starts a chat and has agent join it.
func (f *fixture) join(agent servicedesk.AgentProfile) Chat {
	f.t.Helper()
	chat := f.start()
	f.must(chat.Join(f.ctx, agent), "agent joins")
	ev := f.await("agent joined", isType(flow.EventAgentJoined))
	if ev.Profile == nil || ev.Profile.ID != agent.ID || ev.Profile.Nickname != agent.Nickname {
		f.t.Fatalf("joined profile %+v, want %+v", ev.Profile, agent)
	}
	return chat
}

// deskFor builds a desk with the kit's factory outside any engine, for
// checks of its optional methods.
func (f *fixture) deskFor(id string) servicedesk.ServiceDesk {
	f.t.Helper()
	d, err := f.h.Factory(f.ctx, servicedesk.FactoryParams{Callback: nopCallback{}, Instance: instance(id), Logger: discard})
	f.must(err, "factory")
	f.t.Cleanup(func() {
		if c, ok := d.(io.Closer); ok {
			_ = c.Close()
		}
	})
	return d
}

func checkDeclarations(f *fixture, caps Capabilities) {
	c := servicedesk.NewController(f.deskFor("declarations"))
	got := c.Supports()
	for _, check := range []struct {
		name     string
		declared bool
		has      bool
	}{
		{"AvailabilityCheck / AreAnyAgentsOnline", caps.AvailabilityCheck, got.AvailabilityCheck},
		{"UserTyping / UserTyping", caps.UserTyping, got.UserTyping},
		{"UserRead / UserReadMessages", caps.UserRead, got.UserReadMessages},
		{"ScreenShare / ScreenShareStop", caps.ScreenShare, got.ScreenShareStop},
		{"Reconnect / Reconnect", caps.Reconnect, got.Reconnect},
	} {
		if check.declared != check.has {
			f.t.Errorf("%s: declared %v, implemented %v", check.name, check.declared, check.has)
		}
	}
	ctx := f.ctx
	if !caps.UserTyping {
		expectUnsupported(f.t, "UserTyping", c.UserTyping(ctx, true))
	}
	if !caps.UserRead {
		expectUnsupported(f.t, "UserReadMessages", c.UserReadMessages(ctx))
	}
	if !caps.ScreenShare {
		expectUnsupported(f.t, "ScreenShareStop", c.ScreenShareStop(ctx))
	}
	if !caps.Reconnect {
		_, err := c.Reconnect(ctx)
		expectUnsupported(f.t, "Reconnect", err)
	}
	if !caps.AvailabilityCheck {
		_, err := c.AreAnyAgentsOnline(ctx, ConnectMessage())
		expectUnsupported(f.t, "AreAnyAgentsOnline", err)
	}
	if name := f.deskFor("name").Name(); name == "" || len(name) > 40 {
		f.t.Errorf("Name() = %q: want 1 to 40 characters (Carbon's getName rule)", name)
	}
}

func expectUnsupported(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("%s is not declared, so it must answer errors.ErrUnsupported; got %v", what, err)
	}
}

func (f *fixture) availability(caps Capabilities, online bool) {
	f.must(f.h.Desk.SetAgentsOnline(f.ctx, online), "set agents online")
	got, err := f.s.CheckAvailability(f.ctx, ConnectMessage())
	f.must(err, "check availability")
	want := servicedesk.OnlineUnknown
	if caps.AvailabilityCheck {
		want = servicedesk.Offline
		if online {
			want = servicedesk.Online
		}
	}
	if got != want {
		f.t.Fatalf("availability with agents online=%v: %q, want %q", online, got, want)
	}
}

func availabilityUnknown(f *fixture, caps Capabilities) {
	got, err := f.s.CheckAvailability(f.ctx, ConnectMessage())
	f.must(err, "check availability")
	if caps.AvailabilityCheck {
		// A kit that can check must know: unknown would hide a broken check.
		if got == servicedesk.OnlineUnknown {
			f.t.Fatal("AvailabilityCheck declared, yet the answer is unknown")
		}
		return
	}
	if got != servicedesk.OnlineUnknown {
		f.t.Fatalf("availability without the capability: %q, want unknown", got)
	}
}

func richResponse() servicedesk.MessageResponse {
	return servicedesk.NewResponse(
		servicedesk.TextItem("Hi, I'm **Ada**. See [the policy](https://example.com/policy)."),
		servicedesk.ImageItem("https://example.com/receipt.png", "Your receipt"),
		servicedesk.LinkButtonItem("Open the form", "https://example.com/form"),
	)
}

func fullConversation(f *fixture, caps Capabilities) {
	chat := f.start()
	if !strings.Contains(chat.Summary(), Summary) {
		f.t.Errorf("agent summary %q lacks the transfer_info summary %q", chat.Summary(), Summary)
	}
	if caps.QueuePosition {
		for _, pos := range []int{2, 1} {
			f.must(chat.QueueUpdate(f.ctx, pos, -1), "queue update")
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
	if caps.WaitTime {
		f.must(chat.QueueUpdate(f.ctx, -1, 3), "wait update")
		ev := f.await("wait time", isType(flow.EventQueueUpdate))
		if ev.Availability.EstimatedWaitTime == nil || *ev.Availability.EstimatedWaitTime != 3 {
			f.t.Fatalf("wait update %+v, want 3 minutes", ev.Availability)
		}
	}
	f.must(chat.Join(f.ctx, ada), "agent joins")
	joined := f.await("agent joined", isType(flow.EventAgentJoined))
	if *joined.Profile != ada {
		f.t.Fatalf("profile %+v, want %+v", *joined.Profile, ada)
	}
	f.await("connected", isState(flow.StateConnected))

	id, err := f.s.SendText(f.ctx, "My card was declined")
	f.must(err, "send")
	msg, err := chat.AwaitMessage(f.ctx)
	f.must(err, "desk: await message")
	if msg.Text != "My card was declined" || msg.ID != id {
		f.t.Fatalf("desk got %+v, want text and id %s", msg, id)
	}
	f.await("message sent", func(ev flow.Event) bool {
		return ev.Type == flow.EventMessageStatus && ev.MessageID == id && ev.Status == flow.MessageSent
	})

	f.must(chat.Say(f.ctx, richResponse()), "agent says")
	am := f.await("agent message", isType(flow.EventAgentMessage))
	want := richResponse().Output.Generic
	got := am.Message.Output.Generic
	if len(got) != len(want) {
		f.t.Fatalf("agent message has %d items, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ResponseType != w.ResponseType || g.Text != w.Text || g.Source != w.Source || g.URL != w.URL || g.Label != w.Label {
			f.t.Errorf("item %d: got %+v, want %+v", i, g, w)
		}
	}
	if am.Profile == nil || am.Profile.ID != ada.ID {
		f.t.Errorf("agent message profile %+v", am.Profile)
	}
	if caps.AgentTyping {
		f.must(chat.Typing(f.ctx, true), "agent typing")
		ev := f.await("agent typing", isType(flow.EventAgentTyping))
		if !*ev.Typing {
			f.t.Fatal("typing event says not typing")
		}
	}
	if caps.UserTyping {
		f.must(f.s.UserTyping(f.ctx, true), "user typing")
		on, err := chat.AwaitTyping(f.ctx)
		f.must(err, "desk: await typing")
		if !on {
			f.t.Fatal("desk saw typing stop, want start")
		}
	}
	if caps.AgentRead {
		f.must(chat.Read(f.ctx), "agent read")
		f.await("agent read", isType(flow.EventAgentRead))
	}
	if caps.UserRead {
		f.must(f.s.UserRead(f.ctx), "user read")
		f.must(chat.AwaitRead(f.ctx), "desk: await read")
	}
	f.must(f.s.EndChat(f.ctx, flow.EndOptions{}), "user ends")
	f.must(chat.AwaitEnded(f.ctx), "desk: await end")
	ended := f.await("chat ended", isType(flow.EventChatEnded))
	if ended.Reason != flow.EndByUser {
		f.t.Fatalf("end reason %s", ended.Reason)
	}
}

// anotherChat: a user who talked to an agent asks for one again later in
// the same session; the engine reuses the session's desk.
func anotherChat(f *fixture, _ Capabilities) {
	for round := range 2 {
		chat := f.join(ada)
		id, err := f.s.SendText(f.ctx, fmt.Sprintf("question %d", round))
		f.must(err, "send")
		m, err := chat.AwaitMessage(f.ctx)
		if err != nil {
			f.t.Fatalf("chat %d: desk: await message %s: %v (events: %s)", round, id, err, f.all())
		}
		if m.ID != id {
			f.t.Fatalf("chat %d: desk got %+v, want message %s", round, m, id)
		}
		f.must(chat.Say(f.ctx, servicedesk.TextResponse(fmt.Sprintf("answer %d", round))), "say")
		am := f.await("agent message", isType(flow.EventAgentMessage))
		if got := am.Message.PlainText(); got != fmt.Sprintf("answer %d", round) {
			f.t.Fatalf("chat %d: user saw %q", round, got)
		}
		if round == 0 {
			f.must(chat.End(f.ctx), "agent ends the first chat")
		} else {
			f.must(f.s.EndChat(f.ctx, flow.EndOptions{}), "user ends the second chat")
		}
		f.await("chat ended", isType(flow.EventChatEnded))
		f.await("ended", isState(flow.StateEnded))
	}
}

func agentEnds(f *fixture, _ Capabilities) {
	chat := f.join(ada)
	f.must(chat.End(f.ctx), "agent ends")
	ended := f.await("chat ended", isType(flow.EventChatEnded))
	if ended.Reason != flow.EndByAgent || !ended.EndedByAgent {
		f.t.Fatalf("chat_ended %+v", ended)
	}
}

func agentLeavesThenAnotherJoins(f *fixture, _ Capabilities) {
	chat := f.join(ada)
	f.must(chat.Leave(f.ctx), "agent leaves")
	f.await("agent left", isType(flow.EventAgentLeft))
	f.must(chat.Join(f.ctx, grace), "another agent joins")
	ev := f.await("second agent", isType(flow.EventAgentJoined))
	if ev.Profile.ID != grace.ID {
		f.t.Fatalf("joined %+v, want grace", ev.Profile)
	}
	id, err := f.s.SendText(f.ctx, "still there?")
	f.must(err, "send")
	msg, err := chat.AwaitMessage(f.ctx)
	f.must(err, "desk: await message")
	if msg.ID != id {
		f.t.Fatalf("desk got %+v", msg)
	}
	f.must(chat.Say(f.ctx, servicedesk.TextResponse("Grace here.")), "say")
	am := f.await("message from grace", isType(flow.EventAgentMessage))
	if am.Profile == nil || am.Profile.ID != grace.ID {
		f.t.Fatalf("profile %+v, want grace", am.Profile)
	}
}

func transfer(f *fixture, _ Capabilities) {
	chat := f.join(ada)
	f.must(chat.Transfer(f.ctx, grace), "transfer")
	f.await("transfer", isType(flow.EventTransfer))
	ev := f.await("new agent", isType(flow.EventAgentJoined))
	if ev.Profile.ID != grace.ID {
		f.t.Fatalf("after transfer %+v joined, want grace", ev.Profile)
	}
	f.await("connected", isState(flow.StateConnected))
}

func startRefused(f *fixture, _ Capabilities) {
	f.must(f.h.Desk.RefuseNextChat(f.ctx, "All our agents are offline"), "refuse next chat")
	f.must(f.s.StartChat(f.ctx, ConnectMessage(), flow.StartOptions{}), "start chat")
	ev := f.await("connecting error", isType(flow.EventError))
	if ev.ErrorType != servicedesk.ErrorConnecting || ev.Text == "" {
		f.t.Fatalf("error %+v", ev)
	}
	f.await("ended", isState(flow.StateEnded))
}

func userMessageFails(f *fixture, _ Capabilities) {
	chat := f.join(ada)
	f.must(chat.RejectNextMessage(f.ctx, "Message refused"), "reject next message")
	id, err := f.s.SendText(f.ctx, "this one fails")
	f.must(err, "send")
	ev := f.await("message failed", func(ev flow.Event) bool {
		return ev.Type == flow.EventMessageStatus && ev.MessageID == id
	})
	if ev.Status != flow.MessageFailed {
		f.t.Fatalf("status %s, want failed for %s", ev.Status, id)
	}
	// The chat goes on.
	id2, err := f.s.SendText(f.ctx, "this one works")
	f.must(err, "send")
	for {
		msg, err := chat.AwaitMessage(f.ctx)
		f.must(err, "desk: await message")
		if msg.ID == id2 {
			break
		}
		if msg.ID != id || !msg.Rejected {
			f.t.Fatalf("desk got %+v", msg)
		}
	}
}

// fileFor picks a file the reported capabilities allow: a PNG if images
// are, else a text file.
func fileFor(caps servicedesk.Capabilities, id string) (servicedesk.FileUpload, []byte) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	name, typ, data := "receipt.png", "image/png", png
	if !servicedesk.MatchesAccept(caps.AllowedFileUploadTypes, name, typ) {
		name, typ, data = "notes.txt", "text/plain", []byte("card 4242 declined")
	}
	return upload(id, name, typ, data), data
}

func upload(id, name, typ string, data []byte) servicedesk.FileUpload {
	return servicedesk.FileUpload{ID: id, File: servicedesk.File{Name: name, Type: typ, Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}}
}

func (f *fixture) capsAfterJoin() servicedesk.Capabilities {
	snap, err := f.s.Snapshot(f.ctx)
	f.must(err, "snapshot")
	if !snap.Capabilities.AllowFileUploads {
		ev := f.await("capabilities allowing uploads", func(ev flow.Event) bool {
			return ev.Type == flow.EventCapabilities && ev.Capabilities.AllowFileUploads
		})
		return *ev.Capabilities
	}
	return snap.Capabilities
}

func filesAccepted(f *fixture, _ Capabilities) {
	chat := f.join(ada)
	caps := f.capsAfterJoin()
	fu, data := fileFor(caps, "file-ok")
	f.must(f.s.SelectFiles(f.ctx, []servicedesk.FileUpload{fu}), "select files")
	_, err := f.s.SendMessage(f.ctx, servicedesk.NewTextRequest("here is the receipt"), []servicedesk.FileUpload{fu})
	f.must(err, "send with file")
	msg, err := chat.AwaitMessage(f.ctx)
	f.must(err, "desk: await message")
	if len(msg.Files) != 1 || !bytes.Equal(msg.Files[0].Data, data) || msg.Files[0].Name != fu.File.Name {
		f.t.Fatalf("desk got files %+v", msg.Files)
	}
	ev := f.await("file status", isType(flow.EventFileStatus))
	if ev.FileID != "file-ok" || ev.FileStatus != servicedesk.FileSuccess {
		f.t.Fatalf("file status %+v", ev)
	}
}

func filesRejected(f *fixture, _ Capabilities) {
	chat := f.join(ada)
	caps := f.capsAfterJoin()
	// Sent without selection checks, so the desk itself must refuse it.
	bad := upload("file-bad", "tool.exe", "application/x-msdownload", []byte("MZ\x90\x00"))
	if servicedesk.MatchesAccept(caps.AllowedFileUploadTypes, "tool.exe", "application/x-msdownload") {
		big := make([]byte, caps.MaxFileSizeBytes+1)
		fu, _ := fileFor(caps, "file-bad")
		bad = upload("file-bad", fu.File.Name, fu.File.Type, big)
	}
	_, err := f.s.SendMessage(f.ctx, servicedesk.MessageRequest{}, []servicedesk.FileUpload{bad})
	f.must(err, "send bad file")
	ev := f.await("file refused", isType(flow.EventFileStatus))
	if ev.FileID != "file-bad" || ev.Status != flow.MessageFailed || ev.Text == "" {
		f.t.Fatalf("file status %+v: want failed with the desk's reason", ev)
	}
	msg, err := chat.AwaitMessage(f.ctx)
	f.must(err, "desk: await message")
	if len(msg.Files) == 1 && msg.Files[0].Rejected != "" && msg.Files[0].Rejected != ev.Text {
		f.t.Errorf("user sees %q, desk's reason is %q", ev.Text, msg.Files[0].Rejected)
	}
}

func uploadFailsAfterSend(f *fixture, _ Capabilities) {
	chat := f.join(ada)
	caps := f.capsAfterJoin()
	fu, _ := fileFor(caps, "file-late")
	f.must(chat.FailNextUpload(f.ctx, "The file did not pass the virus scan"), "fail next upload")
	_, err := f.s.SendMessage(f.ctx, servicedesk.NewTextRequest("see attached"), []servicedesk.FileUpload{fu})
	f.must(err, "send")
	ev := f.await("file failed", isType(flow.EventFileStatus))
	if ev.FileID != "file-late" || ev.Status != flow.MessageFailed || ev.Text != "The file did not pass the virus scan" {
		f.t.Fatalf("file status %+v", ev)
	}
}

func (f *fixture) screenShare(accept bool) {
	chat := f.join(ada)
	f.must(chat.RequestScreenShare(f.ctx), "request screen share")
	f.await("screen share requested", func(ev flow.Event) bool {
		return ev.Type == flow.EventScreenShare && ev.ScreenShare == flow.ScreenShareRequested
	})
	f.must(f.s.AnswerScreenShare(f.ctx, accept), "answer")
	got, err := chat.AwaitScreenShare(f.ctx)
	f.must(err, "desk: await screen share answer")
	want := servicedesk.ScreenShareDeclined
	if accept {
		want = servicedesk.ScreenShareAccepted
	}
	if got != want {
		f.t.Fatalf("desk got %s, want %s", got, want)
	}
}

func screenShareCancelled(f *fixture, _ Capabilities) {
	chat := f.join(ada)
	f.must(chat.RequestScreenShare(f.ctx), "request screen share")
	f.await("requested", func(ev flow.Event) bool {
		return ev.Type == flow.EventScreenShare && ev.ScreenShare == flow.ScreenShareRequested
	})
	f.must(chat.CancelScreenShare(f.ctx), "cancel")
	f.await("cancelled", func(ev flow.Event) bool {
		return ev.Type == flow.EventScreenShare && ev.ScreenShare == flow.ScreenShareCancelled
	})
	if err := f.s.AnswerScreenShare(f.ctx, true); !errors.Is(err, flow.ErrNoScreenShareRequest) {
		f.t.Fatalf("answer after cancel: %v", err)
	}
}

func screenShareStopped(f *fixture, _ Capabilities) {
	f.screenShare(true)
	chat := f.lastChat
	f.must(f.s.StopScreenShare(f.ctx), "stop sharing")
	got, err := chat.AwaitScreenShare(f.ctx)
	f.must(err, "desk: await stop")
	if got != servicedesk.ScreenShareEnded {
		f.t.Fatalf("desk got %s, want ended", got)
	}
}

func reconnectAfterRestart(f *fixture, _ Capabilities) {
	chat := f.join(ada)
	id, err := f.s.SendText(f.ctx, "before the restart")
	f.must(err, "send")
	m, err := chat.AwaitMessage(f.ctx)
	f.must(err, "desk: await message")
	if m.ID != id {
		f.t.Fatalf("desk got %+v", m)
	}
	f.await("sent", func(ev flow.Event) bool { return ev.Type == flow.EventMessageStatus && ev.MessageID == id })
	rec, err := f.store.Load(f.ctx, sessionID)
	f.must(err, "load record")
	if len(rec.DeskState) == 0 || string(rec.DeskState) == "{}" {
		f.t.Fatal("the kit persisted no state: a restart cannot find the chat")
	}
	f.restart()
	f.await("reconnected", isState(flow.StateConnected))
	id2, err := f.s.SendText(f.ctx, "after the restart")
	f.must(err, "send after restart")
	m, err = chat.AwaitMessage(f.ctx)
	f.must(err, "desk: await message after restart")
	if m.ID != id2 {
		f.t.Fatalf("desk got %+v after restart", m)
	}
	f.must(chat.Say(f.ctx, servicedesk.TextResponse("Welcome back")), "say")
	am := f.await("agent message after restart", isType(flow.EventAgentMessage))
	if am.Message.PlainText() != "Welcome back" {
		f.t.Fatalf("got %q", am.Message.PlainText())
	}
}

// exchange sends n messages each way at once and checks that both sides got
// all of them, once each, in order.
func (f *fixture) exchange(chat Chat, n int, during func()) {
	f.t.Helper()
	userIDs := make([]string, 0, n)
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := chat.Say(f.ctx, servicedesk.TextResponse(fmt.Sprintf("agent %d", i))); err != nil {
				errc <- fmt.Errorf("agent says %d: %w", i, err)
				return
			}
		}
		errc <- nil
	}()
	for i := range n {
		if i == n/3 && during != nil {
			during()
		}
		id, err := f.s.SendText(f.ctx, fmt.Sprintf("user %d", i))
		f.must(err, "send")
		userIDs = append(userIDs, id)
	}
	f.must(<-errc, "agent side")
	var got []string
	for len(got) < n {
		m, err := chat.AwaitMessage(f.ctx)
		f.must(err, fmt.Sprintf("desk: await user message %d", len(got)))
		got = append(got, m.ID)
	}
	if !slices.Equal(got, userIDs) {
		f.t.Fatalf("desk got user messages %v, want %v (lost, duplicated or reordered)", got, userIDs)
	}
	var texts []string
	for len(texts) < n {
		ev := f.await(fmt.Sprintf("agent message %d", len(texts)), isType(flow.EventAgentMessage))
		texts = append(texts, ev.Message.PlainText())
	}
	for i, txt := range texts {
		if txt != fmt.Sprintf("agent %d", i) {
			f.t.Fatalf("user saw agent messages %q (lost, duplicated or reordered)", texts)
		}
	}
	// Nothing extra arrives afterwards.
	ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
	defer cancel()
	for {
		evs, err := f.sub.Next(ctx)
		if err != nil {
			break
		}
		for _, ev := range evs {
			f.seen = append(f.seen, ev)
			if ev.Type == flow.EventAgentMessage {
				f.t.Fatalf("extra agent message after the exchange: %q", ev.Message.PlainText())
			}
		}
	}
	if m, err := awaitQuiet(chat, f.ctx); err == nil {
		f.t.Fatalf("extra user message at the desk: %+v", m)
	}
}

func awaitQuiet(chat Chat, parent context.Context) (CustomerMessage, error) {
	ctx, cancel := context.WithTimeout(parent, 300*time.Millisecond)
	defer cancel()
	return chat.AwaitMessage(ctx)
}

func connectionLost(f *fixture, _ Capabilities) {
	chat := f.join(ada)
	f.exchange(chat, 10, func() {
		f.must(chat.DropConnection(f.ctx), "drop connection")
	})
	var lost, back bool
	for _, ev := range f.seen {
		switch ev.Type {
		case flow.EventDisconnected:
			lost = true
		case flow.EventReconnected:
			back = lost
		}
	}
	if !lost || !back {
		f.t.Fatalf("want DISCONNECTED true then false around the drop; events: %s", f.describe())
	}
}

func (f *fixture) faults() Faults {
	if f.h.Faults == nil {
		f.t.Skip("the harness injects no faults (Harness.Faults is nil)")
	}
	return f.h.Faults
}

func deskErrorsRetried(f *fixture, _ Capabilities) {
	fl := f.faults()
	chat := f.join(ada)
	f.must(fl.Set(f.ctx, FaultProfile{Seed: 7, ServerErrorRate: 0.3, RateLimitRate: 0.2, RetryAfterSeconds: 1}), "set faults")
	f.exchange(chat, 8, nil)
	f.must(fl.Set(f.ctx, FaultProfile{}), "clear faults")
	n, err := fl.Injected(f.ctx)
	f.must(err, "injected")
	if n["server_error"]+n["rate_limit"] == 0 {
		f.t.Fatalf("no fault was injected (%v): the scenario proved nothing", n)
	}
}

func duplicateAndReordered(f *fixture, _ Capabilities) {
	fl := f.faults()
	chat := f.join(ada)
	f.must(fl.Set(f.ctx, FaultProfile{Seed: 11, DuplicateRate: 0.5, ReorderRate: 0.3}), "set faults")
	f.exchange(chat, 12, nil)
	f.must(fl.Set(f.ctx, FaultProfile{}), "clear faults")
	n, err := fl.Injected(f.ctx)
	f.must(err, "injected")
	if n["duplicate"]+n["reorder"] == 0 {
		f.t.Fatalf("no duplicate or reorder was injected (%v)", n)
	}
}

func closeIdempotent(f *fixture, _ Capabilities) {
	d := f.deskFor("close-twice")
	c, ok := d.(io.Closer)
	if !ok {
		f.t.Fatal("a kit's desk must implement io.Closer, so engines can stop its goroutines")
	}
	f.must(c.Close(), "first Close")
	f.must(c.Close(), "second Close")
	err := d.SendMessageToAgent(f.ctx, servicedesk.NewTextRequest("x"), "x", servicedesk.AdditionalDataToAgent{})
	if err == nil {
		f.t.Fatal("SendMessageToAgent after Close succeeded")
	}
}

func closeWhileBlocked(f *fixture, _ Capabilities) {
	fl := f.faults()
	chat := f.join(ada)
	_ = chat
	f.must(fl.Set(f.ctx, FaultProfile{Seed: 3, ServerErrorRate: 1}), "set faults")
	_, err := f.s.SendText(f.ctx, "stuck behind desk errors")
	f.must(err, "send")
	time.Sleep(200 * time.Millisecond) // the kit is now retrying
	done := make(chan error, 1)
	go func() { done <- f.engine.Close(context.Background()) }()
	select {
	case err := <-done:
		f.must(err, "close")
	case <-time.After(5 * time.Second):
		f.t.Fatal("Close did not return while a desk call was retrying")
	}
	f.must(fl.Set(f.ctx, FaultProfile{}), "clear faults")
}

func noGoroutineLeaks(f *fixture, caps Capabilities) {
	// The harness (desk, servers) runs before and after; only what the kit
	// and engine start must be gone. Idle keep-alive connections of HTTP
	// pools (the harness's server, a kit's process-wide client) are the
	// pools' to close, not the sessions'.
	opt := goleak.IgnoreCurrent()
	pools := []goleak.Option{
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
	}
	f.must(f.engine.Close(f.ctx), "close first engine")
	f.startEngine()
	chat := f.join(ada)
	f.exchange(chat, 3, nil)
	f.must(f.s.EndChat(f.ctx, flow.EndOptions{}), "end")
	f.await("ended", isState(flow.StateEnded))
	f.must(f.engine.Close(f.ctx), "close engine")
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := goleak.Find(append(pools, opt)...)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("goroutines left after the engine and its desks closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type instance string

func (i instance) SessionID() string { return string(i) }

var discard = slog.New(slog.DiscardHandler)

// nopCallback serves desks built outside an engine (declaration checks).
type nopCallback struct{}

func (nopCallback) UpdateCapabilities(servicedesk.CapabilitiesUpdate)     {}
func (nopCallback) UpdateAgentAvailability(servicedesk.AgentAvailability) {}
func (nopCallback) AgentJoined(servicedesk.AgentProfile)                  {}
func (nopCallback) AgentReadMessages()                                    {}
func (nopCallback) AgentTyping(bool)                                      {}
func (nopCallback) SendMessageToUser(servicedesk.MessageResponse, string) {}
func (nopCallback) SendTextToUser(string, string)                         {}
func (nopCallback) BeginTransferToAnotherAgent(*servicedesk.AgentProfile) {}
func (nopCallback) AgentLeftChat()                                        {}
func (nopCallback) AgentEndedChat()                                       {}
func (nopCallback) SetErrorStatus(servicedesk.ErrorInfo)                  {}
func (nopCallback) SetFileUploadStatus(string, bool, string)              {}
func (nopCallback) ScreenShareEnded()                                     {}
func (nopCallback) PersistedState() json.RawMessage                       { return nil }
func (nopCallback) UpdatePersistedState(any) error                        { return nil }
func (nopCallback) ReplacePersistedState(any) error                       { return nil }
func (nopCallback) ScreenShareRequest(context.Context) (servicedesk.ScreenShareState, error) {
	return servicedesk.ScreenShareDeclined, nil
}
