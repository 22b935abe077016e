package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Harness opens the store under test over one set of data.
type Harness interface {
	// Open opens a store over the harness's data. The suite closes the
	// store it had (when it is an io.Closer) before it calls Open again,
	// and the new store must then hold what the old one saved: that is a
	// process restart. The harness cleans up its data with t.Cleanup.
	Open(t *testing.T) flow.Store
}

// HarnessFunc adapts a function to Harness.
type HarnessFunc func(t *testing.T) flow.Store

// Open implements Harness.
func (f HarnessFunc) Open(t *testing.T) flow.Store { return f(t) }

// Options say what the store under test was opened with.
type Options struct {
	// Tail is how many events per session the store keeps; it must be at
	// least 8.
	Tail int
	// NoReopen skips the checks that close and reopen the store (a store
	// that lives in the process).
	NoReopen bool
	// MaxFileBytes is the store's bound on file bytes, when it is a
	// FileStore with one small enough to reach in a test (0: not checked).
	MaxFileBytes int64
	// EventBytes is the store's bound on the encoded bytes of one
	// session's events (0: flow.StoreEventBytes, every store's default).
	EventBytes int64
}

// Run runs every check of the suite, each as a subtest with fresh data
// from newHarness.
func Run(t *testing.T, newHarness func(t *testing.T) Harness, opts Options) {
	if opts.Tail < 8 {
		t.Fatalf("storetest: Options.Tail must be at least 8, got %d", opts.Tail)
	}
	checks := []struct {
		name   string
		reopen bool
		fn     func(t *testing.T, st *suite)
	}{
		{"missing", false, checkMissing},
		{"record_round_trip", false, checkRecordRoundTrip},
		{"last_seq_is_the_stores", false, checkLastSeq},
		{"events_after", false, checkEventsAfter},
		{"events_trimmed", false, checkTrimmed},
		{"event_bytes_bounded", false, checkEventBytes},
		{"event_bytes_bounded_after_reopen", true, checkEventBytesReopen},
		{"seq_gap_writes_nothing", false, checkSeqGap},
		{"events_only_session", false, checkEventsOnly},
		{"list", false, checkList},
		{"delete", false, checkDelete},
		{"odd_ids", false, checkOddIDs},
		{"loaded_record_is_a_copy", false, checkImmutable},
		{"large_record_and_event", false, checkLarge},
		{"concurrent_sessions", false, checkConcurrent},
		{"files", false, checkFiles},
		{"files_bounded", false, checkFilesBounded},
		{"files_streamed", false, checkFilesStreamed},
		{"reopen_keeps_everything", true, checkReopen},
		{"reopen_then_append", true, checkReopenAppend},
		{"reopen_keeps_files", true, checkReopenFiles},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.reopen && opts.NoReopen {
				t.Skip("the store lives in the process: nothing to reopen")
			}
			h := newHarness(t)
			st := &suite{t: t, h: h, opts: opts, ctx: context.Background()}
			st.open()
			t.Cleanup(st.close)
			c.fn(t, st)
		})
	}
}

type suite struct {
	t     *testing.T
	h     Harness
	opts  Options
	ctx   context.Context
	store flow.Store
}

func (s *suite) open() { s.store = s.h.Open(s.t) }

func (s *suite) close() {
	if c, ok := s.store.(io.Closer); ok && s.store != nil {
		if err := c.Close(); err != nil {
			s.t.Errorf("close store: %v", err)
		}
	}
	s.store = nil
}

// reopen is a restart: close, then open over the same data.
func (s *suite) reopen() {
	s.t.Helper()
	s.close()
	s.open()
}

func (s *suite) save(id string, rec *flow.Record, evs ...*flow.Event) {
	s.t.Helper()
	if err := s.store.Save(s.ctx, id, rec, evs); err != nil {
		s.t.Fatalf("Save(%q, %d events): %v", id, len(evs), err)
	}
}

func (s *suite) load(id string) flow.Record {
	s.t.Helper()
	r, err := s.store.Load(s.ctx, id)
	if err != nil {
		s.t.Fatalf("Load(%q): %v", id, err)
	}
	return r
}

func (s *suite) events(id string, after uint64, limit int) []flow.Event {
	s.t.Helper()
	evs, err := s.store.Events(s.ctx, id, after, limit)
	if err != nil {
		s.t.Fatalf("Events(%q, after %d, limit %d): %v", id, after, limit, err)
	}
	return evs
}

// events makes n events from seq first on, of every common shape.
func makeEvents(first uint64, n int) []*flow.Event {
	out := make([]*flow.Event, n)
	for i := range n {
		seq := first + uint64(i)
		ev := &flow.Event{Seq: seq, Time: 1_700_000_000_000 + int64(seq), Chat: 1}
		switch seq % 4 {
		case 0:
			ev.Type, ev.State = flow.EventState, flow.StateConnected
		case 1:
			msg := servicedesk.TextResponse(fmt.Sprintf("agent line %d — ünïcode ✓", seq))
			ev.Type, ev.Message, ev.MessageID = flow.EventAgentMessage, &msg, fmt.Sprintf("am-%d", seq)
			ev.Profile = &servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman}
		case 2:
			req := servicedesk.NewTextRequest(fmt.Sprintf("user line %d", seq))
			ev.Type, ev.UserMessage, ev.MessageID = flow.EventUserMessage, &req, fmt.Sprintf("um-%d", seq)
			ev.Files = []servicedesk.FileUpload{{ID: "f1", File: servicedesk.File{Name: "a.png", Size: 3, Type: "image/png"}, Status: servicedesk.FileUploading}}
		case 3:
			yes := true
			ev.Type, ev.Typing = flow.EventAgentTyping, &yes
		}
		out[i] = ev
	}
	return out
}

// fullRecord sets every field a record has.
func fullRecord(id string) *flow.Record {
	connect := servicedesk.NewResponse(servicedesk.GenericItem{
		ResponseType: servicedesk.ResponseConnectToAgent,
		TransferInfo: &servicedesk.TransferInfo{SummaryMessageToAgent: []servicedesk.GenericItem{servicedesk.TextItem("wants a refund")}},
	})
	return &flow.Record{
		ID: id, State: flow.StateConnected, Chat: 2, Joined: true, Started: true,
		ConnectMessage: &connect,
		Profile:        &servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman, ProfilePictureURL: "https://example.com/a.png"},
		Profiles: map[string]servicedesk.AgentProfile{
			"ada":   {ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman},
			"grace": {ID: "grace", Nickname: "Grace", UserType: servicedesk.UserHuman},
		},
		DeskState: json.RawMessage(`{"chat_token":"tok-1","nested":{"n":[1,2,3]}}`),
		Capabilities: servicedesk.Capabilities{
			AllowFileUploads: true, AllowMultipleFileUploads: true, AllowedFileUploadTypes: "image/*,.pdf", MaxFileSizeBytes: 1 << 20, MaxFiles: 2,
		},
		Outbox: []flow.PendingMessage{
			{ID: "m1", Message: servicedesk.NewTextRequest("first")},
			{ID: "m2", Message: servicedesk.NewTextRequest("second, with a file"), Files: []servicedesk.FileUpload{
				{ID: "f1", File: servicedesk.File{Name: "scan.pdf", Size: 1234, Type: "application/pdf"}, Status: servicedesk.FileUploading},
			}},
		},
		RecentSent: []string{"m-2", "m-1", "m0"},
		Suspended:  true,
		Customer: &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace", Email: "ada@example.com", Locale: "en-GB",
			Claims: map[string]string{"tier": "gold"}},
		Handoff: &servicedesk.Handoff{
			Customer:   &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace"},
			Unverified: map[string]string{"order": "42"}, Attributes: map[string]string{"queue": "billing"},
			Summary: "wants a refund",
			Transcript: []servicedesk.Turn{
				{From: servicedesk.TurnUser, Text: "my card was declined", At: time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)},
				{From: servicedesk.TurnBot, Text: "I will get you a person", At: time.Date(2026, 12, 2, 4, 0, 1, 500_000_000, time.UTC)},
			},
		},
	}
}

// sameJSON fails the test when got and want encode differently.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: encode got: %v", what, err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: encode want: %v", what, err)
	}
	if !bytes.Equal(g, w) {
		t.Fatalf("%s differs\n got: %s\nwant: %s", what, g, w)
	}
}

func eventValues(evs []*flow.Event) []flow.Event {
	out := make([]flow.Event, len(evs))
	for i, e := range evs {
		out[i] = *e
	}
	return out
}

func seqs(evs []flow.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func checkMissing(t *testing.T, s *suite) {
	if _, err := s.store.Load(s.ctx, "nobody"); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("Load of a missing session: %v, want ErrNotFound", err)
	}
	if _, err := s.store.Events(s.ctx, "nobody", 0, 0); !errors.Is(err, flow.ErrNotFound) {
		t.Errorf("Events of a missing session: %v, want ErrNotFound", err)
	}
	ids, err := s.store.List(s.ctx)
	if err != nil || len(ids) != 0 {
		t.Errorf("List of an empty store: %v, %v", ids, err)
	}
	if err := s.store.Delete(s.ctx, "nobody"); err != nil {
		t.Errorf("Delete of a missing session: %v, want nil", err)
	}
}

func checkRecordRoundTrip(t *testing.T, s *suite) {
	rec := fullRecord("s1")
	evs := makeEvents(1, 5)
	s.save("s1", rec, evs...)
	got := s.load("s1")
	want := *rec
	want.LastSeq = 5
	sameJSON(t, "loaded record", got, want)
	sameJSON(t, "events", s.events("s1", 0, 0), eventValues(evs))

	// A newer record replaces the older one whole.
	next := &flow.Record{ID: "s1", State: flow.StateEnded, Chat: 2}
	s.save("s1", next)
	got = s.load("s1")
	want = *next
	want.LastSeq = 5
	sameJSON(t, "replaced record", got, want)
}

func checkLastSeq(t *testing.T, s *suite) {
	// Whatever the record says, Load reports the newest event held.
	s.save("s", &flow.Record{ID: "s", State: flow.StateWaiting, LastSeq: 99}, makeEvents(1, 3)...)
	if got := s.load("s").LastSeq; got != 3 {
		t.Fatalf("LastSeq after record + 3 events = %d, want 3", got)
	}
	s.save("s", nil, makeEvents(4, 2)...)
	if got := s.load("s").LastSeq; got != 5 {
		t.Fatalf("LastSeq after 2 more events without a record = %d, want 5", got)
	}
	s.save("s", &flow.Record{ID: "s", State: flow.StateConnected, LastSeq: 1})
	if got := s.load("s").LastSeq; got != 5 {
		t.Fatalf("LastSeq after a record that says 1 = %d, want 5", got)
	}
	if got := s.load("s").State; got != flow.StateConnected {
		t.Fatalf("state %s", got)
	}
	// A session with a record and no events yet.
	s.save("quiet", &flow.Record{ID: "quiet"})
	if got := s.load("quiet").LastSeq; got != 0 {
		t.Fatalf("LastSeq of a session without events = %d", got)
	}
	if evs := s.events("quiet", 0, 0); len(evs) != 0 {
		t.Fatalf("events of a session without events: %v", seqs(evs))
	}
}

func checkEventsAfter(t *testing.T, s *suite) {
	s.save("s", &flow.Record{ID: "s"}, makeEvents(1, 3)...)
	s.save("s", nil, makeEvents(4, 3)...)
	all := eventValues(makeEvents(1, 6))
	for after := uint64(0); after <= 7; after++ {
		got := s.events("s", after, 0)
		var want []flow.Event
		if after < 6 {
			want = all[after:]
		}
		if len(got) != len(want) {
			t.Fatalf("Events after %d: seqs %v, want %d events", after, seqs(got), len(want))
		}
		if len(want) > 0 {
			sameJSON(t, fmt.Sprintf("events after %d", after), got, want)
		}
	}
	if got := s.events("s", 1, 2); !slices.Equal(seqs(got), []uint64{2, 3}) {
		t.Fatalf("Events after 1, limit 2: %v", seqs(got))
	}
	if got := s.events("s", 4, 10); !slices.Equal(seqs(got), []uint64{5, 6}) {
		t.Fatalf("Events after 4, limit 10: %v", seqs(got))
	}
}

func checkTrimmed(t *testing.T, s *suite) {
	tail := s.opts.Tail
	n := tail + tail/2
	// In batches of varied sizes, as the engine saves them.
	seq := uint64(1)
	for _, size := range []int{1, 5, tail, n} {
		if int(seq)-1+size > n {
			size = n - int(seq) + 1
		}
		if size <= 0 {
			break
		}
		s.save("s", &flow.Record{ID: "s"}, makeEvents(seq, size)...)
		seq += uint64(size)
	}
	last := uint64(n)
	if got := s.load("s").LastSeq; got != last {
		t.Fatalf("LastSeq %d, want %d", got, last)
	}
	// The newest tail events are all there.
	kept := s.events("s", last-uint64(tail), 0)
	if len(kept) != tail || kept[0].Seq != last-uint64(tail)+1 || kept[len(kept)-1].Seq != last {
		t.Fatalf("the newest %d events: got seqs %v", tail, seqs(kept))
	}
	// From the start, they are not.
	if _, err := s.store.Events(s.ctx, "s", 0, 0); !errors.Is(err, flow.ErrEventsTrimmed) {
		t.Fatalf("Events after 0 with %d events and a tail of %d: %v, want ErrEventsTrimmed", n, tail, err)
	}
	if _, err := s.store.Events(s.ctx, "s", 0, 1); !errors.Is(err, flow.ErrEventsTrimmed) {
		t.Fatalf("Events after 0, limit 1, trimmed: %v, want ErrEventsTrimmed", err)
	}
	// Asking from the newest is never trimmed.
	if evs := s.events("s", last, 0); len(evs) != 0 {
		t.Fatalf("events after the last: %v", seqs(evs))
	}
}

// bigEvents makes n agent messages from seq first on, each about size
// bytes encoded.
func bigEvents(first uint64, n int, size int64) []*flow.Event {
	out := make([]*flow.Event, n)
	for i := range out {
		seq := first + uint64(i)
		msg := servicedesk.TextResponse(fmt.Sprintf("%d:", seq) + strings.Repeat("x", int(size)))
		out[i] = &flow.Event{Seq: seq, Type: flow.EventAgentMessage, Time: 1_700_000_000_000 + int64(seq), Chat: 1, Message: &msg, MessageID: fmt.Sprintf("am-%d", seq)}
	}
	return out
}

func (s *suite) eventBytes() int64 {
	if s.opts.EventBytes > 0 {
		return s.opts.EventBytes
	}
	return flow.StoreEventBytes
}

// checkKeptBytes checks that the session keeps its newest events from
// seq oldest to last, within the byte bound, and that reading from before
// them is ErrEventsTrimmed.
func (s *suite) checkKeptBytes(id string, oldest, last uint64) {
	s.t.Helper()
	kept := s.events(id, oldest-1, 0)
	if len(kept) == 0 || kept[0].Seq != oldest || kept[len(kept)-1].Seq != last {
		s.t.Fatalf("kept events %v, want seqs %d to %d", seqs(kept), oldest, last)
	}
	var held int64
	for i := range kept {
		b, err := flow.EventJSON(&kept[i])
		if err != nil {
			s.t.Fatalf("encode event %d: %v", kept[i].Seq, err)
		}
		held += int64(len(b))
	}
	if len(kept) > 1 && held > s.eventBytes() {
		s.t.Fatalf("the session keeps %d bytes of events (%d events), over its bound of %d", held, len(kept), s.eventBytes())
	}
	if oldest > 1 {
		if _, err := s.store.Events(s.ctx, id, oldest-2, 0); !errors.Is(err, flow.ErrEventsTrimmed) {
			s.t.Fatalf("Events after %d, under the byte bound's trim: %v, want ErrEventsTrimmed", oldest-2, err)
		}
	}
}

// checkEventBytes: a session's events are bounded by bytes as well as by
// count: past the bound the oldest go (reading them is ErrEventsTrimmed),
// the newest event is always kept, however big.
func checkEventBytes(t *testing.T, s *suite) {
	bound := s.eventBytes()
	size := bound / 5 // five fit less their JSON; seven do not
	s.save("s", &flow.Record{ID: "s"}, bigEvents(1, 3, size)...)
	s.save("s", nil, bigEvents(4, 4, size)...)
	// 7 events of a fifth of the bound each: the newest 4 are within it.
	s.checkKeptBytes("s", 4, 7)
	// One event bigger than the bound is kept alone.
	s.save("s", nil, bigEvents(8, 1, bound+1)...)
	s.checkKeptBytes("s", 8, 8)
	// Small events after it push it out.
	s.save("s", nil, bigEvents(9, 2, 100)...)
	s.checkKeptBytes("s", 9, 10)
	// Another session is bounded on its own.
	s.save("t", &flow.Record{ID: "t"}, bigEvents(1, 2, size)...)
	if got := s.events("t", 0, 0); len(got) != 2 {
		t.Fatalf("session t keeps %v, want seqs 1 and 2", seqs(got))
	}
	// Deleted and started again, a session counts from nothing.
	if err := s.store.Delete(s.ctx, "s"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	s.save("s", &flow.Record{ID: "s"}, bigEvents(1, 4, size)...)
	s.checkKeptBytes("s", 1, 4)
}

// checkEventBytesReopen: the byte bound holds across a restart (a store
// that counts the bytes keeps its count).
func checkEventBytesReopen(t *testing.T, s *suite) {
	size := s.eventBytes() / 5
	s.save("s", &flow.Record{ID: "s"}, bigEvents(1, 4, size)...)
	s.reopen()
	s.save("s", nil, bigEvents(5, 2, size)...)
	s.checkKeptBytes("s", 3, 6)
}

func checkSeqGap(t *testing.T, s *suite) {
	rec := &flow.Record{ID: "s", State: flow.StateWaiting}
	s.save("s", rec, makeEvents(1, 3)...)
	for _, bad := range [][]*flow.Event{
		makeEvents(5, 1), // skips 4
		makeEvents(3, 1), // repeats 3
		append(makeEvents(4, 1), makeEvents(6, 1)...), // a gap inside the batch
		makeEvents(1, 2), // from the start again
	} {
		newer := &flow.Record{ID: "s", State: flow.StateConnected}
		err := s.store.Save(s.ctx, "s", newer, bad)
		if !errors.Is(err, flow.ErrSeqGap) {
			t.Fatalf("Save of seqs %v after 3: %v, want ErrSeqGap", seqs(eventValues(bad)), err)
		}
	}
	// Nothing of the refused saves was written: not the record, not an event.
	got := s.load("s")
	if got.State != flow.StateWaiting || got.LastSeq != 3 {
		t.Fatalf("after refused saves: state %s, last seq %d; want waiting, 3", got.State, got.LastSeq)
	}
	if evs := s.events("s", 0, 0); !slices.Equal(seqs(evs), []uint64{1, 2, 3}) {
		t.Fatalf("after refused saves: events %v", seqs(evs))
	}
	// The right next batch still goes in.
	s.save("s", nil, makeEvents(4, 2)...)
	if got := s.load("s").LastSeq; got != 5 {
		t.Fatalf("LastSeq %d", got)
	}
}

func checkEventsOnly(t *testing.T, s *suite) {
	s.save("e", nil, makeEvents(1, 2)...)
	if _, err := s.store.Load(s.ctx, "e"); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("Load of a session with events and no record: %v, want ErrNotFound", err)
	}
	if evs := s.events("e", 0, 0); len(evs) != 2 {
		t.Fatalf("events: %v", seqs(evs))
	}
	ids, err := s.store.List(s.ctx)
	if err != nil || len(ids) != 0 {
		t.Fatalf("List lists sessions with a record only: %v, %v", ids, err)
	}
	// Its events still count: the next must follow them.
	if err := s.store.Save(s.ctx, "e", &flow.Record{ID: "e"}, makeEvents(1, 1)); !errors.Is(err, flow.ErrSeqGap) {
		t.Fatalf("Save from seq 1 again: %v, want ErrSeqGap", err)
	}
	s.save("e", &flow.Record{ID: "e"}, makeEvents(3, 1)...)
	if got := s.load("e").LastSeq; got != 3 {
		t.Fatalf("LastSeq %d", got)
	}
}

func checkList(t *testing.T, s *suite) {
	want := []string{"a", "b", "c:1", "d/2", "z"}
	for _, id := range []string{"z", "c:1", "a", "d/2", "b"} {
		s.save(id, &flow.Record{ID: id}, makeEvents(1, 1)...)
	}
	ids, err := s.store.List(s.ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("List = %v, want %v (sorted)", ids, want)
	}
}

func checkDelete(t *testing.T, s *suite) {
	s.save("gone", fullRecord("gone"), makeEvents(1, 4)...)
	s.save("kept", &flow.Record{ID: "kept"}, makeEvents(1, 1)...)
	if err := s.store.Delete(s.ctx, "gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.store.Load(s.ctx, "gone"); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("Load after Delete: %v, want ErrNotFound", err)
	}
	if _, err := s.store.Events(s.ctx, "gone", 0, 0); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("Events after Delete: %v, want ErrNotFound", err)
	}
	if ids, _ := s.store.List(s.ctx); !slices.Equal(ids, []string{"kept"}) {
		t.Fatalf("List after Delete: %v", ids)
	}
	// The id may be used again, from seq 1.
	s.save("gone", &flow.Record{ID: "gone"}, makeEvents(1, 1)...)
	if got := s.load("gone"); got.LastSeq != 1 || got.State != flow.StateIdle {
		t.Fatalf("a new session under a deleted id: %+v", got)
	}
	if got := s.load("kept").LastSeq; got != 1 {
		t.Fatalf("the other session lost its events: last seq %d", got)
	}
}

func checkOddIDs(t *testing.T, s *suite) {
	ids := []string{
		"with space", "colon:and:more", "slash/../../etc", "star*?[x]{y}", "ünïcödé-✓",
		"quote\"and'", "back\\slash", strings.Repeat("x", flow.MaxSessionIDLen), "a", "ab",
	}
	for i, id := range ids {
		s.save(id, &flow.Record{ID: id, Chat: uint64(i)}, makeEvents(1, i+1)...)
	}
	for i, id := range ids {
		r := s.load(id)
		if r.ID != id || r.Chat != uint64(i) || r.LastSeq != uint64(i+1) {
			t.Fatalf("session %q came back as id %q chat %d last %d", id, r.ID, r.Chat, r.LastSeq)
		}
	}
	listed, err := s.store.List(s.ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Fatalf("List = %q, want %q", listed, want)
	}
	// A prefix of another id is its own session.
	if err := s.store.Delete(s.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got := s.load("ab"); got.LastSeq != uint64(slices.Index(ids, "ab")+1) {
		t.Fatalf("deleting %q touched %q", "a", "ab")
	}
}

func checkImmutable(t *testing.T, s *suite) {
	s.save("s", fullRecord("s"), makeEvents(1, 2)...)
	r := s.load("s")
	r.Profiles["mallory"] = servicedesk.AgentProfile{ID: "mallory"}
	r.Outbox[0].ID = "changed"
	r.DeskState[2] = 'X'
	r.State = flow.StateEnded
	evs := s.events("s", 0, 0)
	evs[0].Type = "changed"
	want := *fullRecord("s")
	want.LastSeq = 2
	sameJSON(t, "record after the caller changed its copy", s.load("s"), want)
	if got := s.events("s", 0, 0); got[0].Type == "changed" {
		t.Fatal("changing a returned event changed the stored one")
	}
}

func checkLarge(t *testing.T, s *suite) {
	rec := fullRecord("big")
	big := map[string]string{"blob": strings.Repeat("0123456789abcdef", 1<<16)} // 1 MiB
	rec.DeskState, _ = json.Marshal(big)
	for i := range 200 {
		rec.Outbox = append(rec.Outbox, flow.PendingMessage{ID: fmt.Sprintf("m%03d", i), Message: servicedesk.NewTextRequest(strings.Repeat("w", 500))})
	}
	evs := makeEvents(1, 3)
	huge := servicedesk.TextResponse(strings.Repeat("long agent message ", 1<<14)) // 300 KiB
	evs[1].Message = &huge
	s.save("big", rec, evs...)
	want := *rec
	want.LastSeq = 3
	sameJSON(t, "large record", s.load("big"), want)
	sameJSON(t, "large events", s.events("big", 0, 0), eventValues(evs))
}

func checkConcurrent(t *testing.T, s *suite) {
	const sessions, saves = 40, 25
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("c%02d", i)
			for n := range saves {
				seq := uint64(n + 1)
				rec := &flow.Record{ID: id, State: flow.StateConnected, Chat: seq}
				if err := s.store.Save(s.ctx, id, rec, makeEvents(seq, 1)); err != nil {
					errs <- fmt.Errorf("session %s save %d: %w", id, n, err)
					return
				}
				if n%5 == 0 { // readers beside the writers
					if _, err := s.store.Events(s.ctx, id, 0, 0); err != nil && !errors.Is(err, flow.ErrEventsTrimmed) {
						errs <- fmt.Errorf("session %s events: %w", id, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range sessions {
		id := fmt.Sprintf("c%02d", i)
		r := s.load(id)
		if r.Chat != saves || r.LastSeq != saves {
			t.Fatalf("session %s: chat %d last seq %d, want %d, %d", id, r.Chat, r.LastSeq, saves, saves)
		}
		evs := s.events(id, saves-uint64(min(s.opts.Tail, saves)), 0)
		if len(evs) == 0 || evs[len(evs)-1].Seq != saves {
			t.Fatalf("session %s events %v", id, seqs(evs))
		}
	}
	if ids, _ := s.store.List(s.ctx); len(ids) != sessions {
		t.Fatalf("listed %d sessions, want %d", len(ids), sessions)
	}
}

func fileStore(t *testing.T, s *suite) flow.FileStore {
	fs, ok := s.store.(flow.FileStore)
	if !ok {
		t.Skip("the store is not a flow.FileStore")
	}
	return fs
}

func readFile(t *testing.T, s *suite, fs flow.FileStore, sid, fid string) (flow.FileInfo, []byte) {
	t.Helper()
	info, rc, err := fs.OpenFile(s.ctx, sid, fid)
	if err != nil {
		t.Fatalf("OpenFile(%s, %s): %v", sid, fid, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read file %s: %v", fid, err)
	}
	return info, b
}

func checkFiles(t *testing.T, s *suite) {
	fs := fileStore(t, s)
	data := bytes.Repeat([]byte{0, 1, 2, 254, 255}, 50_000) // binary, 250 KB
	info := flow.FileInfo{ID: "f1", Name: "scan ü.pdf", Type: "application/pdf"}
	if err := fs.PutFile(s.ctx, "s", info, data); err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	if err := fs.PutFile(s.ctx, "other", flow.FileInfo{ID: "f1", Name: "o.txt"}, []byte("other")); err != nil {
		t.Fatalf("PutFile other: %v", err)
	}
	got, b := readFile(t, s, fs, "s", "f1")
	info.Size = int64(len(data))
	if got != info || !bytes.Equal(b, data) {
		t.Fatalf("file back: %+v, %d bytes; want %+v, %d bytes", got, len(b), info, len(data))
	}
	// Replace.
	if err := fs.PutFile(s.ctx, "s", flow.FileInfo{ID: "f1", Name: "v2.txt", Type: "text/plain"}, []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, b := readFile(t, s, fs, "s", "f1"); got.Name != "v2.txt" || string(b) != "v2" || got.Size != 2 {
		t.Fatalf("replaced file: %+v %q", got, b)
	}
	if _, _, err := fs.OpenFile(s.ctx, "s", "nope"); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("OpenFile of a missing file: %v, want ErrNotFound", err)
	}
	if err := fs.DeleteFiles(s.ctx, "s"); err != nil {
		t.Fatalf("DeleteFiles: %v", err)
	}
	if _, _, err := fs.OpenFile(s.ctx, "s", "f1"); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("OpenFile after DeleteFiles: %v, want ErrNotFound", err)
	}
	if _, b := readFile(t, s, fs, "other", "f1"); string(b) != "other" {
		t.Fatalf("another session's file: %q", b)
	}
	// Deleting a session deletes its files.
	s.save("other", &flow.Record{ID: "other"})
	if err := s.store.Delete(s.ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.OpenFile(s.ctx, "other", "f1"); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("OpenFile after Delete of its session: %v, want ErrNotFound", err)
	}
	// Files do not make a session.
	if ids, _ := s.store.List(s.ctx); len(ids) != 0 {
		t.Fatalf("List after files only: %v", ids)
	}
}

// checkFilesStreamed: a FileStreamer stores what its reader yields, and
// nothing when the reader ends short of info.Size or runs past it.
func checkFilesStreamed(t *testing.T, s *suite) {
	fs := fileStore(t, s)
	st, ok := fs.(flow.FileStreamer)
	if !ok {
		t.Skip("the store is not a flow.FileStreamer")
	}
	data := bytes.Repeat([]byte{0, 1, 2, 254, 255}, 100_000) // 500 KB
	info := flow.FileInfo{ID: "f1", Name: "scan.pdf", Type: "application/pdf", Size: int64(len(data))}
	if err := st.PutFileFrom(s.ctx, "s", info, bytes.NewReader(data)); err != nil {
		t.Fatalf("PutFileFrom: %v", err)
	}
	if got, b := readFile(t, s, fs, "s", "f1"); got != info || !bytes.Equal(b, data) {
		t.Fatalf("file back: %+v, %d bytes; want %+v, %d bytes", got, len(b), info, len(data))
	}
	for _, c := range []struct {
		what string
		size int64
	}{{"short", int64(len(data)) + 1}, {"long", int64(len(data)) - 1}} {
		bad := flow.FileInfo{ID: "f1", Name: "v2.pdf", Size: c.size}
		if err := st.PutFileFrom(s.ctx, "s", bad, bytes.NewReader(data)); err == nil {
			t.Fatalf("PutFileFrom with a reader %s of info.Size: no error", c.what)
		}
		if got, b := readFile(t, s, fs, "s", "f1"); got != info || !bytes.Equal(b, data) {
			t.Fatalf("after a %s PutFileFrom the file is %+v, %d bytes; want the first", c.what, got, len(b))
		}
	}
}

func checkFilesBounded(t *testing.T, s *suite) {
	fs := fileStore(t, s)
	if s.opts.MaxFileBytes <= 0 {
		t.Skip("Options.MaxFileBytes not set")
	}
	chunk := make([]byte, s.opts.MaxFileBytes/4+1)
	var err error
	n := 0
	for ; n < 8; n++ {
		if err = fs.PutFile(s.ctx, "s", flow.FileInfo{ID: fmt.Sprintf("f%d", n), Name: "x.bin"}, chunk); err != nil {
			break
		}
	}
	if !errors.Is(err, flow.ErrStoreFull) {
		t.Fatalf("after %d files of %d bytes with a bound of %d: %v, want ErrStoreFull", n, len(chunk), s.opts.MaxFileBytes, err)
	}
	if n != 3 {
		t.Fatalf("stored %d files of a quarter of the bound, want 3", n)
	}
	// The refused file is not half there, and room comes back after a delete.
	if _, _, err := fs.OpenFile(s.ctx, "s", fmt.Sprintf("f%d", n)); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("the refused file: %v, want ErrNotFound", err)
	}
	if err := fs.DeleteFiles(s.ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if err := fs.PutFile(s.ctx, "s", flow.FileInfo{ID: "again", Name: "x.bin"}, chunk); err != nil {
		t.Fatalf("PutFile after DeleteFiles freed room: %v", err)
	}
}

func checkReopen(t *testing.T, s *suite) {
	rec := fullRecord("s")
	evs := makeEvents(1, 6)
	s.save("s", rec, evs[:4]...)
	s.save("s", nil, evs[4:]...)
	s.save("t", &flow.Record{ID: "t", State: flow.StateWaiting}, makeEvents(1, 1)...)
	s.reopen()
	want := *rec
	want.LastSeq = 6
	sameJSON(t, "record after reopen", s.load("s"), want)
	sameJSON(t, "events after reopen", s.events("s", 0, 0), eventValues(evs))
	if ids, _ := s.store.List(s.ctx); !slices.Equal(ids, []string{"s", "t"}) {
		t.Fatalf("List after reopen: %v", ids)
	}
}

func checkReopenAppend(t *testing.T, s *suite) {
	tail := s.opts.Tail
	s.save("s", &flow.Record{ID: "s"}, makeEvents(1, tail+3)...)
	s.reopen()
	last := uint64(tail + 3)
	if got := s.load("s").LastSeq; got != last {
		t.Fatalf("LastSeq after reopen %d, want %d", got, last)
	}
	if err := s.store.Save(s.ctx, "s", nil, makeEvents(last+2, 1)); !errors.Is(err, flow.ErrSeqGap) {
		t.Fatalf("a gap after reopen: %v, want ErrSeqGap", err)
	}
	s.save("s", nil, makeEvents(last+1, 2)...)
	if _, err := s.store.Events(s.ctx, "s", 0, 0); !errors.Is(err, flow.ErrEventsTrimmed) {
		t.Fatalf("trimmed after reopen: %v", err)
	}
	got := s.events("s", last-1, 0)
	if !slices.Equal(seqs(got), []uint64{last, last + 1, last + 2}) {
		t.Fatalf("events across the reopen: %v", seqs(got))
	}
	// Deleted stays deleted.
	if err := s.store.Delete(s.ctx, "s"); err != nil {
		t.Fatal(err)
	}
	s.reopen()
	if _, err := s.store.Load(s.ctx, "s"); !errors.Is(err, flow.ErrNotFound) {
		t.Fatalf("a deleted session after reopen: %v", err)
	}
}

func checkReopenFiles(t *testing.T, s *suite) {
	fs := fileStore(t, s)
	data := []byte("%PDF-1.7 pretend")
	if err := fs.PutFile(s.ctx, "s", flow.FileInfo{ID: "f", Name: "a.pdf", Type: "application/pdf"}, data); err != nil {
		t.Fatal(err)
	}
	s.reopen()
	fs = s.store.(flow.FileStore)
	if info, b := readFile(t, s, fs, "s", "f"); !bytes.Equal(b, data) || info.Name != "a.pdf" || info.Size != int64(len(data)) {
		t.Fatalf("file after reopen: %+v %q", info, b)
	}
}
