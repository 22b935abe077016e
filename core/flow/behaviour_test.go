package flow

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// bubble runs f in a synctest bubble with a fresh rig, closing it after.
func bubble(t *testing.T, opts Options, f func(t *testing.T, r *rig)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, opts)
		f(t, r)
		synctest.Wait()
		must(t, r.engine.Close(bgCtx))
	})
}

// logOf returns every event of s so far.
func logOf(t *testing.T, s *Session) []Event {
	t.Helper()
	evs, err := s.EventsSince(bgCtx, 0, 0)
	must(t, err)
	return evs
}

func ofType(evs []Event, tp EventType) []Event {
	var out []Event
	for _, ev := range evs {
		if ev.Type == tp {
			out = append(out, ev)
		}
	}
	return out
}

// connected returns a session whose agent (Ada) has joined.
func connected(t *testing.T, r *rig, id string) (*Session, *fakeDesk) {
	t.Helper()
	s := r.session(id)
	must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
	synctest.Wait()
	d := r.desk(id)
	d.CB().AgentJoined(ada)
	synctest.Wait()
	if s.State() != StateConnected {
		t.Fatalf("state %s", s.State())
	}
	return s, d
}

func TestAvailabilityMapping(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*rig, *fakeDesk)
		want  servicedesk.OnlineStatus
	}{
		{"online", func(_ *rig, d *fakeDesk) { d.online = servicedesk.Online }, servicedesk.Online},
		{"offline", func(_ *rig, d *fakeDesk) { d.online = servicedesk.Offline }, servicedesk.Offline},
		{"unknown answer", func(_ *rig, d *fakeDesk) { d.online = servicedesk.OnlineUnknown }, servicedesk.OnlineUnknown},
		{"garbage answer", func(_ *rig, d *fakeDesk) { d.online = "maybe" }, servicedesk.OnlineUnknown},
		{"error", func(_ *rig, d *fakeDesk) { d.onlineErr = errors.New("boom") }, servicedesk.Offline},
		{"timeout", func(_ *rig, d *fakeDesk) { d.block["AreAnyAgentsOnline"] = make(chan struct{}) }, servicedesk.Offline},
		{"no method", func(r *rig, _ *fakeDesk) { r.bare = true }, servicedesk.OnlineUnknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bubble(t, Options{}, func(t *testing.T, r *rig) {
				r.setup = func(d *fakeDesk) { c.setup(r, d) }
				if c.name == "no method" {
					r.bare = true
				}
				s := r.session("s")
				start := time.Now()
				got, err := s.CheckAvailability(bgCtx, connectMsg)
				must(t, err)
				if got != c.want {
					t.Fatalf("status %q, want %q", got, c.want)
				}
				if c.name == "timeout" && time.Since(start) != 5*time.Second {
					t.Errorf("timed out after %v, want the 5s default", time.Since(start))
				}
				av := ofType(logOf(t, s), EventAvailability)
				if len(av) != 1 || av[0].Online != c.want {
					t.Errorf("availability events %+v", av)
				}
			})
		})
	}
}

func TestAutoStartOnlyWhenOnline(t *testing.T) {
	for _, online := range []servicedesk.OnlineStatus{servicedesk.Online, servicedesk.OnlineUnknown, servicedesk.Offline} {
		t.Run(string(online), func(t *testing.T) {
			bubble(t, Options{AutoStart: true}, func(t *testing.T, r *rig) {
				r.setup = func(d *fakeDesk) { d.online = online }
				s := r.session("s")
				_, err := s.CheckAvailability(bgCtx, connectMsg)
				must(t, err)
				synctest.Wait()
				started := s.State() == StateWaiting
				if started != (online == servicedesk.Online) {
					t.Errorf("state %s after %s", s.State(), online)
				}
			})
		})
	}
}

func TestPreStartHook(t *testing.T) {
	t.Run("cancel: desk never asked", func(t *testing.T) {
		bubble(t, Options{PreStartChat: func(_ context.Context, ev *PreStartChat) error { ev.Cancel = true; return nil }}, func(t *testing.T, r *rig) {
			s := r.session("s")
			err := s.StartChat(bgCtx, connectMsg, StartOptions{})
			if !errors.Is(err, ErrStartCancelled) {
				t.Fatalf("err %v", err)
			}
			synctest.Wait()
			if n := r.desk("s").Count("StartChat"); n != 0 {
				t.Errorf("desk asked %d times", n)
			}
			ended := ofType(logOf(t, s), EventChatEnded)
			if len(ended) != 1 || ended[0].Reason != EndCancelled || !ended[0].RequestCancelled {
				t.Errorf("chat_ended %+v", ended)
			}
		})
	})
	t.Run("payload reaches the desk", func(t *testing.T) {
		var got servicedesk.StartChatOptions
		bubble(t, Options{PreStartChat: func(_ context.Context, ev *PreStartChat) error {
			ev.Payload = json.RawMessage(`{"vip":true}`)
			return nil
		}}, func(t *testing.T, r *rig) {
			r.engine.factory = wrapFactory(r.engine.factory, func(d servicedesk.ServiceDesk) servicedesk.ServiceDesk {
				return startSpy{d, &got}
			})
			s := r.session("s")
			must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
			synctest.Wait()
			if string(got.PreStartChatPayload) != `{"vip":true}` {
				t.Errorf("payload %s", got.PreStartChatPayload)
			}
		})
	})
	t.Run("hand-off context reaches the desk, as the hook left it", func(t *testing.T) {
		var got servicedesk.StartChatOptions
		var seen servicedesk.Handoff
		bubble(t, Options{PreStartChat: func(_ context.Context, ev *PreStartChat) error {
			seen = ev.Handoff
			ev.Handoff.Attributes["checked"] = "yes"
			return nil
		}}, func(t *testing.T, r *rig) {
			r.engine.factory = wrapFactory(r.engine.factory, func(d servicedesk.ServiceDesk) servicedesk.ServiceDesk {
				return startSpy{d, &got}
			})
			msg := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: "Card declined.",
				TransferInfo: &servicedesk.TransferInfo{AdditionalData: map[string]string{"queue": "billing"}}})
			h := servicedesk.Handoff{
				Customer:   &servicedesk.Customer{ID: "c-42", Name: "Ada"},
				Attributes: map[string]string{"tier": "gold"},
				Transcript: []servicedesk.Turn{{From: servicedesk.TurnUser, Text: "my card"}, {From: servicedesk.TurnBot, Text: "declined"}},
			}
			must(t, r.session("s").StartChat(bgCtx, msg, StartOptions{Handoff: h}))
			synctest.Wait()
			if seen.Summary != "Card declined." || seen.Attributes["queue"] != "billing" {
				t.Errorf("hook saw %+v", seen)
			}
			want := h
			want.Summary = "Card declined."
			want.Attributes = map[string]string{"tier": "gold", "queue": "billing", "checked": "yes"}
			if !reflect.DeepEqual(got.Handoff, want) {
				t.Errorf("desk got %+v\nwant %+v", got.Handoff, want)
			}
		})
	})
	t.Run("error: CONNECTING shown, chat over", func(t *testing.T) {
		bubble(t, Options{PreStartChat: func(context.Context, *PreStartChat) error { panic("host bug") }}, func(t *testing.T, r *rig) {
			s := r.session("s")
			if err := s.StartChat(bgCtx, connectMsg, StartOptions{}); err == nil {
				t.Fatal("no error from a panicking hook")
			}
			evs := logOf(t, s)
			if e := ofType(evs, EventError); len(e) != 1 || e[0].ErrorType != servicedesk.ErrorConnecting {
				t.Errorf("errors %+v", e)
			}
			if s.State() != StateEnded {
				t.Errorf("state %s", s.State())
			}
		})
	})
}

type startSpy struct {
	servicedesk.ServiceDesk
	got *servicedesk.StartChatOptions
}

func (s startSpy) StartChat(ctx context.Context, m servicedesk.MessageResponse, o servicedesk.StartChatOptions) error {
	*s.got = o
	return s.ServiceDesk.StartChat(ctx, m, o)
}
func (s startSpy) Unwrap() servicedesk.ServiceDesk { return s.ServiceDesk }

func wrapFactory(f servicedesk.Factory, wrap func(servicedesk.ServiceDesk) servicedesk.ServiceDesk) servicedesk.Factory {
	return func(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		d, err := f(ctx, p)
		if err != nil {
			return nil, err
		}
		return wrap(d), nil
	}
}

func TestPreEndHook(t *testing.T) {
	cancel := true
	opts := Options{PreEndChat: func(_ context.Context, ev *PreEndChat) error {
		ev.Cancel = cancel
		ev.Payload = json.RawMessage(`{"wasAgentHelpful":true}`)
		return nil
	}}
	bubble(t, opts, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		if err := s.EndChat(bgCtx, EndOptions{}); !errors.Is(err, ErrEndCancelled) {
			t.Fatalf("cancelled end: %v", err)
		}
		d.CB().AgentEndedChat()
		synctest.Wait()
		if s.State() != StateConnected || d.Count("EndChat") != 0 {
			t.Fatalf("hook did not keep the chat: %s, %d EndChat", s.State(), d.Count("EndChat"))
		}
		cancel = false
		d.CB().AgentEndedChat()
		synctest.Wait()
		if s.State() != StateEnded {
			t.Fatalf("state %s", s.State())
		}
		if len(d.ended) != 1 || !d.ended[0].EndedByHumanAgent || string(d.ended[0].PreEndChatPayload) != `{"wasAgentHelpful":true}` {
			t.Errorf("desk EndChat info %+v", d.ended)
		}
		ended := ofType(logOf(t, s), EventChatEnded)
		if len(ended) != 1 || ended[0].Text != "Ada ended the chat." || !ended[0].EndedByAgent {
			t.Errorf("chat_ended %+v", ended)
		}
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if ret := ofType(logOf(t, s), EventAssistantReturned); len(ret) != 1 || ret[0].Text != DefaultTexts.AssistantReturned {
			t.Errorf("assistant_returned %+v", ret)
		}
	})
}

func TestQueueUpdatesAndJoin(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s := r.session("s")
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
		synctest.Wait()
		cb := r.desk("s").CB()
		cb.UpdateAgentAvailability(servicedesk.QueuePosition(3))
		cb.UpdateAgentAvailability(servicedesk.QueuePosition(3)) // repeat: no second line
		cb.UpdateAgentAvailability(servicedesk.QueuePosition(0)) // zero counts
		cb.UpdateAgentAvailability(servicedesk.AgentAvailability{PositionInQueue: ptr(1.0), EstimatedWaitTime: ptr(2.0)})
		cb.UpdateAgentAvailability(servicedesk.WaitMinutes(2.5)) // Carbon's number
		cb.UpdateAgentAvailability(servicedesk.AgentAvailability{Message: "Agents are *busy*"})
		cb.UpdateAgentAvailability(servicedesk.AgentAvailability{})
		cb.AgentJoined(ada)
		cb.UpdateAgentAvailability(servicedesk.QueuePosition(1)) // after join: dropped
		synctest.Wait()
		var lines []string
		for _, ev := range ofType(logOf(t, s), EventQueueUpdate) {
			lines = append(lines, ev.Text)
		}
		want := []string{"You're number 3 in line.", "You're number 0 in line.", "Current wait time is 2 minute(s).", "Current wait time is 2.5 minute(s).", "Agents are *busy*", "Waiting..."}
		if !slices.Equal(lines, want) {
			t.Errorf("lines %q\nwant  %q", lines, want)
		}
		joined := ofType(logOf(t, s), EventAgentJoined)
		if len(joined) != 1 || joined[0].Text != "Ada connected." {
			t.Errorf("joined %+v", joined)
		}
		// No Reconnect on this desk? It has one, so no reload warning.
		if w := ofType(logOf(t, s), EventReloadWarning); len(w) != 0 {
			t.Errorf("reload warning with a desk that reconnects: %+v", w)
		}
	})
}

func TestReloadWarningWithoutReconnect(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		r.bare = true
		s, d := connected(t, r, "s")
		d.CB().AgentJoined(grace)
		synctest.Wait()
		if w := ofType(logOf(t, s), EventReloadWarning); len(w) != 1 || w[0].Text != DefaultTexts.ReloadWarning {
			t.Errorf("warnings %+v", w)
		}
	})
}

func TestJoinTimeout(t *testing.T) {
	bubble(t, Options{AgentJoinTimeout: 30 * time.Second}, func(t *testing.T, r *rig) {
		s := r.session("s")
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if s.State() != StateEnded {
			t.Fatalf("state %s", s.State())
		}
		evs := logOf(t, s)
		if e := ofType(evs, EventError); len(e) != 1 || e[0].Text != "No agents accepted the chat" {
			t.Errorf("errors %+v", e)
		}
		if r.desk("s").Count("EndChat") != 1 {
			t.Errorf("desk not told")
		}
		if e := ofType(evs, EventChatEnded); e[0].Reason != EndJoinTimeout || !e[0].RequestCancelled {
			t.Errorf("chat_ended %+v", e[0])
		}
	})
}

// Carbon bug 4: a transfer while waiting marks the chat connected but leaves
// the join timer armed, which later ends the connected chat.
func TestTransferWhileWaitingCancelsJoinTimer(t *testing.T) {
	bubble(t, Options{AgentJoinTimeout: 30 * time.Second}, func(t *testing.T, r *rig) {
		s := r.session("s")
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
		synctest.Wait()
		r.desk("s").CB().BeginTransferToAnotherAgent(&grace)
		time.Sleep(time.Minute)
		synctest.Wait()
		if s.State() != StateTransferring {
			t.Fatalf("state %s: the join timer ended a transferred chat", s.State())
		}
	})
}

// Carbon bug 1: CONNECTING after an agent joined leaves a stuck chat. Here
// the chat ends properly and the desk is told.
func TestConnectingErrorAfterJoinEndsCleanly(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		d.CB().SetErrorStatus(servicedesk.ConnectingError("Lost the agent"))
		synctest.Wait()
		if s.State() != StateEnded {
			t.Fatalf("state %s", s.State())
		}
		if d.Count("EndChat") != 1 {
			t.Errorf("desk EndChat calls %d", d.Count("EndChat"))
		}
		if e := ofType(logOf(t, s), EventError); len(e) != 1 || e[0].Text != "Lost the agent" {
			t.Errorf("errors %+v", e)
		}
		// A new chat can start: nothing is stuck.
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
	})
}

func TestStartChatRejectedByDesk(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		r.setup = func(d *fakeDesk) { d.startErr = errors.New("no capacity") }
		s := r.session("s")
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
		synctest.Wait()
		if s.State() != StateEnded {
			t.Fatalf("state %s", s.State())
		}
		if e := ofType(logOf(t, s), EventError); len(e) != 1 || e[0].Text != DefaultTexts.ConnectingError {
			t.Errorf("errors %+v", e)
		}
		if r.desk("s").Count("EndChat") != 0 {
			t.Error("desk told to end a chat it refused")
		}
	})
}

// Carbon bug 2: one message id end to end; USER_MESSAGE names it.
func TestUserMessageErrorUsesTheSameID(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		id, err := s.SendText(bgCtx, "card declined")
		must(t, err)
		synctest.Wait()
		sent := d.Sent()
		if len(sent) != 1 || sent[0].ID != id {
			t.Fatalf("desk got %+v, engine id %s", sent, id)
		}
		d.CB().SetErrorStatus(servicedesk.UserMessageError(sent[0].ID))
		synctest.Wait()
		st := ofType(logOf(t, s), EventMessageStatus)
		if len(st) != 2 || st[0].Status != MessageSent || st[1].Status != MessageFailed || st[1].MessageID != id {
			t.Errorf("statuses %+v", st)
		}
	})
}

func TestHostChosenMessageIDAndResend(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		m := servicedesk.NewTextRequest("once")
		m.ID = "client-1"
		for range 3 {
			id, err := s.SendMessage(bgCtx, m, nil)
			must(t, err)
			if id != "client-1" {
				t.Fatalf("id %s", id)
			}
			synctest.Wait()
		}
		if n := len(d.Sent()); n != 1 {
			t.Errorf("desk got %d copies", n)
		}
	})
}

// Carbon bug 3: a files-only send that fails shows nothing and the files
// stay "uploading" forever.
func TestFilesOnlySendFailureIsReported(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		d.sendErr = func(string) error { return errors.New("desk down") }
		files := []servicedesk.FileUpload{{ID: "f1", File: servicedesk.File{Name: "a.png", Size: 3}}}
		id, err := s.SendMessage(bgCtx, servicedesk.MessageRequest{}, files)
		must(t, err)
		synctest.Wait()
		evs := logOf(t, s)
		if st := ofType(evs, EventMessageStatus); len(st) != 1 || st[0].MessageID != id || st[0].Status != MessageFailed {
			t.Errorf("statuses %+v", st)
		}
		if fs := ofType(evs, EventFileStatus); len(fs) != 1 || fs[0].FileID != "f1" || fs[0].Status != MessageFailed {
			t.Errorf("file statuses %+v", fs)
		}
	})
}

func TestFileUploadStatusAfterSendAndTimeout(t *testing.T) {
	bubble(t, Options{FileUploadTimeout: time.Minute}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		body := "png!"
		files := []servicedesk.FileUpload{
			{ID: "ok", File: servicedesk.File{Name: "a.png", Size: 4, Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(strings.NewReader(body)), nil
			}}},
			{ID: "bad", File: servicedesk.File{Name: "b.png", Size: 4}},
			{ID: "slow", File: servicedesk.File{Name: "c.png", Size: 4}},
		}
		_, err := s.SendMessage(bgCtx, servicedesk.NewTextRequest("see files"), files)
		must(t, err)
		synctest.Wait()
		got := d.Sent()[0].Files
		if len(got) != 3 || got[0].Status != servicedesk.FileUploading {
			t.Fatalf("desk files %+v", got)
		}
		rc, err := got[0].File.Open(bgCtx)
		must(t, err)
		b, _ := io.ReadAll(rc)
		if string(b) != body {
			t.Errorf("file body %q", b)
		}
		d.CB().SetFileUploadStatus("ok", false, "")
		d.CB().SetFileUploadStatus("bad", true, "Virus found")
		d.CB().SetFileUploadStatus("bad", true, "again") // already settled: dropped
		time.Sleep(time.Minute)
		synctest.Wait()
		fs := ofType(logOf(t, s), EventFileStatus)
		if len(fs) != 3 {
			t.Fatalf("file statuses %+v", fs)
		}
		if fs[0].FileID != "ok" || fs[0].FileStatus != servicedesk.FileSuccess {
			t.Errorf("ok: %+v", fs[0])
		}
		if fs[1].FileID != "bad" || fs[1].Text != "Virus found" || fs[1].Status != MessageFailed {
			t.Errorf("bad: %+v", fs[1])
		}
		if fs[2].FileID != "slow" || fs[2].Text != DefaultTexts.UploadTimedOut {
			t.Errorf("slow: %+v", fs[2])
		}
	})
}

func TestFileSelectionValidation(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		f := func(id, name, typ string, size int64) servicedesk.FileUpload {
			return servicedesk.FileUpload{ID: id, File: servicedesk.File{Name: name, Type: typ, Size: size}}
		}
		// Uploads not allowed yet.
		must(t, s.SelectFiles(bgCtx, []servicedesk.FileUpload{f("x", "a.png", "image/png", 1)}))
		d.CB().UpdateCapabilities(servicedesk.Capabilities{AllowFileUploads: true, AllowMultipleFileUploads: true, AllowedFileUploadTypes: "image/*,.txt", MaxFileSizeBytes: 100, MaxFiles: 2}.FullUpdate())
		synctest.Wait()
		must(t, s.SelectFiles(bgCtx, []servicedesk.FileUpload{
			f("a", "a.png", "image/png", 10),
			f("big", "b.png", "image/png", 101),
			f("exe", "c.exe", "application/x-msdownload", 1),
			f("b", "notes.txt", "", 5),
			f("c", "d.png", "image/png", 5), // a third file: over MaxFiles
		}))
		synctest.Wait()
		var rejected []string
		for _, ev := range ofType(logOf(t, s), EventFileStatus) {
			rejected = append(rejected, ev.FileID)
		}
		if !slices.Equal(rejected, []string{"x", "big", "exe", "c"}) {
			t.Errorf("rejected %v", rejected)
		}
		if len(d.selected) != 1 || len(d.selected[0]) != 2 {
			t.Fatalf("desk saw selections %+v", d.selected)
		}
		// The desk rejects one before send: the user sees why.
		d.CB().SetFileUploadStatus("b", true, "Text files are scanned first")
		synctest.Wait()
		last := ofType(logOf(t, s), EventFileStatus)
		if l := last[len(last)-1]; l.FileID != "b" || l.Text != "Text files are scanned first" {
			t.Errorf("staged error %+v", l)
		}
	})
}

func TestDisconnectedHoldsMessagesInOrder(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		cb := d.CB()
		cb.SetErrorStatus(servicedesk.DisconnectedError(true))
		cb.SetErrorStatus(servicedesk.DisconnectedError(true)) // Carbon bug 6: no second line
		synctest.Wait()
		var ids []string
		for i := range 5 {
			id, err := s.SendText(bgCtx, strings.Repeat("m", i+1))
			must(t, err)
			ids = append(ids, id)
		}
		synctest.Wait()
		if n := len(d.Sent()); n != 0 {
			t.Fatalf("%d messages sent while disconnected", n)
		}
		cb.SetErrorStatus(servicedesk.DisconnectedError(false))
		synctest.Wait()
		var got []string
		for _, m := range d.Sent() {
			got = append(got, m.ID)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("desk got %v, want %v", got, ids)
		}
		evs := logOf(t, s)
		if n := len(ofType(evs, EventDisconnected)); n != 1 {
			t.Errorf("%d disconnected lines", n)
		}
		if n := len(ofType(evs, EventReconnected)); n != 1 {
			t.Errorf("%d reconnected lines", n)
		}
		// Carbon bug 5: a DISCONNECTED(false) in a later chat prints
		// "reconnected" for no reason.
		must(t, s.EndChat(bgCtx, EndOptions{}))
		synctest.Wait()
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
		synctest.Wait()
		cb.AgentJoined(ada)
		cb.SetErrorStatus(servicedesk.DisconnectedError(false))
		synctest.Wait()
		if n := len(ofType(logOf(t, s), EventReconnected)); n != 1 {
			t.Errorf("%d reconnected lines after a new chat", n)
		}
	})
}

// A desk that turns a message away for a while (unavailable, rate
// limited) while the chat goes on: the engine tries it again, with
// backoff, and the user sees it sent once it gets through; one it turns
// away for longer than SendRetryFor is reported failed, once.
func TestTemporarySendFailureIsTriedAgain(t *testing.T) {
	bubble(t, Options{SendRetryFor: 10 * time.Second}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		var tries int
		d.mu.Lock()
		d.sendErr = func(string) error {
			if tries++; tries <= 3 {
				return []error{servicedesk.ErrUnavailable, servicedesk.ErrRateLimited}[tries%2]
			}
			return nil
		}
		d.mu.Unlock()
		id, err := s.SendText(bgCtx, "through at last")
		must(t, err)
		time.Sleep(5 * time.Second) // 250 ms + 500 ms + 1 s of backoff
		synctest.Wait()
		st := ofType(logOf(t, s), EventMessageStatus)
		if len(st) != 1 || st[0].MessageID != id || st[0].Status != MessageSent {
			t.Errorf("statuses %+v, want one sent", st)
		}
		if n := len(d.Sent()); n != 4 {
			t.Errorf("the desk was offered the message %d times, want 4", n)
		}

		d.mu.Lock()
		d.sendErr = func(string) error { return servicedesk.ErrUnavailable }
		d.mu.Unlock()
		id2, err := s.SendText(bgCtx, "never")
		must(t, err)
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if st := ofType(logOf(t, s), EventMessageStatus); len(st) != 1 {
			t.Fatalf("reported before SendRetryFor: %+v", st[1:])
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		st = ofType(logOf(t, s), EventMessageStatus)
		if len(st) != 2 || st[1].MessageID != id2 || st[1].Status != MessageFailed {
			t.Errorf("statuses %+v, want the second failed once", st)
		}

		// A refusal is not tried again.
		d.mu.Lock()
		d.sendErr = func(string) error { return servicedesk.ErrRejected }
		d.mu.Unlock()
		before := len(d.Sent())
		_, err = s.SendText(bgCtx, "refused")
		must(t, err)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := len(d.Sent()) - before; n != 1 {
			t.Errorf("a refused message was offered %d times", n)
		}
	})
}

func TestSendFailureWhileDisconnectedIsKept(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		hold := d.Block("SendMessageToAgent")
		id, err := s.SendText(bgCtx, "in flight")
		must(t, err)
		synctest.Wait()
		d.CB().SetErrorStatus(servicedesk.DisconnectedError(true))
		synctest.Wait()
		d.mu.Lock()
		d.sendErr = func(string) error { return servicedesk.ErrUnavailable }
		d.mu.Unlock()
		close(hold)
		synctest.Wait()
		d.mu.Lock()
		d.sendErr = nil
		d.mu.Unlock()
		d.CB().SetErrorStatus(servicedesk.DisconnectedError(false))
		synctest.Wait()
		st := ofType(logOf(t, s), EventMessageStatus)
		if len(st) != 1 || st[0].MessageID != id || st[0].Status != MessageSent {
			t.Errorf("statuses %+v", st)
		}
	})
}

func TestAgentMessages(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		cb := d.CB()
		cb.BeginTransferToAnotherAgent(&grace)
		cb.AgentJoined(grace)
		cb.AgentTyping(true)
		cb.AgentTyping(true) // repeat: dropped
		m := servicedesk.NewResponse(servicedesk.TextItem("from ada"))
		m.ID = "m1"
		cb.SendMessageToUser(m, "ada")
		cb.SendMessageToUser(m, "ada") // redelivered: dropped
		cb.SendTextToUser("from grace", "")
		cb.SendTextToUser("unknown agent", "zed")
		synctest.Wait()
		evs := logOf(t, s)
		msgs := ofType(evs, EventAgentMessage)
		if len(msgs) != 3 {
			t.Fatalf("agent messages %d", len(msgs))
		}
		who := func(ev Event) string { return ev.Message.MessageOptions.ResponseUserProfile.ID }
		if who(msgs[0]) != "ada" || who(msgs[1]) != "grace" || who(msgs[2]) != "grace" {
			t.Errorf("profiles %s %s %s", who(msgs[0]), who(msgs[1]), who(msgs[2]))
		}
		typing := ofType(evs, EventAgentTyping)
		if len(typing) != 2 || !*typing[0].Typing || *typing[1].Typing {
			t.Errorf("typing events %+v (a message clears typing)", typing)
		}
		if tr := ofType(evs, EventTransfer); len(tr) != 1 || tr[0].Text != "You're being transferred." {
			t.Errorf("transfer %+v", tr)
		}
		cb.AgentLeftChat()
		synctest.Wait()
		if l := ofType(logOf(t, s), EventAgentLeft); len(l) != 1 || l[0].Text != "Grace disconnected." {
			t.Errorf("left %+v", l)
		}
	})
}

func TestScreenShare(t *testing.T) {
	ask := func(cb servicedesk.Callback) <-chan string {
		out := make(chan string, 1)
		go func() {
			st, err := cb.ScreenShareRequest(bgCtx)
			if err != nil {
				out <- "error: " + err.Error()
				return
			}
			out <- string(st)
		}()
		return out
	}
	t.Run("accepted then stopped by user", func(t *testing.T) {
		bubble(t, Options{}, func(t *testing.T, r *rig) {
			s, d := connected(t, r, "s")
			a, b := ask(d.CB()), ask(d.CB()) // the second joins the first request
			synctest.Wait()
			must(t, s.AnswerScreenShare(bgCtx, true))
			if x, y := <-a, <-b; x != "accepted" || y != "accepted" {
				t.Fatalf("answers %s %s", x, y)
			}
			must(t, s.StopScreenShare(bgCtx))
			synctest.Wait()
			if d.Count("ScreenShareStop") != 1 {
				t.Error("desk not told of the stop")
			}
			var lines []string
			for _, ev := range ofType(logOf(t, s), EventScreenShare) {
				lines = append(lines, ev.Text)
			}
			want := []string{DefaultTexts.SharingRequested, DefaultTexts.SharingAccepted, DefaultTexts.SharingEnded}
			if !slices.Equal(lines, want) {
				t.Errorf("lines %q", lines)
			}
		})
	})
	t.Run("declined", func(t *testing.T) {
		bubble(t, Options{}, func(t *testing.T, r *rig) {
			s, d := connected(t, r, "s")
			a := ask(d.CB())
			synctest.Wait()
			must(t, s.AnswerScreenShare(bgCtx, false))
			if x := <-a; x != "declined" {
				t.Fatal(x)
			}
		})
	})
	t.Run("cancelled by the agent", func(t *testing.T) {
		bubble(t, Options{}, func(t *testing.T, r *rig) {
			s, d := connected(t, r, "s")
			a := ask(d.CB())
			synctest.Wait()
			d.CB().ScreenShareEnded()
			if x := <-a; x != "cancelled" {
				t.Fatal(x)
			}
			if err := s.AnswerScreenShare(bgCtx, true); !errors.Is(err, ErrNoScreenShareRequest) {
				t.Errorf("late answer: %v", err)
			}
		})
	})
	t.Run("unanswered times out", func(t *testing.T) {
		bubble(t, Options{ScreenShareTimeout: 10 * time.Second}, func(t *testing.T, r *rig) {
			_, d := connected(t, r, "s")
			start := time.Now()
			if x := <-ask(d.CB()); x != "cancelled" {
				t.Fatal(x)
			}
			if time.Since(start) != 10*time.Second {
				t.Errorf("answered after %v", time.Since(start))
			}
		})
	})
	t.Run("chat ends while asking", func(t *testing.T) {
		bubble(t, Options{}, func(t *testing.T, r *rig) {
			s, d := connected(t, r, "s")
			a := ask(d.CB())
			synctest.Wait()
			must(t, s.EndChat(bgCtx, EndOptions{}))
			if x := <-a; x != "cancelled" {
				t.Fatal(x)
			}
		})
	})
}

// TestPersistedStateMergeReplaceAndKeptAfterEnd: UpdatePersistedState
// merges (Carbon's default), ReplacePersistedState replaces, and the state
// outlives the chat, as Carbon's serviceDeskState does.
func TestPersistedStateMergeReplaceAndKeptAfterEnd(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		cb := d.CB()
		must(t, cb.UpdatePersistedState(map[string]any{"chat": map[string]any{"id": "c1", "token": "t1"}, "list": []any{1, map[string]any{"a": 1}}}))
		must(t, cb.UpdatePersistedState(json.RawMessage(`{"chat":{"token":"t2"},"list":[null,{"b":2},3]}`)))
		if got := string(cb.PersistedState()); got != `{"chat":{"id":"c1","token":"t2"},"list":[null,{"a":1,"b":2},3]}` {
			t.Errorf("merged %s", got)
		}
		must(t, cb.ReplacePersistedState(map[string]string{"only": "this"}))
		if got := string(cb.PersistedState()); got != `{"only":"this"}` {
			t.Errorf("replaced %s", got)
		}
		synctest.Wait()
		rec, err := r.store.Load(bgCtx, "s")
		must(t, err)
		if string(rec.DeskState) != `{"only":"this"}` {
			t.Errorf("stored %s", rec.DeskState)
		}
		must(t, s.EndChat(bgCtx, EndOptions{}))
		synctest.Wait()
		if got := string(cb.PersistedState()); got != `{"only":"this"}` {
			t.Errorf("state after end: %s, want it kept", got)
		}
		rec, err = r.store.Load(bgCtx, "s")
		must(t, err)
		if string(rec.DeskState) != `{"only":"this"}` {
			t.Errorf("stored after end %s, want it kept", rec.DeskState)
		}
		// The next chat's desk is built with it.
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
		synctest.Wait()
		if got := string(cb.PersistedState()); got != `{"only":"this"}` {
			t.Errorf("state in the next chat: %s", got)
		}
	})
}

func TestSuspendedKeepsEvents(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		must(t, s.SetSuspended(bgCtx, true))
		d.CB().SendTextToUser("while parked", "")
		must(t, s.SetSuspended(bgCtx, false))
		synctest.Wait()
		evs := logOf(t, s)
		if len(ofType(evs, EventAgentMessage)) != 1 || len(ofType(evs, EventSuspended)) != 2 {
			t.Errorf("events %v", types(evs))
		}
	})
}

func TestGoodbyeWhileEnding(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		hold := d.Block("EndChat")
		must(t, s.EndChat(bgCtx, EndOptions{}))
		synctest.Wait()
		d.CB().SendTextToUser("Please rate us", "")
		close(hold)
		synctest.Wait()
		evs := logOf(t, s)
		msgAt, endAt := -1, -1
		for i, ev := range evs {
			switch ev.Type {
			case EventAgentMessage:
				msgAt = i
			case EventChatEnded:
				endAt = i
				if ev.Text != DefaultTexts.UserEndedChat {
					t.Errorf("end line %q", ev.Text)
				}
			}
		}
		if msgAt < 0 || endAt < msgAt {
			t.Errorf("goodbye not shown before the end: %v", types(evs))
		}
	})
}

func TestEndReportsUndeliveredMessages(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		d.CB().SetErrorStatus(servicedesk.DisconnectedError(true))
		id, err := s.SendText(bgCtx, "never delivered")
		must(t, err)
		must(t, s.EndChat(bgCtx, EndOptions{}))
		synctest.Wait()
		st := ofType(logOf(t, s), EventMessageStatus)
		if len(st) != 1 || st[0].MessageID != id || st[0].Status != MessageFailed {
			t.Errorf("statuses %+v", st)
		}
	})
}

func TestEndChatTimeoutEndsLocally(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		d.Block("EndChat")
		must(t, s.EndChat(bgCtx, EndOptions{}))
		synctest.Wait()
		if s.State() != StateEnding {
			t.Fatalf("state %s", s.State())
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if s.State() != StateEnded {
			t.Fatalf("state %s after the 5s end timeout", s.State())
		}
	})
}

func TestUpdateStateReachesDesk(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s := r.session("s")
		must(t, s.UpdateState(bgCtx, servicedesk.ChatState{UserID: "u", Locale: "fr"}))
		if r.desk("s").Count("UpdateState") != 1 {
			t.Fatal("not forwarded")
		}
		r.bare = true
		s2 := r.session("s2")
		if err := s2.UpdateState(bgCtx, servicedesk.ChatState{}); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("bare desk: %v", err)
		}
	})
}

// A chat that ends while a message is in flight: the message is reported
// by its own send's result (the desk may have it), and the next chat's
// messages, held behind it, go out once it returns.
func TestChatEndsWithAMessageInFlight(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		hold := d.Block("SendMessageToAgent")
		first, err := s.SendText(bgCtx, "in flight")
		must(t, err)
		synctest.Wait()
		d.CB().AgentEndedChat()
		synctest.Wait()
		if s.State() != StateEnded {
			t.Fatalf("state %s", s.State())
		}
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
		synctest.Wait()
		d.CB().AgentJoined(ada)
		synctest.Wait()
		second, err := s.SendText(bgCtx, "next chat")
		must(t, err)
		synctest.Wait()
		close(hold)
		synctest.Wait()
		st := ofType(logOf(t, s), EventMessageStatus)
		if len(st) != 2 || st[0].MessageID != first || st[0].Status != MessageSent || st[1].MessageID != second || st[1].Status != MessageSent {
			t.Fatalf("statuses %+v: want %s sent, then %s sent, once each", st, first, second)
		}
		// The late status is tagged with the chat running when it came:
		// the newest event names the session's current chat (a replay, the
		// history and the browser adapter read it so); the message id is
		// what ties it to its message.
		if st[0].Chat != 2 || st[1].Chat != 2 {
			t.Errorf("statuses tagged chats %d and %d, want 2 and 2", st[0].Chat, st[1].Chat)
		}
		sent := d.Sent()
		if len(sent) != 2 || sent[0].ID != first || sent[1].ID != second {
			t.Fatalf("desk got %+v", sent)
		}
	})
}
