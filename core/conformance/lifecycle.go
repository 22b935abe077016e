package conformance

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestCloseIdempotent: a desk closes twice without error and refuses work
// after Close.
func TestCloseIdempotent(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	d := f.deskFor("close-twice")
	c, ok := d.(io.Closer)
	if !ok {
		f.t.Fatal("a kit's desk must implement io.Closer, so engines can stop its goroutines")
	}
	require.NoError(f.t, c.Close(), "first Close")
	require.NoError(f.t, c.Close(), "second Close")
	err := d.SendMessageToAgent(f.ctx, servicedesk.NewTextRequest("x"), "x", servicedesk.AdditionalDataToAgent{})
	require.Error(f.t, err, "SendMessageToAgent after Close")
}

// TestCloseWhileCallBlocks: closing the engine returns while a desk call is
// stuck retrying.
func TestCloseWhileCallBlocks(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	fl := f.faults()
	chat := f.join(ada)
	_ = chat
	require.NoError(f.t, fl.Set(f.ctx, FaultProfile{Seed: 3, ServerErrorRate: 1}), "set faults")
	_, err := f.s.SendText(f.ctx, "stuck behind desk errors")
	require.NoError(f.t, err, "send")
	time.Sleep(200 * time.Millisecond) // the kit is now retrying
	done := make(chan error, 1)
	go func() { done <- f.engine.Close(context.Background()) }()
	select {
	case err := <-done:
		require.NoError(f.t, err, "close")
	case <-time.After(5 * time.Second):
		f.t.Fatal("Close did not return while a desk call was retrying")
	}
	require.NoError(f.t, fl.Set(f.ctx, FaultProfile{}), "clear faults")
}

// TestNoGoroutineLeaks: after a chat and the engine's Close, nothing the kit
// or the engine started is left running. It runs alone.
func TestNoGoroutineLeaks(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	// The harness (desk, servers) runs before and after; only what the kit
	// and engine start must be gone. Idle keep-alive connections of HTTP
	// pools (the harness's server, a kit's process-wide client) are the
	// pools' to close, not the sessions'.
	opt := goleak.IgnoreCurrent()
	pools := []goleak.Option{
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
	}
	require.NoError(f.t, f.engine.Close(f.ctx), "close first engine")
	f.startEngine()
	chat := f.join(ada)
	f.exchange(chat, 3, nil)
	require.NoError(f.t, f.s.EndChat(f.ctx, flow.EndOptions{}), "end")
	f.await("ended", isState(flow.StateEnded))
	require.NoError(f.t, f.engine.Close(f.ctx), "close engine")
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := goleak.Find(append(pools, opt)...)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("goroutines left after the engine and its desks closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
