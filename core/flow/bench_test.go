package flow

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// benchDesk answers every call at once and does nothing else.
type benchDesk struct{ cb servicedesk.Callback }

func (d *benchDesk) Name() string { return "bench" }
func (d *benchDesk) StartChat(context.Context, servicedesk.MessageResponse, servicedesk.StartChatOptions) error {
	return nil
}
func (d *benchDesk) EndChat(context.Context, servicedesk.EndChatInfo) error { return nil }
func (d *benchDesk) SendMessageToAgent(context.Context, servicedesk.MessageRequest, string, servicedesk.AdditionalDataToAgent) error {
	return nil
}

type benchRig struct {
	engine *Engine
	mu     sync.Mutex
	desks  map[string]*benchDesk
}

func newBenchRig(b *testing.B, opts Options) *benchRig {
	br := &benchRig{desks: map[string]*benchDesk{}}
	e, err := NewEngine(func(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		d := &benchDesk{cb: p.Callback}
		br.mu.Lock()
		br.desks[p.Instance.SessionID()] = d
		br.mu.Unlock()
		return d, nil
	}, opts)
	if err != nil {
		b.Fatal(err)
	}
	br.engine = e
	b.Cleanup(func() { _ = e.Close(context.Background()) })
	return br
}

// connect returns a connected session and its desk's callback.
func (br *benchRig) connect(b *testing.B, id string) (*Session, servicedesk.Callback) {
	s, err := br.engine.Session(bgCtx, id)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.StartChat(bgCtx, connectMsg, StartOptions{}); err != nil {
		b.Fatal(err)
	}
	br.mu.Lock()
	cb := br.desks[id].cb
	br.mu.Unlock()
	cb.AgentJoined(ada)
	for s.State() != StateConnected {
		runtime.Gosched()
	}
	return s, cb
}

// waitApplied spins until the session has applied n ops in all.
func waitApplied(s *Session, n uint64) {
	for s.applied.Load() < n {
		runtime.Gosched()
	}
}

// callback kinds the benchmarks send; each one is applied and makes an event.
var benchCalls = map[string]func(cb servicedesk.Callback, i int){
	"typing":        func(cb servicedesk.Callback, i int) { cb.AgentTyping(i%2 == 0) },
	"agent_message": func(cb servicedesk.Callback, i int) { cb.SendTextToUser("hello there", "") },
}

// BenchmarkOneSession pushes b.N callbacks from one goroutine through one
// session and waits until all are applied, in order, with their events.
func BenchmarkOneSession(b *testing.B) {
	for _, name := range []string{"typing", "agent_message"} {
		call := benchCalls[name]
		b.Run(name, func(b *testing.B) {
			br := newBenchRig(b, Options{})
			s, cb := br.connect(b, "s")
			base := s.applied.Load()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				call(cb, i+1)
			}
			waitApplied(s, base+uint64(b.N))
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
		})
	}
	// Baseline: the obvious alternative, one goroutine per session reading
	// ops from a channel, applying the same kind of event append.
	b.Run("baseline_channel_actor", func(b *testing.B) {
		ops := make(chan func(), 1024)
		var log []Event
		var seq uint64
		done := make(chan struct{})
		go func() {
			for op := range ops {
				op()
			}
			close(done)
		}()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			on := i%2 == 0
			ops <- func() {
				seq++
				log = append(log, Event{Seq: seq, Type: EventAgentTyping, Typing: &on})
				if len(log) > 512 {
					log = log[:0]
				}
			}
		}
		close(ops)
		<-done
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
	})
}

// BenchmarkTenThousandSessions spreads b.N callbacks over 10,000 connected
// sessions from GOMAXPROCS goroutines.
func BenchmarkTenThousandSessions(b *testing.B) {
	const n = 10000
	br := newBenchRig(b, Options{})
	sessions := make([]*Session, n)
	cbs := make([]servicedesk.Callback, n)
	for i := range n {
		sessions[i], cbs[i] = br.connect(b, fmt.Sprintf("s%d", i))
	}
	var before uint64
	for _, s := range sessions {
		before += s.applied.Load()
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			cbs[i%n].AgentTyping(i/n%2 == 0)
		}
	})
	for {
		var total uint64
		for _, s := range sessions {
			total += s.applied.Load()
		}
		if total >= before+uint64(b.N) {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
}

// BenchmarkIdleSessionMemory measures the heap held per session with no
// transport attached: "new" sessions that were only created, and "after chat"
// sessions that went through a whole chat (start, join, two messages each
// way, end) and keep their event log and store record.
func BenchmarkIdleSessionMemory(b *testing.B) {
	const n = 10000
	for _, mode := range []string{"new", "after_chat"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				br := newBenchRig(b, Options{AssistantReturnDelay: -1})
				before := heapInUse()
				keep := make([]*Session, n)
				for i := range n {
					id := fmt.Sprintf("s%d", i)
					if mode == "new" {
						keep[i], _ = br.engine.Session(bgCtx, id)
						continue
					}
					s, cb := br.connect(b, id)
					cb.SendTextToUser("hello", "")
					_, _ = s.SendText(bgCtx, "hi")
					cb.SendTextToUser("bye", "")
					_, _ = s.SendText(bgCtx, "bye")
					_ = s.EndChat(bgCtx, EndOptions{})
					for s.State() != StateEnded {
						runtime.Gosched()
					}
					keep[i] = s
				}
				after := heapInUse()
				b.ReportMetric(float64(after-before)/n, "B/session")
				runtime.KeepAlive(keep)
				_ = br.engine.Close(bgCtx)
			}
		})
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
