package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// env is a session driven into a known state inside a synctest bubble.
type env struct {
	r       *rig
	s       *Session
	d       *fakeDesk
	release func() // unblocks what holds the state (hook, desk call)
}

// drive builds a session in state st. Every desk call returns at once unless
// the state needs one held (Starting: the pre-start hook; Reconnecting: the
// desk's Reconnect; Ending: the desk's EndChat).
func drive(t *testing.T, st State) *env {
	hold := make(chan struct{})
	opts := Options{AgentJoinTimeout: time.Minute}
	if st == StateStarting {
		opts.PreStartChat = func(ctx context.Context, _ *PreStartChat) error {
			<-hold
			return nil
		}
	}
	r := newRig(t, opts)
	en := &env{r: r, release: func() {}}
	en.s = r.session("s")
	en.release = func() {
		select {
		case <-hold:
		default:
			close(hold)
		}
	}
	if st == StateIdle {
		return en
	}
	if st == StateStarting {
		go func() { _ = en.s.StartChat(bgCtx, connectMsg, StartOptions{}) }()
		synctest.Wait()
		en.d = r.desk("s")
		return en
	}
	must(t, en.s.StartChat(bgCtx, connectMsg, StartOptions{}))
	synctest.Wait()
	en.d = r.desk("s")
	cb := en.d.CB()
	switch st {
	case StateWaiting:
	case StateEnded:
		must(t, en.s.EndChat(bgCtx, EndOptions{}))
	default:
		cb.AgentJoined(ada)
	}
	synctest.Wait()
	switch st {
	case StateAgentLeft:
		cb.AgentLeftChat()
	case StateTransferring:
		cb.BeginTransferToAnotherAgent(&grace)
	case StateDisconnected:
		cb.SetErrorStatus(servicedesk.DisconnectedError(true))
	case StateEnding:
		en.d.Block("EndChat")
		must(t, en.s.EndChat(bgCtx, EndOptions{}))
	case StateReconnecting:
		r.setup = func(d *fakeDesk) {
			ch := d.Block("Reconnect")
			en.release = func() { close(ch) }
		}
		r.restart(Options{AgentJoinTimeout: time.Minute})
		en.s = r.session("s")
		synctest.Wait()
		en.d = r.desk("s")
	}
	synctest.Wait()
	if got := en.s.State(); got != st {
		t.Fatalf("drive: state %s, want %s", got, st)
	}
	return en
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// trigger is one host command or desk callback.
type trigger struct {
	name string
	run  func(en *env) error
}

func cbOf(en *env) servicedesk.Callback {
	if en.d != nil {
		return en.d.CB()
	}
	// No desk yet (idle): the session's callback is still reachable.
	return en.s.cb
}

var triggers = []trigger{
	{"StartChat", func(en *env) error { return en.s.StartChat(bgCtx, connectMsg, StartOptions{}) }},
	{"EndChat", func(en *env) error { return en.s.EndChat(bgCtx, EndOptions{}) }},
	{"SendMessage", func(en *env) error { _, err := en.s.SendText(bgCtx, "hi"); return err }},
	{"UserTyping", func(en *env) error { return en.s.UserTyping(bgCtx, true) }},
	{"UserRead", func(en *env) error { return en.s.UserRead(bgCtx) }},
	{"SelectFiles", func(en *env) error {
		return en.s.SelectFiles(bgCtx, []servicedesk.FileUpload{{ID: "f1", File: servicedesk.File{Name: "a.png", Size: 1, Type: "image/png"}}})
	}},
	{"AnswerScreenShare", func(en *env) error { return en.s.AnswerScreenShare(bgCtx, true) }},
	{"StopScreenShare", func(en *env) error { return en.s.StopScreenShare(bgCtx) }},
	{"SetSuspended", func(en *env) error { return en.s.SetSuspended(bgCtx, true) }},
	{"CheckAvailability", func(en *env) error { _, err := en.s.CheckAvailability(bgCtx, connectMsg); return err }},
	{"UpdateCapabilities", func(en *env) error {
		cbOf(en).UpdateCapabilities(servicedesk.CapabilitiesUpdate{AllowFileUploads: ptr(true)})
		return nil
	}},
	{"UpdateAgentAvailability", func(en *env) error { cbOf(en).UpdateAgentAvailability(servicedesk.QueuePosition(3)); return nil }},
	{"AgentJoined(same)", func(en *env) error { cbOf(en).AgentJoined(ada); return nil }},
	{"AgentJoined(other)", func(en *env) error {
		cbOf(en).AgentJoined(servicedesk.AgentProfile{ID: "lin", Nickname: "Lin"})
		return nil
	}},
	{"AgentReadMessages", func(en *env) error { cbOf(en).AgentReadMessages(); return nil }},
	{"AgentTyping", func(en *env) error { cbOf(en).AgentTyping(true); return nil }},
	{"SendMessageToUser", func(en *env) error { cbOf(en).SendTextToUser("hello", ""); return nil }},
	{"SendMessageToUser(empty)", func(en *env) error { cbOf(en).SendMessageToUser(servicedesk.MessageResponse{}, ""); return nil }},
	{"BeginTransfer(profile)", func(en *env) error {
		cbOf(en).BeginTransferToAnotherAgent(&servicedesk.AgentProfile{ID: "kay"})
		return nil
	}},
	{"BeginTransfer(nil)", func(en *env) error { cbOf(en).BeginTransferToAnotherAgent(nil); return nil }},
	{"AgentLeftChat", func(en *env) error { cbOf(en).AgentLeftChat(); return nil }},
	{"AgentEndedChat", func(en *env) error { cbOf(en).AgentEndedChat(); return nil }},
	{"Error(CONNECTING)", func(en *env) error { cbOf(en).SetErrorStatus(servicedesk.ConnectingError("")); return nil }},
	{"Error(DISCONNECTED true)", func(en *env) error { cbOf(en).SetErrorStatus(servicedesk.DisconnectedError(true)); return nil }},
	{"Error(DISCONNECTED false)", func(en *env) error { cbOf(en).SetErrorStatus(servicedesk.DisconnectedError(false)); return nil }},
	{"Error(USER_MESSAGE unknown)", func(en *env) error { cbOf(en).SetErrorStatus(servicedesk.UserMessageError("nope")); return nil }},
	{"SetFileUploadStatus(unknown)", func(en *env) error { cbOf(en).SetFileUploadStatus("nope", true, "x"); return nil }},
	{"ScreenShareRequest", func(en *env) error {
		// Answered below by the table's expectation; here only its error counts.
		errc := make(chan error, 1)
		go func() { _, err := cbOf(en).ScreenShareRequest(bgCtx); errc <- err }()
		synctest.Wait()
		select {
		case err := <-errc:
			return err
		default:
			return nil // pending: a request is open
		}
	}},
	{"ScreenShareEnded", func(en *env) error { cbOf(en).ScreenShareEnded(); return nil }},
	{"UpdatePersistedState", func(en *env) error { return cbOf(en).UpdatePersistedState(map[string]any{"k": 1}) }},
	// Time passing fires the join timeout (waiting), the reconnect timeout
	// (reconnecting) and the end-chat timeout (ending).
	{"TimePasses(61s)", func(en *env) error { time.Sleep(time.Minute + time.Second); return nil }},
}

// table: for each trigger, the outcome in each state, in AllStates order:
// idle, starting, waiting, connected, agent_left, transferring, disconnected,
// reconnecting, ending, ended. An outcome is the state after the system
// settles ("=" for unchanged), then optionally " drop" (the call was
// recorded as dropped) and " !err" (the call returned that error).
var table = map[string][10]string{
	//                          idle              starting          waiting           connected         agent_left        transferring      disconnected      reconnecting      ending            ended
	"StartChat":                    {"waiting", "= !running", "= !running", "= !running", "= !running", "= !running", "= !running", "= !running", "waiting", "waiting"},
	"EndChat":                      {"= !nochat", "ended", "ended", "ended", "ended", "ended", "ended", "ended", "=", "= !nochat"},
	"SendMessage":                  {"= !nochat", "=", "=", "=", "=", "=", "=", "=", "= !nochat", "= !nochat"},
	"UserTyping":                   {"= !nochat", "= !nochat", "= !nochat", "=", "=", "=", "= !nochat", "= !nochat", "= !nochat", "= !nochat"},
	"UserRead":                     {"= !nochat", "= !nochat", "= !nochat", "=", "=", "=", "= !nochat", "= !nochat", "= !nochat", "= !nochat"},
	"SelectFiles":                  {"= !nochat", "=", "=", "=", "=", "=", "=", "=", "= !nochat", "= !nochat"},
	"AnswerScreenShare":            {"= !noshare", "= !noshare", "= !noshare", "= !noshare", "= !noshare", "= !noshare", "= !noshare", "= !noshare", "= !noshare", "= !noshare"},
	"StopScreenShare":              {"= !notsharing", "= !notsharing", "= !notsharing", "= !notsharing", "= !notsharing", "= !notsharing", "= !notsharing", "= !notsharing", "= !notsharing", "= !notsharing"},
	"SetSuspended":                 {"= !nochat", "=", "=", "=", "=", "=", "=", "=", "= !nochat", "= !nochat"},
	"CheckAvailability":            {"=", "=", "=", "=", "=", "=", "=", "=", "=", "="},
	"UpdateCapabilities":           {"=", "=", "=", "=", "=", "=", "=", "=", "=", "="},
	"UpdateAgentAvailability":      {"= drop", "= drop", "=", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop"},
	"AgentJoined(same)":            {"= drop", "= drop", "connected", "= drop", "connected", "connected", "= drop", "connected", "= drop", "= drop"},
	"AgentJoined(other)":           {"= drop", "= drop", "connected", "=", "connected", "connected", "=", "connected", "= drop", "= drop"},
	"AgentReadMessages":            {"= drop", "= drop", "= drop", "=", "=", "=", "=", "= drop", "= drop", "= drop"},
	"AgentTyping":                  {"= drop", "= drop", "= drop", "=", "= drop", "=", "=", "= drop", "= drop", "= drop"},
	"SendMessageToUser":            {"= drop", "= drop", "=", "=", "=", "=", "=", "=", "=", "= drop"},
	"SendMessageToUser(empty)":     {"= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop"},
	"BeginTransfer(profile)":       {"= drop", "= drop", "transferring", "transferring", "transferring", "=", "=", "= drop", "= drop", "= drop"},
	"BeginTransfer(nil)":           {"= drop", "= drop", "=", "transferring", "transferring", "= drop", "=", "= drop", "= drop", "= drop"},
	"AgentLeftChat":                {"= drop", "= drop", "= drop", "agent_left", "= drop", "agent_left", "=", "= drop", "= drop", "= drop"},
	"AgentEndedChat":               {"= drop", "= drop", "ended", "ended", "ended", "ended", "ended", "ended", "= drop", "= drop"},
	"Error(CONNECTING)":            {"= drop", "ended", "ended", "ended", "ended", "ended", "ended", "ended", "= drop", "= drop"},
	"Error(DISCONNECTED true)":     {"= drop", "= drop", "ended", "disconnected", "disconnected", "disconnected", "= drop", "= drop", "= drop", "= drop"},
	"Error(DISCONNECTED false)":    {"= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "connected", "= drop", "= drop", "= drop"},
	"Error(USER_MESSAGE unknown)":  {"= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop"},
	"SetFileUploadStatus(unknown)": {"= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop"},
	"ScreenShareRequest":           {"= !nochat", "= !nochat", "= !nochat", "=", "=", "=", "=", "= !nochat", "= !nochat", "= !nochat"},
	"ScreenShareEnded":             {"= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop", "= drop"},
	"UpdatePersistedState":         {"=", "=", "=", "=", "=", "=", "=", "=", "=", "="},
	"TimePasses(61s)":              {"=", "=", "ended", "=", "=", "=", "=", "ended", "ended", "="},
}

var tableErrs = map[string]error{
	"running":    ErrChatRunning,
	"nochat":     ErrNoChat,
	"noshare":    ErrNoScreenShareRequest,
	"notsharing": ErrNotSharing,
}

func TestTransitionTable(t *testing.T) {
	for _, tr := range triggers {
		row, ok := table[tr.name]
		if !ok {
			t.Fatalf("trigger %s has no row in the table", tr.name)
		}
		for i, from := range AllStates {
			want := row[i]
			t.Run(fmt.Sprintf("%s/%s", from, tr.name), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					en := drive(t, from)
					dropsBefore := en.s.Stats().DroppedCount()
					err := tr.run(en)
					synctest.Wait()
					checkOutcome(t, en, from, want, err, dropsBefore)
					en.release()
					synctest.Wait()
					must(t, en.r.engine.Close(bgCtx))
				})
			})
		}
	}
	if len(table) != len(triggers) {
		t.Errorf("table has %d rows for %d triggers", len(table), len(triggers))
	}
}

func checkOutcome(t *testing.T, en *env, from State, want string, err error, dropsBefore uint64) {
	t.Helper()
	parts := strings.Fields(want)
	wantState := from
	if parts[0] != "=" {
		if e := wantState.UnmarshalText([]byte(parts[0])); e != nil {
			t.Fatalf("bad table entry %q", want)
		}
	}
	wantDrop, wantErr := false, error(nil)
	for _, p := range parts[1:] {
		switch {
		case p == "drop":
			wantDrop = true
		case strings.HasPrefix(p, "!"):
			wantErr = tableErrs[p[1:]]
			if wantErr == nil {
				t.Fatalf("bad error %q in table", p)
			}
		}
	}
	if got := en.s.State(); got != wantState {
		t.Errorf("state %s, want %s", got, wantState)
	}
	switch {
	case wantErr == nil && err != nil:
		t.Errorf("unexpected error %v", err)
	case wantErr != nil && !errors.Is(err, wantErr):
		t.Errorf("error %v, want %v", err, wantErr)
	}
	dropped := en.s.Stats().DroppedCount() > dropsBefore
	if dropped != wantDrop {
		t.Errorf("dropped = %v, want %v (stats %v)", dropped, wantDrop, en.s.Stats().Dropped)
	}
}

// Persisted state must be JSON: a value that does not marshal is refused.
func TestUpdatePersistedStateErrors(t *testing.T) {
	r := newRig(t, Options{MaxDeskStateBytes: 64})
	s := r.session("s")
	cb := s.cb
	if err := cb.ReplacePersistedState(func() {}); !errors.Is(err, ErrInvalid) {
		t.Errorf("func value: %v", err)
	}
	if err := cb.ReplacePersistedState(json.RawMessage("{")); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad raw JSON: %v", err)
	}
	must(t, cb.ReplacePersistedState(map[string]any{"a": 1}))
	if err := cb.UpdatePersistedState([]int{1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("merging an array: %v", err)
	}
	if err := cb.UpdatePersistedState(map[string]string{"big": strings.Repeat("x", 100)}); !errors.Is(err, ErrStateTooLarge) {
		t.Errorf("too large: %v", err)
	}
	if got := string(cb.PersistedState()); got != `{"a":1}` {
		t.Errorf("state after refused updates = %s", got)
	}
}
