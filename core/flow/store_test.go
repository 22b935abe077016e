package flow

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestMemoryStore(t *testing.T) {
	m := NewMemoryStore(4)
	if _, err := m.Load(bgCtx, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("load missing: %v", err)
	}
	if _, err := m.Events(bgCtx, "x", 0, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("events missing: %v", err)
	}
	rec := Record{ID: "a", State: StateConnected, Chat: 2, Outbox: []PendingMessage{{ID: "m1"}}}
	evs := []*Event{{Seq: 1, Type: EventState}, {Seq: 2, Type: EventAgentRead}}
	must(t, m.Save(bgCtx, "a", &rec, evs))
	got, err := m.Load(bgCtx, "a")
	must(t, err)
	if got.State != StateConnected || got.Chat != 2 || len(got.Outbox) != 1 {
		t.Errorf("loaded %+v", got)
	}
	if err := m.Save(bgCtx, "a", nil, []*Event{{Seq: 4}}); !errors.Is(err, ErrSeqGap) {
		t.Errorf("gap: %v", err)
	}
	for seq := uint64(3); seq <= 7; seq++ {
		must(t, m.Save(bgCtx, "a", nil, []*Event{{Seq: seq}}))
	}
	tail, err := m.Events(bgCtx, "a", 3, 0)
	must(t, err)
	if len(tail) != 4 || tail[0].Seq != 4 || tail[3].Seq != 7 {
		t.Errorf("tail %v", tail)
	}
	if _, err := m.Events(bgCtx, "a", 1, 0); !errors.Is(err, ErrEventsTrimmed) {
		t.Errorf("trimmed: %v", err)
	}
	limited, _ := m.Events(bgCtx, "a", 3, 2)
	if len(limited) != 2 {
		t.Errorf("limit: %d", len(limited))
	}
	must(t, m.Save(bgCtx, "b", &Record{ID: "b"}, nil))
	must(t, m.Save(bgCtx, "c", nil, []*Event{{Seq: 1}})) // events only: not listed
	ids, _ := m.List(bgCtx)
	if !slices.Equal(ids, []string{"a", "b"}) {
		t.Errorf("list %v", ids)
	}
	must(t, m.Delete(bgCtx, "a"))
	if _, err := m.Load(bgCtx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func TestDeepMerge(t *testing.T) {
	cases := []struct{ cur, src, want string }{
		{`{"a":{"b":1,"c":2}}`, `{"a":{"b":3}}`, `{"a":{"b":3,"c":2}}`},
		{`{"a":[1,{"x":1}]}`, `{"a":[9,{"y":2},3]}`, `{"a":[9,{"x":1,"y":2},3]}`},
		{`{"a":1}`, `{"a":null}`, `{"a":null}`},
		{`{"a":{"b":1}}`, `{"a":"s"}`, `{"a":"s"}`},
		{``, `{"a":1}`, `{"a":1}`},
	}
	for _, c := range cases {
		out, err := mergeDeskState(rawOf(c.cur), rawOf(c.src), true, 0)
		if err != nil || string(out) != c.want {
			t.Errorf("merge %s into %s = %s (%v), want %s", c.src, c.cur, out, err, c.want)
		}
	}
}

func rawOf(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}
