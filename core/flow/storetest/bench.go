package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Benchmark measures Save as the engine calls it for one user message: a
// record with the message in its outbox plus its event. "one_session" saves
// from one goroutine; "parallel" from GOMAXPROCS goroutines, each its own
// session, which is where a store that batches commits shows it.
func Benchmark(b *testing.B, open func(b *testing.B) flow.Store) {
	b.Run("one_session", func(b *testing.B) {
		st := open(b)
		benchSaves(b, st, "bench-one", b.N)
	})
	b.Run("parallel", func(b *testing.B) {
		st := open(b)
		var n atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			id := fmt.Sprintf("bench-par-%d", n.Add(1))
			rec, seq := benchRecord(id), uint64(0)
			for pb.Next() {
				seq++
				if err := st.Save(context.Background(), id, rec, benchEvent(seq)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func benchSaves(b *testing.B, st flow.Store, id string, n int) {
	rec := benchRecord(id)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range n {
		if err := st.Save(context.Background(), id, rec, benchEvent(uint64(i+1))); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRecord(id string) *flow.Record {
	return &flow.Record{
		ID: id, State: flow.StateConnected, Chat: 1, Joined: true, Started: true,
		Profile: &servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman},
		Outbox:  []flow.PendingMessage{{ID: "m", Message: servicedesk.NewTextRequest("a user message of a usual length, about sixty-four bytes")}},
	}
}

func benchEvent(seq uint64) []*flow.Event {
	req := servicedesk.NewTextRequest("a user message of a usual length, about sixty-four bytes")
	return []*flow.Event{{Seq: seq, Type: flow.EventUserMessage, Time: 1_700_000_000_000, Chat: 1, MessageID: fmt.Sprint("m", seq), UserMessage: &req}}
}
