package gateway

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/deskbridge/deskbridge/core/flow"
)

// switchedStore is a MemoryStore that can be made to refuse every save.
type switchedStore struct {
	*flow.MemoryStore
	down atomic.Bool
}

func (s *switchedStore) Save(ctx context.Context, id string, rec *flow.Record, evs []*flow.Event) error {
	if s.down.Load() {
		return fmt.Errorf("switched store: save %s: %w", id, flow.ErrStoreUnavailable)
	}
	return s.MemoryStore.Save(ctx, id, rec, evs)
}

// While the store takes no saves, every socket is told so (a status
// frame; the welcome of a socket that comes meanwhile); when it takes
// them again, it is told that too, and what waited follows: the answer to
// the message sent meanwhile and the message's events, in order.
func TestSocketsAreToldWhileTheStoreIsDown(t *testing.T) {
	store := &switchedStore{MemoryStore: flow.NewMemoryStore(0)}
	e := newEnv(t, func(o *Options) { o.Flow.Store = store })
	c := e.connect("", modeDesk, 0)
	if c.welcome.StoreUnavailable {
		t.Fatal("the welcome says the store is unavailable before it was")
	}
	chat := e.startAndJoin(c)

	store.down.Store(true)
	c.send(map[string]any{"op": opSendMessageToAgent, "id": "m", "args": map[string]any{"message": map[string]any{"id": "u1", "input": map[string]any{"text": "sent while the store is down"}}}})
	f := c.next("status unavailable", func(f frame) bool { return f.Type == typeStatus || f.Type == typeResult && f.Re == "m" })
	if f.Type != typeStatus || f.Store != storeUnavailable {
		t.Fatalf("while the store is down the socket got %+v, want a status frame saying unavailable", f)
	}
	other := e.connect("", modeDesk, 0)
	if !other.welcome.StoreUnavailable {
		t.Fatal("a socket that came while the store was down was not told in its welcome")
	}

	store.down.Store(false)
	// The answer comes once the batch is saved; the status with the next
	// look at the store: in either order.
	var answered, told bool
	for !answered || !told {
		f := c.next("the answer and status ok", func(f frame) bool { return f.Type == typeStatus || f.Re == "m" })
		switch {
		case f.Type == typeStatus && f.Store == storeOK:
			told = true
		case f.Type == typeResult:
			answered = true
		default:
			t.Fatalf("after the store came back: %+v (error %+v)", f, f.Error)
		}
	}
	if ev := c.event(flow.EventUserMessage); ev.Event.MessageID != "u1" {
		t.Fatalf("user_message %+v", ev.Event)
	}
	got, err := chat.AwaitMessage(ctxT(t))
	if err != nil || got.Text != "sent while the store is down" {
		t.Fatalf("the desk got %+v, %v", got, err)
	}
}
