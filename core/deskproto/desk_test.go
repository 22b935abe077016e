package deskproto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// fakeLink records actions; its Start and Attach answer what the test set.
type fakeLink struct {
	in      Inbox
	mu      sync.Mutex
	info    ChatInfo
	err     error
	actions []string
	after   uint64
	closed  int
}

func (l *fakeLink) did(format string, args ...any) {
	l.mu.Lock()
	l.actions = append(l.actions, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *fakeLink) Start(context.Context, StartRequest) (ChatInfo, error) {
	l.did("start")
	return l.info, l.err
}
func (l *fakeLink) Attach(_ context.Context, ref ChatRef, after uint64) (ChatInfo, error) {
	l.did("attach(%s,%d)", ref.ID, after)
	return l.info, l.err
}
func (l *fakeLink) Send(_ context.Context, m Message) (SendResult, error) {
	l.did("send(%s,%s,%v)", m.IdempotencyKey, m.Message.ID, m.FileIDs)
	return SendResult{MessageID: "cm_" + m.IdempotencyKey}, nil
}
func (l *fakeLink) Typing(_ context.Context, on bool) error { l.did("typing(%v)", on); return nil }
func (l *fakeLink) Read(_ context.Context, id string) error { l.did("read(%s)", id); return nil }
func (l *fakeLink) ScreenShare(_ context.Context, id string, st servicedesk.ScreenShareState) error {
	l.did("share(%s,%s)", id, st)
	return nil
}
func (l *fakeLink) StopScreenShare(context.Context) error { l.did("stop_share"); return nil }
func (l *fakeLink) End(context.Context) error             { l.did("end"); return nil }
func (l *fakeLink) Leave() error                          { l.did("leave"); return nil }
func (l *fakeLink) Close() error {
	l.mu.Lock()
	l.closed++
	l.mu.Unlock()
	return nil
}

func (l *fakeLink) done() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.actions...)
}

func newTestDesk(t *testing.T, persisted string) (*Desk, *fakeLink, *sdtest.Recorder, *httpmock.MockTransport) {
	t.Helper()
	c, mt := newMockClient(t, retry.Backoff{})
	rec := &sdtest.Recorder{}
	link := &fakeLink{info: ChatInfo{ChatID: "ch_1", ChatToken: "tok", State: StateQueued}}
	p := servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("s-1")}
	if persisted != "" {
		p.PersistedState = json.RawMessage(persisted)
	}
	d, err := NewDesk(DeskConfig{Name: "test", Client: c, Params: p, GapWait: 20 * time.Millisecond}, func(in Inbox) Link {
		link.in = in
		return link
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d, link, rec, mt
}

func ev(seq uint64, tp EventType, mod func(*Event)) Event {
	e := Event{ID: fmt.Sprintf("evt_ch_1_%d", seq), ChatID: "ch_1", Seq: seq, Type: tp}
	if mod != nil {
		mod(&e)
	}
	return e
}

func agent(name string) func(*Event) {
	return func(e *Event) { e.Agent = &servicedesk.AgentProfile{ID: strings.ToLower(name), Nickname: name} }
}

func say(text string) func(*Event) {
	return func(e *Event) {
		m := servicedesk.TextResponse(text)
		e.Message = &m
		e.Agent = &servicedesk.AgentProfile{ID: "ada"}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func equal(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }

func TestEventsApplyInOrderOnceWhateverTheDelivery(t *testing.T) {
	d, _, rec, _ := newTestDesk(t, "")
	if err := d.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}); err != nil {
		t.Fatal(err)
	}
	two := 2
	evs := []Event{
		ev(1, EventCapabilities, func(e *Event) { e.Capabilities = &servicedesk.Capabilities{AllowFileUploads: true} }),
		ev(2, EventQueueUpdate, func(e *Event) { e.Position = &two }),
		ev(3, EventAgentJoined, agent("Ada")),
		ev(4, EventAgentTyping, func(e *Event) { on := true; e.Typing = &on }),
		ev(5, EventAgentMessage, say("hello")),
		ev(6, EventAgentRead, nil),
		ev(7, EventTransferStarted, agent("Grace")),
		ev(8, EventAgentJoined, agent("Grace")),
		ev(9, EventFileStatus, func(e *Event) { e.FileID, e.FileStatus, e.Reason = "f1", "error", "too big" }),
		ev(10, EventAgentLeft, agent("Grace")),
		ev(11, Event{}.Type+"future_kind", nil),
		ev(12, EventScreenShareEnded, nil),
	}
	// Reversed, each twice, from several goroutines.
	var wg sync.WaitGroup
	for i := len(evs) - 1; i >= 0; i-- {
		wg.Add(1)
		go func(e Event) { defer wg.Done(); d.Deliver(e, e) }(evs[i])
	}
	wg.Wait()
	want := []string{"caps(true)", "queue(2,-1)", "joined(Ada)", "typing(true)", "message(hello,ada)", "read",
		"transfer(Grace)", "joined(Grace)", "file(f1,true,too big)", "left", "share_ended"}
	if got := rec.Calls(); !equal(got, want) {
		t.Fatalf("callbacks\n got %v\nwant %v", got, want)
	}
	if st := rec.State(); st["chat_id"] != "ch_1" || st["chat_token"] != "tok" || st["last_seq"] != float64(12) {
		t.Fatalf("persisted state %v", st)
	}
}

func TestGapIsFilledFromTheDesksLog(t *testing.T) {
	d, _, rec, mt := newTestDesk(t, "")
	if err := d.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}); err != nil {
		t.Fatal(err)
	}
	mt.RegisterResponder("GET", base+"/v1/chats/ch_1/events", func(req *http.Request) (*http.Response, error) {
		if req.URL.Query().Get("cursor") != "1" || req.Header.Get("Authorization") != "Bearer tok" {
			return httpmock.NewStringResponse(400, `{"error":{"code":"bad_cursor","message":"?"}}`), nil
		}
		b, _ := json.Marshal(Page{Events: []Event{ev(2, EventAgentMessage, say("lost"))}, Cursor: 2})
		return httpmock.NewBytesResponse(200, b), nil
	})
	d.Deliver(ev(1, EventAgentJoined, agent("Ada")))
	d.Deliver(ev(3, EventAgentMessage, say("after the gap")))
	waitFor(t, "the gap fill", func() bool { return len(rec.Calls()) == 3 })
	want := []string{"joined(Ada)", "message(lost,ada)", "message(after the gap,ada)"}
	if got := rec.Calls(); !equal(got, want) {
		t.Fatalf("callbacks %v, want %v", got, want)
	}
}

func TestDeskEndingTheChat(t *testing.T) {
	for _, tc := range []struct {
		name string
		evs  []Event
		want []string
	}{
		{"refused before any agent", []Event{ev(1, EventChatEnded, func(e *Event) { e.EndedBy, e.Reason = "desk", "queue full" })}, []string{"error(CONNECTING,false,queue full)"}},
		{"error then ended", []Event{ev(1, EventError, func(e *Event) { e.Code, e.Reason = "no_agents_online", "Nobody is in." }), ev(2, EventChatEnded, func(e *Event) { e.EndedBy = "desk" })}, []string{"error(CONNECTING,false,Nobody is in.)"}},
		{"agent ended", []Event{ev(1, EventAgentJoined, agent("Ada")), ev(2, EventAgentEnded, agent("Ada")), ev(3, EventChatEnded, func(e *Event) { e.EndedBy = "agent" })}, []string{"joined(Ada)", "ended"}},
		{"desk closed an active chat", []Event{ev(1, EventAgentJoined, agent("Ada")), ev(2, EventChatEnded, func(e *Event) { e.EndedBy = "desk" })}, []string{"joined(Ada)", "ended"}},
		{"customer ended", []Event{ev(1, EventChatEnded, func(e *Event) { e.EndedBy = "customer" })}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _, rec, _ := newTestDesk(t, "")
			if err := d.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}); err != nil {
				t.Fatal(err)
			}
			d.Deliver(tc.evs...)
			if got := rec.Calls(); !equal(got, tc.want) {
				t.Fatalf("callbacks %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDisconnectedOncePerChangeAndOnlyDuringAChat(t *testing.T) {
	d, _, rec, _ := newTestDesk(t, "")
	d.Connected(false) // no chat yet: nothing to tell
	if err := d.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}); err != nil {
		t.Fatal(err)
	}
	d.Connected(true)
	d.Connected(false)
	d.Connected(false)
	d.Connected(true)
	d.Connected(true)
	want := []string{"error(DISCONNECTED,true,)", "error(DISCONNECTED,false,)"}
	if got := rec.Calls(); !equal(got, want) {
		t.Fatalf("callbacks %v, want %v", got, want)
	}
}

func TestMessageIDIsTheIdempotencyKeyAndFilesFollowIt(t *testing.T) {
	d, link, rec, mt := newTestDesk(t, "")
	if err := d.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}); err != nil {
		t.Fatal(err)
	}
	var form map[string][]string
	var fileBody string
	mt.RegisterResponder("POST", base+"/v1/chats/ch_1/files", func(req *http.Request) (*http.Response, error) {
		if err := req.ParseMultipartForm(1 << 20); err != nil {
			return nil, err
		}
		form = req.MultipartForm.Value
		f, _, _ := req.FormFile("file")
		b, _ := io.ReadAll(f)
		fileBody = string(b)
		return httpmock.NewStringResponse(201, `{"files":[{"file_id":"f1","status":"ok"}]}`), nil
	})
	file := servicedesk.FileUpload{ID: "f1", File: servicedesk.File{Name: "a.txt", Type: "text/plain", Size: 3,
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("abc")), nil }}}
	err := d.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("see file"), "m-7", servicedesk.AdditionalDataToAgent{FilesToUpload: []servicedesk.FileUpload{file}})
	if err != nil {
		t.Fatal(err)
	}
	if got := link.done(); !equal(got, []string{"start", "send(m-7,m-7,[f1])"}) {
		t.Fatalf("link actions %v", got)
	}
	if form["message_id"][0] != "m-7" || form["file_id"][0] != "f1" || fileBody != "abc" {
		t.Fatalf("upload form %v body %q", form, fileBody)
	}
	if got := rec.Calls(); len(got) != 0 {
		t.Fatalf("a file the desk took was reported by the kit: %v", got)
	}
	// An upload that gets no answer about the files is reported here.
	mt.RegisterResponder("POST", base+"/v1/chats/ch_1/files", httpmock.NewErrorResponder(errors.New("connection reset")))
	_ = d.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("again"), "m-8", servicedesk.AdditionalDataToAgent{FilesToUpload: []servicedesk.FileUpload{file}})
	if got := rec.Calls(); len(got) != 1 || !strings.HasPrefix(got[0], "file(f1,true,") {
		t.Fatalf("callbacks %v, want the file reported failed", got)
	}
}

func TestScreenShareAnswerGoesToTheDesk(t *testing.T) {
	d, link, _, _ := newTestDesk(t, "")
	if err := d.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}); err != nil {
		t.Fatal(err)
	}
	d.Deliver(ev(1, EventScreenShareRequested, func(e *Event) { e.ScreenShareID = "ss_1" }))
	waitFor(t, "the answer", func() bool { return len(link.done()) == 2 })
	if got := link.done(); got[1] != "share(ss_1,accepted)" {
		t.Fatalf("link actions %v", got)
	}
}

func TestReconnect(t *testing.T) {
	t.Run("resumes after the last applied event", func(t *testing.T) {
		d, link, rec, _ := newTestDesk(t, `{"chat_id":"ch_1","chat_token":"tok","last_seq":7}`)
		link.info = ChatInfo{ChatID: "ch_1", State: StateActive, LastSeq: 7, Agent: &servicedesk.AgentProfile{ID: "ada"}}
		ok, err := d.Reconnect(context.Background())
		if err != nil || !ok {
			t.Fatalf("Reconnect = %v, %v", ok, err)
		}
		if got := link.done(); !equal(got, []string{"attach(ch_1,7)"}) {
			t.Fatalf("link actions %v", got)
		}
		d.Deliver(ev(7, EventAgentMessage, say("old")), ev(8, EventAgentMessage, say("new")))
		if got := rec.Calls(); !equal(got, []string{"message(new,ada)"}) {
			t.Fatalf("callbacks %v: events up to last_seq must not be applied again", got)
		}
	})
	t.Run("answers false when the chat is gone", func(t *testing.T) {
		d, link, rec, _ := newTestDesk(t, `{"chat_id":"ch_1","chat_token":"tok","last_seq":3}`)
		link.err = &Error{Status: 404, Code: CodeChatNotFound, Message: "gone"}
		ok, err := d.Reconnect(context.Background())
		if err != nil || ok {
			t.Fatalf("Reconnect = %v, %v; want false, nil", ok, err)
		}
		if st := rec.State(); len(st) != 0 {
			t.Fatalf("persisted state %v not cleared", st)
		}
	})
	t.Run("answers false without persisted state", func(t *testing.T) {
		d, link, _, _ := newTestDesk(t, "")
		if ok, err := d.Reconnect(context.Background()); ok || err != nil || len(link.done()) != 0 {
			t.Fatalf("Reconnect = %v, %v with actions %v", ok, err, link.done())
		}
	})
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	d, link, _, _ := newTestDesk(t, "")
	if err := d.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if link.closed != 1 {
		t.Fatalf("link closed %d times", link.closed)
	}
	if err := d.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("x"), "x", servicedesk.AdditionalDataToAgent{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	if err := d.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
}
