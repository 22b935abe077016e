package flow

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func bigEvent(seq uint64, n int) *Event {
	return &Event{Seq: seq, Type: EventAgentMessage, Message: ptr(servicedesk.NewResponse(servicedesk.TextItem(strings.Repeat("x", n))))}
}

// TestMemoryStoreEventBytes: a MemoryStore holds at most its byte bounds
// of events, per session and in all, whatever the sessions send; reading
// what was dropped fails with ErrEventsTrimmed; deleting a session gives
// its bytes back.
func TestMemoryStoreEventBytes(t *testing.T) {
	ctx := context.Background()
	const per, total, ev = 200 << 10, 450 << 10, 10 << 10
	m := NewMemoryStore(1024).LimitEventBytes(per, total)
	ids := []string{"a", "b", "c"}
	for seq := uint64(1); seq <= 300; seq++ {
		for _, id := range ids {
			if err := m.Save(ctx, id, &Record{}, []*Event{bigEvent(seq, ev)}); err != nil {
				t.Fatal(err)
			}
			if used := m.EventBytes(); used > total+ev+512 {
				t.Fatalf("after seq %d: %d bytes held, bound %d", seq, used, total)
			}
		}
	}
	for _, id := range ids {
		evs, err := m.Events(ctx, id, 299, 0)
		if err != nil || len(evs) != 1 || evs[0].Seq != 300 {
			t.Fatalf("%s: the newest event: %v %v", id, evs, err)
		}
		if _, err := m.Events(ctx, id, 0, 0); !errors.Is(err, ErrEventsTrimmed) {
			t.Fatalf("%s: reading dropped events: %v, want ErrEventsTrimmed", id, err)
		}
	}
	for _, id := range ids {
		if err := m.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if used := m.EventBytes(); used != 0 {
		t.Fatalf("%d bytes held after every session was deleted", used)
	}
}

// TestEventLogBytesPerSession: a session's log holds at most its byte
// bound and always its newest event.
func TestEventLogBytesPerSession(t *testing.T) {
	l := eventLog{max: 1024, maxBytes: 50 << 10}
	for seq := uint64(1); seq <= 100; seq++ {
		l.append(bigEvent(seq, 20<<10))
		if l.bytes > 50<<10 && l.n > 1 {
			t.Fatalf("seq %d: %d bytes in %d events", seq, l.bytes, l.n)
		}
	}
	if l.n != 2 || l.oldest() != 99 {
		t.Fatalf("kept %d events from %d; want 99 and 100", l.n, l.oldest())
	}
	l.append(bigEvent(101, 80<<10)) // larger than the bound: kept alone
	if l.n != 1 || l.oldest() != 101 {
		t.Fatalf("kept %d events from %d; want only 101", l.n, l.oldest())
	}
	l.release()
	if l.bytes != 0 {
		t.Fatalf("%d bytes after release", l.bytes)
	}
}
