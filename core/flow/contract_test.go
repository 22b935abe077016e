package flow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestStartChatRightAfterEndWaitsForTheEnd: a new request made while the
// last chat's end is still with the desk starts once that end is done,
// instead of failing with ErrChatRunning (a user who ends and asks again
// has no chat running).
func TestStartChatRightAfterEndWaitsForTheEnd(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		release := d.Block("EndChat")
		must(t, s.EndChat(bgCtx, EndOptions{}))
		synctest.Wait()
		if s.State() != StateEnding {
			t.Fatalf("state %s, want ending", s.State())
		}
		done := make(chan error, 1)
		go func() {
			done <- s.StartChat(bgCtx, connectMsg, StartOptions{Payload: []byte(`{"topic":"again"}`)})
		}()
		time.Sleep(time.Second)
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("StartChat returned before the end was done: %v", err)
		default:
		}
		close(release)
		synctest.Wait()
		if err := <-done; err != nil {
			t.Fatalf("StartChat after the end: %v", err)
		}
		if s.State() != StateWaiting {
			t.Fatalf("state %s, want waiting", s.State())
		}
		calls := strings.Join(d.Calls(), ",")
		if !strings.HasSuffix(calls, "EndChat,StartChat") {
			t.Errorf("desk calls %s: want the end before the new start", calls)
		}
	})
}

// TestCommittedEndIgnoresHookCancel: when the user's side has already
// ended the chat (Carbon does before it calls endChat), the PreEndChat hook
// may set the payload but not keep the chat going: it would be a desk chat
// nobody sees.
func TestCommittedEndIgnoresHookCancel(t *testing.T) {
	hook := func(_ context.Context, ev *PreEndChat) error {
		ev.Cancel = true
		ev.Payload = []byte(`{"survey":true}`)
		return nil
	}
	bubble(t, Options{PreEndChat: hook}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		if err := s.EndChat(bgCtx, EndOptions{}); !errors.Is(err, ErrEndCancelled) {
			t.Fatalf("a host end: %v, want ErrEndCancelled", err)
		}
		must(t, s.EndChat(bgCtx, EndOptions{Committed: true}))
		synctest.Wait()
		if s.State() != StateEnded {
			t.Fatalf("state %s, want ended", s.State())
		}
		if len(d.ended) != 1 || string(d.ended[0].PreEndChatPayload) != `{"survey":true}` {
			t.Errorf("desk ends %+v, want one with the hook's payload", d.ended)
		}
	})
}

// TestEndedByAgentReachesTheDesk: EndOptions.EndedByAgent is the desk's
// EndChatInfo.EndedByHumanAgent, and the end's reason is the agent's.
func TestEndedByAgentReachesTheDesk(t *testing.T) {
	bubble(t, Options{AssistantReturnDelay: -1}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		must(t, s.EndChat(bgCtx, EndOptions{EndedByAgent: true}))
		synctest.Wait()
		if len(d.ended) != 1 || !d.ended[0].EndedByHumanAgent {
			t.Fatalf("desk ends %+v, want endedByHumanAgent", d.ended)
		}
		ends := ofType(logOf(t, s), EventChatEnded)
		if len(ends) != 1 || ends[0].Reason != EndByAgent || !ends[0].EndedByAgent {
			t.Errorf("chat_ended %+v", ends)
		}
	})
}

// TestUserMessageErrorWhileInFlight: a USER_MESSAGE error for a message
// whose send is still running is not dropped: the message is reported
// failed once, when the send answers, even if it answers nil.
func TestUserMessageErrorWhileInFlight(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		release := d.Block("SendMessageToAgent")
		id, err := s.SendText(bgCtx, "hello")
		must(t, err)
		synctest.Wait()
		d.CB().SetErrorStatus(servicedesk.UserMessageError(id))
		synctest.Wait()
		close(release)
		synctest.Wait()
		st := ofType(logOf(t, s), EventMessageStatus)
		if len(st) != 1 || st[0].MessageID != id || st[0].Status != MessageFailed {
			t.Fatalf("message statuses %+v, want one failed for %s", st, id)
		}
		if n := s.Stats().Dropped["SetErrorStatus(USER_MESSAGE): message in flight"]; n != 0 {
			t.Errorf("the error was dropped")
		}
	})
}

// TestDeskNameRule: Carbon refuses a desk whose getName is empty or longer
// than 40 characters; so does the engine.
func TestDeskNameRule(t *testing.T) {
	for _, name := range []string{"", strings.Repeat("n", 41), strings.Repeat("é", 41)} {
		if err := servicedesk.CheckName(name); !errors.Is(err, servicedesk.ErrBadName) {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"d", strings.Repeat("n", 40), strings.Repeat("é", 40)} {
		if err := servicedesk.CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		e, err := NewEngine(func(context.Context, servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
			return namedDesk{lessDesk{newFakeDesk()}, strings.Repeat("x", 41)}, nil
		}, Options{})
		must(t, err)
		s, err := e.Session(bgCtx, "s")
		must(t, err)
		if err := s.StartChat(bgCtx, connectMsg, StartOptions{}); !errors.Is(err, servicedesk.ErrBadName) {
			t.Errorf("StartChat with a 41-character desk name: %v", err)
		}
		must(t, e.Close(bgCtx))
	})
}

type namedDesk struct {
	lessDesk
	name string
}

func (n namedDesk) Name() string { return n.name }

// TestBeginTransferWithoutProfileCarriesNone: Carbon's
// beginTransferToAnotherAgent(profile?) without a profile reaches front
// ends without one, not with the current agent's.
func TestBeginTransferWithoutProfileCarriesNone(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		d.CB().BeginTransferToAnotherAgent(nil)
		synctest.Wait()
		tr := ofType(logOf(t, s), EventTransfer)
		if len(tr) != 1 || tr[0].Profile != nil {
			t.Fatalf("transfer events %+v, want one without a profile", tr)
		}
		d.CB().BeginTransferToAnotherAgent(&grace)
		synctest.Wait()
		if tr = ofType(logOf(t, s), EventTransfer); len(tr) != 2 || tr[1].Profile == nil || tr[1].Profile.ID != "grace" {
			t.Fatalf("transfer events %+v, want the second with grace", tr)
		}
	})
}

// TestCancelledScreenShareReachesTheDeskAsCancelled: the user closing the
// request is not a refusal; and a request while the desk connection is
// lost is still asked (the agent is there).
func TestCancelledScreenShareReachesTheDeskAsCancelled(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		d.CB().SetErrorStatus(servicedesk.DisconnectedError(true))
		synctest.Wait()
		answer := make(chan servicedesk.ScreenShareState, 1)
		go func() {
			st, err := d.CB().ScreenShareRequest(bgCtx)
			if err != nil {
				t.Errorf("screen share request while disconnected: %v", err)
			}
			answer <- st
		}()
		synctest.Wait()
		must(t, s.CancelScreenShare(bgCtx))
		if st := <-answer; st != servicedesk.ScreenShareCancelled {
			t.Errorf("desk got %q, want cancelled", st)
		}
	})
}

// TestAreAnyAgentsOnlineNeverAutoStarts: the check for a front end that
// starts chats itself (Carbon's skipConnectHumanAgentCard) leaves the chat
// to it, whatever Options.AutoStart says; CheckAvailability still starts.
func TestAreAnyAgentsOnlineNeverAutoStarts(t *testing.T) {
	bubble(t, Options{AutoStart: true}, func(t *testing.T, r *rig) {
		s := r.session("s")
		st, err := s.AreAnyAgentsOnline(bgCtx, connectMsg)
		must(t, err)
		synctest.Wait()
		if st != servicedesk.Online || s.State() != StateIdle {
			t.Fatalf("AreAnyAgentsOnline: %s, state %s; want online and idle", st, s.State())
		}
		_, err = s.CheckAvailability(bgCtx, connectMsg)
		must(t, err)
		synctest.Wait()
		if s.State() != StateWaiting {
			t.Fatalf("CheckAvailability with AutoStart: state %s, want waiting", s.State())
		}
	})
}

// TestAvailabilityBoundByTheCallersDeadline: a caller's deadline shorter
// than AvailabilityTimeout (Carbon's availabilityTimeoutSeconds) bounds the
// check, and the answer is offline, as Carbon takes it.
func TestAvailabilityBoundByTheCallersDeadline(t *testing.T) {
	bubble(t, Options{AvailabilityTimeout: 5 * time.Second}, func(t *testing.T, r *rig) {
		r.setup = func(d *fakeDesk) { d.block["AreAnyAgentsOnline"] = make(chan struct{}) }
		s := r.session("s")
		ctx, cancel := context.WithTimeout(bgCtx, 2*time.Second)
		defer cancel()
		start := time.Now()
		st, _ := s.AreAnyAgentsOnline(ctx, connectMsg)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %s, want the caller's 2s", took)
		}
		if st != servicedesk.Offline {
			t.Errorf("answer %s, want offline", st)
		}
	})
}
