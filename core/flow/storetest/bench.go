package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Benchmark measures Save as the engine calls it for one user message: a
// record with the message in its outbox plus its event. "one_session" saves
// from one goroutine; "parallel" from GOMAXPROCS goroutines, each its own
// session, which is where a store that batches commits shows it;
// "sessions_1000" from 1,000 goroutines, each its own session saving as
// soon as its previous save returned, as a server with 1,000 busy chats
// does. That one reports the CPU time per save (this process's, plus the
// store server's with ServerCPU), which is what a store costs a server
// whose cores are busy.
func Benchmark(b *testing.B, open func(b *testing.B) flow.Store, opts ...BenchOption) {
	var o benchOptions
	for _, opt := range opts {
		opt(&o)
	}
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
	b.Run("sessions_1000", func(b *testing.B) {
		st := open(b)
		manySessions(b, st, 1000, o.serverCPU)
	})
}

// A BenchOption changes what Benchmark measures.
type BenchOption func(*benchOptions)

type benchOptions struct {
	serverCPU func() time.Duration
}

// ServerCPU adds the CPU time that cpu reports (a store server's process
// on the same machine) to the CPU time per save.
func ServerCPU(cpu func() time.Duration) BenchOption {
	return func(o *benchOptions) { o.serverCPU = cpu }
}

// manySessions runs b.N saves over n sessions, each saving in a closed loop.
func manySessions(b *testing.B, st flow.Store, n int, serverCPU func() time.Duration) {
	cpuNow := func() time.Duration {
		d := processCPU()
		if serverCPU != nil {
			d += serverCPU()
		}
		return d
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuNow()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("bench-many-%d", i)
			rec := benchRecord(id)
			for seq := uint64(1); next.Add(1) <= int64(b.N); seq++ {
				if err := st.Save(context.Background(), id, rec, benchEvent(seq)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuNow()-cpu0
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "saves/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/save")
	}
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

// benchRecord is a record as a live chat saves it: an agent joined, the
// connect message, the desk's state, one message in the outbox and the ids
// of the last 32 the desk took.
func benchRecord(id string) *flow.Record {
	ada := servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman}
	connect := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent})
	rec := &flow.Record{
		ID: id, State: flow.StateConnected, Chat: 1, Joined: true, Started: true,
		ConnectMessage: &connect,
		Profile:        &ada,
		Profiles:       map[string]servicedesk.AgentProfile{ada.ID: ada},
		DeskState:      json.RawMessage(`{"chat_id":"c-5f0e2a9b","key":"k-31d8c7e4a0b2","seq":42}`),
		Capabilities:   servicedesk.Capabilities{AllowFileUploads: true, AllowedFileUploadTypes: "image/*,.pdf,.txt"},
		Outbox:         []flow.PendingMessage{{ID: "m", Message: servicedesk.NewTextRequest("a user message of a usual length, about sixty-four bytes")}},
	}
	for i := range 32 {
		rec.RecentSent = append(rec.RecentSent, fmt.Sprintf("m-%016x", i))
	}
	return rec
}

func benchEvent(seq uint64) []*flow.Event {
	req := servicedesk.NewTextRequest("a user message of a usual length, about sixty-four bytes")
	return []*flow.Event{{Seq: seq, Type: flow.EventUserMessage, Time: 1_700_000_000_000, Chat: 1, MessageID: fmt.Sprint("m", seq), UserMessage: &req}}
}
