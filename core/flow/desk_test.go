package flow

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// fakeDesk is an in-test desk with every optional method. Its behaviour is
// set per test; every call is recorded.
type fakeDesk struct {
	mu       sync.Mutex
	params   servicedesk.FactoryParams
	calls    []string
	sent     []sentMessage
	ended    []servicedesk.EndChatInfo
	typing   []bool
	selected [][]servicedesk.FileUpload

	online       servicedesk.OnlineStatus
	onlineErr    error
	startErr     error
	sendErr      func(id string) error
	reconnectOK  bool
	reconnectErr error
	// block, when set for a method name, makes that method wait for the
	// channel to close or its context to end.
	block map[string]chan struct{}
	// onCall, when set, sees every call as it is recorded.
	onCall func(call string)
	// noReconnect hides Reconnect (see lessDesk).
}

type sentMessage struct {
	ID    string
	Text  string
	Files []servicedesk.FileUpload
}

func newFakeDesk() *fakeDesk {
	return &fakeDesk{online: servicedesk.Online, reconnectOK: true, block: map[string]chan struct{}{}}
}

func (d *fakeDesk) record(call string) {
	d.mu.Lock()
	d.calls = append(d.calls, call)
	on := d.onCall
	d.mu.Unlock()
	if on != nil {
		on(call)
	}
}

func (d *fakeDesk) wait(ctx context.Context, call string) error {
	d.mu.Lock()
	ch := d.block[call]
	d.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *fakeDesk) Block(call string) chan struct{} {
	ch := make(chan struct{})
	d.mu.Lock()
	d.block[call] = ch
	d.mu.Unlock()
	return ch
}

func (d *fakeDesk) Calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.calls...)
}

func (d *fakeDesk) Count(call string) int {
	n := 0
	for _, c := range d.Calls() {
		if c == call {
			n++
		}
	}
	return n
}

func (d *fakeDesk) Sent() []sentMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]sentMessage(nil), d.sent...)
}

func (d *fakeDesk) CB() servicedesk.Callback { return d.params.Callback }

func (d *fakeDesk) Name() string { return "fake" }

func (d *fakeDesk) StartChat(ctx context.Context, _ servicedesk.MessageResponse, _ servicedesk.StartChatOptions) error {
	d.record("StartChat")
	if err := d.wait(ctx, "StartChat"); err != nil {
		return err
	}
	return d.startErr
}

func (d *fakeDesk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	d.record("EndChat")
	d.mu.Lock()
	d.ended = append(d.ended, info)
	d.mu.Unlock()
	return d.wait(ctx, "EndChat")
}

func (d *fakeDesk) SendMessageToAgent(ctx context.Context, m servicedesk.MessageRequest, id string, data servicedesk.AdditionalDataToAgent) error {
	d.record("SendMessageToAgent")
	if err := d.wait(ctx, "SendMessageToAgent"); err != nil {
		return err
	}
	if id != m.ID {
		return errors.New("message id differs from message.ID")
	}
	d.mu.Lock()
	d.sent = append(d.sent, sentMessage{ID: id, Text: m.Input.Text, Files: data.FilesToUpload})
	f := d.sendErr
	d.mu.Unlock()
	if f != nil {
		return f(id)
	}
	return nil
}

func (d *fakeDesk) AreAnyAgentsOnline(ctx context.Context, _ servicedesk.MessageResponse) (servicedesk.OnlineStatus, error) {
	d.record("AreAnyAgentsOnline")
	if err := d.wait(ctx, "AreAnyAgentsOnline"); err != nil {
		return "", err
	}
	return d.online, d.onlineErr
}

func (d *fakeDesk) UserTyping(_ context.Context, on bool) error {
	d.record("UserTyping")
	d.mu.Lock()
	d.typing = append(d.typing, on)
	d.mu.Unlock()
	return nil
}

func (d *fakeDesk) UserReadMessages(context.Context) error { d.record("UserReadMessages"); return nil }

func (d *fakeDesk) FilesSelectedForUpload(_ context.Context, f []servicedesk.FileUpload) error {
	d.record("FilesSelectedForUpload")
	d.mu.Lock()
	d.selected = append(d.selected, f)
	d.mu.Unlock()
	return nil
}

func (d *fakeDesk) ScreenShareStop(context.Context) error { d.record("ScreenShareStop"); return nil }

func (d *fakeDesk) Reconnect(ctx context.Context) (bool, error) {
	d.record("Reconnect")
	if err := d.wait(ctx, "Reconnect"); err != nil {
		return false, err
	}
	return d.reconnectOK, d.reconnectErr
}

func (d *fakeDesk) UpdateState(context.Context, servicedesk.ChatState) error {
	d.record("UpdateState")
	return nil
}

// lessDesk has only the required methods (no embedding, which would
// promote the optional ones too).
type lessDesk struct{ d *fakeDesk }

func (l lessDesk) Name() string { return l.d.Name() }
func (l lessDesk) StartChat(ctx context.Context, m servicedesk.MessageResponse, o servicedesk.StartChatOptions) error {
	return l.d.StartChat(ctx, m, o)
}
func (l lessDesk) EndChat(ctx context.Context, i servicedesk.EndChatInfo) error {
	return l.d.EndChat(ctx, i)
}
func (l lessDesk) SendMessageToAgent(ctx context.Context, m servicedesk.MessageRequest, id string, a servicedesk.AdditionalDataToAgent) error {
	return l.d.SendMessageToAgent(ctx, m, id, a)
}

// rig is an engine whose desks are fakeDesks, one per session.
type rig struct {
	t      testing.TB
	engine *Engine
	store  Store
	mu     sync.Mutex
	desks  map[string]*fakeDesk
	setup  func(*fakeDesk)
	bare   bool // desks without optional methods
}

func newRig(t testing.TB, opts Options) *rig {
	t.Helper()
	r := &rig{t: t, desks: map[string]*fakeDesk{}}
	if opts.Store == nil {
		opts.Store = NewMemoryStore(0)
	}
	r.store = opts.Store
	r.start(opts)
	return r
}

func (r *rig) start(opts Options) {
	opts.Store = r.store
	e, err := NewEngine(func(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		d := newFakeDesk()
		d.params = p
		r.mu.Lock()
		if r.setup != nil {
			r.setup(d)
		}
		r.desks[p.Instance.SessionID()] = d
		bare := r.bare
		r.mu.Unlock()
		if bare {
			return lessDesk{d}, nil
		}
		return d, nil
	}, opts)
	if err != nil {
		r.t.Fatal(err)
	}
	r.engine = e
	r.t.Cleanup(func() { _ = e.Close(context.Background()) })
}

// restart closes the engine and starts a new one over the same store.
func (r *rig) restart(opts Options) {
	if err := r.engine.Close(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.desks = map[string]*fakeDesk{}
	r.mu.Unlock()
	r.start(opts)
}

func (r *rig) desk(id string) *fakeDesk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.desks[id]
}

func (r *rig) session(id string) *Session {
	s, err := r.engine.Session(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// eventually polls cond until it holds or 5s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// collect reads events until one matches want, returning all read.
func collect(t testing.TB, sub *Subscription, want func(Event) bool) []Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var all []Event
	for {
		evs, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for an event: %v (got %v)", err, types(all))
		}
		all = append(all, evs...)
		for _, ev := range evs {
			if want(ev) {
				return all
			}
		}
	}
}

func types(evs []Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = string(ev.Type)
		if ev.Type == EventState {
			out[i] += ":" + ev.State.String()
		}
	}
	return out
}

func isState(st State) func(Event) bool {
	return func(ev Event) bool { return ev.Type == EventState && ev.State == st }
}

func isType(tp EventType) func(Event) bool {
	return func(ev Event) bool { return ev.Type == tp }
}

var (
	ada        = servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman}
	grace      = servicedesk.AgentProfile{ID: "grace", Nickname: "Grace", UserType: servicedesk.UserHuman}
	bgCtx      = context.Background()
	connectMsg = servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: "help"})
)
