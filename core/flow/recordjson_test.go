package flow

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// checkEncodings panics when RecordJSON or EventJSON disagree with
// encoding/json: TestMain sets it as the save hook, so every batch the
// package's tests save is checked.
func checkEncodings(rec *Record, events []*Event) {
	if rec != nil {
		want, werr := json.Marshal(rec)
		got, gerr := RecordJSON(rec)
		if string(got) != string(want) || (werr == nil) != (gerr == nil) {
			panic(fmt.Sprintf("RecordJSON of %s:\n got  %s (%v)\n want %s (%v)", rec.ID, got, gerr, want, werr))
		}
	}
	for _, ev := range events {
		want, werr := json.Marshal(ev)
		got, gerr := EventJSON(ev)
		if string(got) != string(want) || (werr == nil) != (gerr == nil) {
			panic(fmt.Sprintf("EventJSON of %d:\n got  %s\n want %s", ev.Seq, got, want))
		}
	}
}

func liveRecord() *Record {
	ada := servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman}
	connect := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent})
	r := &Record{
		ID: "s-0123456789", State: StateConnected, Chat: 3, Joined: true, Started: true,
		ConnectMessage: &connect, Profile: &ada, Profiles: map[string]servicedesk.AgentProfile{"ada": ada},
		DeskState:    json.RawMessage("{ \"chat_id\": \"c-1\",\n \"seq\": 42 }"),
		Capabilities: servicedesk.Capabilities{AllowFileUploads: true, AllowedFileUploadTypes: "image/*,.txt", MaxFiles: 2},
		Outbox:       []PendingMessage{{ID: "m-1", Message: servicedesk.NewTextRequest("hello <b>there</b> & you")}},
		Suspended:    true,
		LastSeq:      123,
		Customer:     &servicedesk.Customer{ID: "c-42", Name: "Ada <L>", Claims: map[string]string{"tier": "gold"}},
		Handoff: &servicedesk.Handoff{Summary: "card", Unverified: map[string]string{"order": "42"},
			Transcript: []servicedesk.Turn{{From: servicedesk.TurnUser, Text: "my card", At: time.Unix(1795568773, 0).UTC()}}},
	}
	for i := range 32 {
		r.RecentSent = append(r.RecentSent, fmt.Sprintf("m-%016x", i))
	}
	return r
}

func TestRecordJSONIsEncodingJSON(t *testing.T) {
	cases := map[string]func(r *Record){
		"a live chat":  func(*Record) {},
		"zero":         func(r *Record) { *r = Record{} },
		"html in ids":  func(r *Record) { r.ID = "<s&1>"; r.RecentSent = []string{"a\"b", `c\d`, "<e>"} },
		"unicode":      func(r *Record) { r.ID = "sé-\u2028-😀"; r.RecentSent = []string{"\x01", "ß"} },
		"invalid utf8": func(r *Record) { r.ID = "a\xffb" },
		"bad state":    func(r *Record) { r.State = State(200) },
		"no extras": func(r *Record) {
			r.ConnectMessage, r.Profile, r.Profiles, r.DeskState, r.Outbox, r.RecentSent = nil, nil, nil, nil, nil, nil
			r.Customer, r.Handoff = nil, nil
			r.Joined, r.Started, r.Suspended = false, false, false
		},
		"empty desk state": func(r *Record) { r.DeskState = json.RawMessage{} },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			r := liveRecord()
			change(r)
			checkEncodings(r, nil)
			r.enc = new(recordCache) // cold and warm cache
			checkEncodings(r, nil)
			checkEncodings(r, nil)
		})
	}
}

func TestRecordJSONRefusesABadDeskState(t *testing.T) {
	r := liveRecord()
	r.DeskState = json.RawMessage(`{"a":`)
	_, werr := json.Marshal(r)
	_, gerr := RecordJSON(r)
	if werr == nil || gerr == nil {
		t.Fatalf("errors: encoding/json %v, RecordJSON %v", werr, gerr)
	}
}

// TestRecordJSONSeesReplacedParts: the cache holds a part only while the
// record holds the same value; a session that replaces one is encoded anew.
func TestRecordJSONSeesReplacedParts(t *testing.T) {
	r := liveRecord()
	r.enc = new(recordCache)
	checkEncodings(r, nil)
	bob := servicedesk.AgentProfile{ID: "bob", Nickname: "Bob", UserType: servicedesk.UserHuman}
	steps := []func(){
		func() { r.Profile = &bob },
		func() { r.Profiles = map[string]servicedesk.AgentProfile{"ada": *r.Profile, "bob": bob} },
		func() { r.DeskState = json.RawMessage(`{"chat_id":"c-2"}`) },
		func() { r.Capabilities.MaxFiles = 5 },
		func() {
			m := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseText, Text: "other"})
			r.ConnectMessage = &m
		},
		func() {
			r.Outbox = append(r.Outbox, PendingMessage{ID: "m-2", Message: servicedesk.NewTextRequest("two")})
		},
	}
	for i, step := range steps {
		step()
		got, err := RecordJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(r)
		if string(got) != string(want) {
			t.Fatalf("step %d:\n got  %s\n want %s", i, got, want)
		}
	}
	if !strings.Contains(string(must1(RecordJSON(r))), `"bob"`) {
		t.Fatal("the new profile is not in the encoding")
	}
}

func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func BenchmarkRecordJSON(b *testing.B) {
	b.Run("encoding_json", func(b *testing.B) {
		r := liveRecord()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RecordJSON", func(b *testing.B) {
		r := liveRecord()
		r.enc = new(recordCache)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := RecordJSON(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
