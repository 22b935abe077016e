package conformance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// exchange sends n messages each way at once and checks that both sides got
// all of them, once each, in order.
func (f *fixture) exchange(chat Chat, n int, during func()) {
	f.t.Helper()
	userIDs := make([]string, 0, n)
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := chat.Say(f.ctx, servicedesk.TextResponse(fmt.Sprintf("agent %d", i))); err != nil {
				errc <- fmt.Errorf("agent says %d: %w", i, err)
				return
			}
		}
		errc <- nil
	}()
	for i := range n {
		if i == n/3 && during != nil {
			during()
		}
		id, err := f.s.SendText(f.ctx, fmt.Sprintf("user %d", i))
		require.NoError(f.t, err, "send")
		userIDs = append(userIDs, id)
	}
	require.NoError(f.t, <-errc, "agent side")
	var got []string
	for len(got) < n {
		m, err := chat.AwaitMessage(f.ctx)
		require.NoError(f.t, err, fmt.Sprintf("desk: await user message %d", len(got)))
		got = append(got, m.ID)
	}
	require.Equal(f.t, userIDs, got, "user messages at the desk (lost, duplicated or reordered)")
	var texts []string
	for len(texts) < n {
		ev := f.await(fmt.Sprintf("agent message %d", len(texts)), isType(flow.EventAgentMessage))
		texts = append(texts, ev.Message.PlainText())
	}
	wantTexts := make([]string, n)
	for i := range wantTexts {
		wantTexts[i] = fmt.Sprintf("agent %d", i)
	}
	require.Equal(f.t, wantTexts, texts, "agent messages the user saw (lost, duplicated or reordered)")
	// Nothing extra arrives afterwards.
	ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
	defer cancel()
	for {
		evs, err := f.sub.Next(ctx)
		if err != nil {
			break
		}
		for _, ev := range evs {
			f.seen = append(f.seen, ev)
			if ev.Type == flow.EventAgentMessage {
				f.t.Fatalf("extra agent message after the exchange: %q", ev.Message.PlainText())
			}
		}
	}
	m, err := awaitQuiet(chat, f.ctx)
	require.Error(f.t, err, "extra user message at the desk: %+v", m)
}

func awaitQuiet(chat Chat, parent context.Context) (CustomerMessage, error) {
	ctx, cancel := context.WithTimeout(parent, 300*time.Millisecond)
	defer cancel()
	return chat.AwaitMessage(ctx)
}

// TestConnectionLostMidChat: the kit's connection drops in the middle of an
// exchange: nothing is lost, doubled or reordered either way, and
// DISCONNECTED is raised and cleared.
func TestConnectionLostMidChat(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	chat := f.join(ada)
	f.exchange(chat, 10, func() {
		require.NoError(f.t, chat.DropConnection(f.ctx), "drop connection")
	})
	var lost, back bool
	for _, ev := range f.seen {
		switch ev.Type {
		case flow.EventDisconnected:
			lost = true
		case flow.EventReconnected:
			back = lost
		}
	}
	require.True(f.t, lost && back, "want DISCONNECTED true then false around the drop; events: %s", f.describe())
}

func (f *fixture) faults() Faults {
	if f.h.Faults == nil {
		f.t.Skip("the harness injects no faults (Harness.Faults is nil)")
	}
	return f.h.Faults
}

// TestDeskErrorsRetried: the desk answers 5xx and 429 with Retry-After at
// random: the kit retries, and nothing is lost, doubled or reordered.
func TestDeskErrorsRetried(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	fl := f.faults()
	chat := f.join(ada)
	require.NoError(f.t, fl.Set(f.ctx, FaultProfile{Seed: 7, ServerErrorRate: 0.3, RateLimitRate: 0.2, RetryAfterSeconds: 1}), "set faults")
	f.exchange(chat, 8, nil)
	require.NoError(f.t, fl.Set(f.ctx, FaultProfile{}), "clear faults")
	n, err := fl.Injected(f.ctx)
	require.NoError(f.t, err, "injected")
	require.Positive(f.t, n["server_error"]+n["rate_limit"], "no fault was injected (%v): the scenario proved nothing", n)
}

// TestDuplicateAndReorderedDelivery: the desk delivers events twice and out
// of order: the user sees each once, in order.
func TestDuplicateAndReorderedDelivery(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	fl := f.faults()
	chat := f.join(ada)
	require.NoError(f.t, fl.Set(f.ctx, FaultProfile{Seed: 11, DuplicateRate: 0.5, ReorderRate: 0.3}), "set faults")
	f.exchange(chat, 12, nil)
	require.NoError(f.t, fl.Set(f.ctx, FaultProfile{}), "clear faults")
	n, err := fl.Injected(f.ctx)
	require.NoError(f.t, err, "injected")
	require.Positive(f.t, n["duplicate"]+n["reorder"], "no duplicate or reorder was injected (%v)", n)
}
