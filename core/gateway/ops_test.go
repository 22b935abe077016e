package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestStartChatBounded: one address starts at most StartChatsPerMinute
// chats, one session a quarter as many; another address still starts
// its chat. Before, one client started thousands of desk chats.
func TestStartChatBounded(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.StartChatsPerMinute = 4; o.NewSessionsPerMinute = -1 })
	started, limited := 0, 0
	for range 8 {
		c := e.connect("", modeFlow, 0)
		f := c.call(opStartChat, map[string]any{"connectMessage": connectMessage()})
		switch {
		case f.Type == typeResult:
			started++
		case f.Error.Code == codeRateLimited && f.Error.RetryAfterMS > 0:
			limited++
		default:
			t.Fatalf("startChat: %+v", f)
		}
	}
	if started != 4 || limited != 4 {
		t.Fatalf("from one address: %d chats started, %d limited; want 4 and 4", started, limited)
	}
	v, _, err := e.dialFrom("127.0.0.2", nil)
	mustf(t, err, "dial")
	if f := v.tryHello(""); f.Type != typeWelcome {
		t.Fatalf("hello: %+v", f)
	}
	v.mustCall(opStartChat, map[string]any{"connectMessage": connectMessage()})
	// One session: a start, an end, and a second start within the minute.
	v.mustCall(opEndChat, nil)
	if f := v.call(opStartChat, map[string]any{"connectMessage": connectMessage()}); f.Type != typeError || f.Error.Code != codeRateLimited {
		t.Fatalf("a second chat of one session within the minute: %+v", f)
	}
	if n := e.gw.Stats().Limited[limitStartChat]; n != 5 {
		t.Fatalf("start_chat limited %d times; want 5", n)
	}
}

// TestDeskOpsBounded: a session's messages to the desk are bounded; the
// refused ones never reach the desk, the accepted ones all do, in order.
func TestDeskOpsBounded(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.DeskOpsPerMinute = 8 }) // a burst of 2
	c := e.connect("", modeFlow, 0)
	chat := e.startAndJoin(c)
	var accepted []string
	for i := range 6 {
		id := fmt.Sprint("m", i)
		f := c.call(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest(id), "messageID": id})
		if f.Type == typeResult {
			accepted = append(accepted, id)
		} else if f.Error.Code != codeRateLimited {
			t.Fatalf("message %s: %+v", id, f)
		}
	}
	if len(accepted) != 2 {
		t.Fatalf("%d of 6 messages accepted at once; want the burst of 2", len(accepted))
	}
	for _, want := range accepted {
		m, err := chat.AwaitMessage(ctxT(t))
		if err != nil || m.ID != want {
			t.Fatalf("desk got %+v (%v), want %s", m, err, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if m, err := chat.AwaitMessage(ctx); err == nil {
		t.Fatalf("a refused message reached the desk: %+v", m)
	}
}

// TestTypingAndReadCoalesced: a page toggling typing and sending read
// receipts as fast as it can makes a few desk calls, and the desk ends
// with the latest typing state. Before, every toggle was a desk call.
func TestTypingAndReadCoalesced(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RatePerSecond = -1 })
	c := e.connect("", modeFlow, 0)
	chat := e.startAndJoin(c)
	const n = 40
	for i := range n {
		c.mustCall(opUserTyping, map[string]any{"isTyping": i%2 == 0})
		c.mustCall(opUserReadMessages, nil)
	}
	// The last toggle said false; the trailing call brings it within a
	// second.
	typings, last := drain(t, chat.AwaitTyping)
	reads, _ := drain(t, func(ctx context.Context) (bool, error) { return true, chat.AwaitRead(ctx) })
	if typings == 0 || typings > 4 || last != false {
		t.Fatalf("%d typing calls reached the desk for %d toggles, the last %v; want 1 to 4, the last false", typings, n, last)
	}
	if reads == 0 || reads > 3 {
		t.Fatalf("%d read receipts reached the desk for %d; want 1 to 3", reads, n)
	}
}

// drain counts what await returns until nothing comes for 2.5 s (past the
// coalescing intervals), with the last value.
func drain(t *testing.T, await func(context.Context) (bool, error)) (int, bool) {
	t.Helper()
	n, last := 0, false
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		v, err := await(ctx)
		cancel()
		if err != nil {
			return n, last
		}
		n, last = n+1, v
	}
}

// TestChatLifetime: a chat is ended MaxChatDuration after it started,
// whatever its sockets do.
func TestChatLifetime(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Flow.MaxChatDuration = 150 * time.Millisecond; o.Flow.IdleTTL = time.Hour })
	c := e.connect("", modeFlow, 0)
	chat := e.startAndJoin(c)
	if err := chat.AwaitEnded(ctxT(t)); err != nil {
		t.Fatalf("the chat was not ended past its lifetime: %v", err)
	}
	c.event(flow.EventChatEnded)
	if e.gw.Stats().Limited[limitChatLifetime] != 1 {
		t.Fatalf("chat_lifetime counted %d times", e.gw.Stats().Limited[limitChatLifetime])
	}
}

// TestBriefReconnectsDoNotKeepAChat: a socket that comes for a moment now
// and then does not reset the abandon clock; before, one that reconnected
// for 50 ms every few seconds kept the chat for ever.
func TestBriefReconnectsDoNotKeepAChat(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Flow.AbandonAfter, o.Flow.IdleTTL, o.Flow.PresenceAfter = 400*time.Millisecond, time.Hour, 5*time.Second
	})
	c := e.connect("", modeFlow, 0)
	chat := e.startAndJoin(c)
	c.ws.Close()
	<-c.done
	ended := make(chan error, 1)
	go func() { ended <- chat.AwaitEnded(ctxT(t)) }()
	for range 40 {
		select {
		case err := <-ended:
			mustf(t, err, "ended")
			return
		case <-time.After(100 * time.Millisecond):
		}
		b := e.connect(c.welcome.Token, modeFlow, 0)
		time.Sleep(20 * time.Millisecond)
		b.ws.Close()
		<-b.done
	}
	t.Fatal("brief reconnects kept an abandoned chat going")
}
