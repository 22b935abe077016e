package mockdesk_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// The customer side a vendor face in another package is built on: every
// action of the protocol, with the agent side seeing each.
func TestCustomerChatActions(t *testing.T) {
	ctx := testCtx(t)
	desk := newDesk(t, mockdesk.Options{})
	cc, err := desk.StartCustomerChat(ctx, mockdesk.ChatStart{
		Customer:   deskproto.Customer{Name: "Uma"},
		Summary:    "Wants a refund.",
		Attributes: map[string]string{"order": "A-17"},
	})
	if err != nil {
		t.Fatal(err)
	}
	view, err := desk.ChatView(cc.ID())
	if err != nil {
		t.Fatal(err)
	}
	if view.Summary != "Wants a refund." || view.Attributes["order"] != "A-17" || view.Customer.Name != "Uma" {
		t.Fatalf("agent side sees summary %q, attributes %v, customer %+v", view.Summary, view.Attributes, view.Customer)
	}
	ac, err := desk.Chat(cc.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := ac.Join(ctx, servicedesk.AgentProfile{ID: "agent-1", Nickname: "Ada"}); err != nil {
		t.Fatal(err)
	}
	info, err := cc.Info(ctx)
	if err != nil || info.State != mockdesk.StateActive || info.Agent == nil || info.Agent.Nickname != "Ada" {
		t.Fatalf("info %+v, %v", info, err)
	}

	m := deskproto.Message{IdempotencyKey: "k1", Message: servicedesk.NewTextRequest("hello")}
	first, err := cc.Send(ctx, m)
	if err != nil || first.Replayed {
		t.Fatalf("send: %+v, %v", first, err)
	}
	again, err := cc.Send(ctx, m)
	if err != nil || !again.Replayed || again.MessageID != first.MessageID {
		t.Fatalf("resend: %+v, %v", again, err)
	}
	if _, err := cc.Send(ctx, deskproto.Message{IdempotencyKey: "k1", Message: servicedesk.NewTextRequest("other")}); !errors.Is(err, mockdesk.ErrIdempotencyReused) {
		t.Fatalf("reused key: %v", err)
	}
	if got, err := ac.AwaitCustomerMessage(ctx); err != nil || got.Input.Text != "hello" {
		t.Fatalf("agent got %+v, %v", got, err)
	}

	if err := cc.Typing(ctx, true); err != nil {
		t.Fatal(err)
	}
	if on, err := ac.AwaitCustomerTyping(ctx); err != nil || !on {
		t.Fatalf("agent sees typing %v, %v", on, err)
	}
	said, err := ac.SayText(ctx, "Which order?")
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Read(ctx, said); err != nil {
		t.Fatal(err)
	}
	if id, err := ac.AwaitCustomerRead(ctx); err != nil || id != said {
		t.Fatalf("agent sees read %q, %v", id, err)
	}
	if err := cc.Read(ctx, "am_nope"); !errors.Is(err, mockdesk.ErrBadRequest) {
		t.Fatalf("read of an unknown message: %v", err)
	}

	png := []byte("\x89PNG\r\n\x1a\nrest")
	res, err := cc.Upload(ctx, mockdesk.Upload{FileID: "att-1", MessageID: first.MessageID, Name: "a.png", Type: "image/png", Content: png})
	if err != nil || res.Status != "ok" || res.Size != int64(len(png)) {
		t.Fatalf("upload: %+v, %v", res, err)
	}
	if fu, err := desk.AwaitFileOutcome(ctx, cc.ID(), "att-1"); err != nil || fu.Status != servicedesk.FileSuccess {
		t.Fatalf("agent sees file %+v, %v", fu, err)
	}
	// A file the face refused up front: only its declared size came.
	res, err = cc.Upload(ctx, mockdesk.Upload{FileID: "att-2", Name: "big.pdf", Type: "application/pdf", Size: 50 << 20})
	if !errors.Is(err, mockdesk.ErrFileTooLarge) || res.Status != "error" || res.Reason == "" || mockdesk.Reason(err) != res.Reason {
		t.Fatalf("too large: %+v, %v (reason %q)", res, err, mockdesk.Reason(err))
	}
	if fu, err := desk.AwaitFileOutcome(ctx, cc.ID(), "att-2"); err != nil || !fu.IsError {
		t.Fatalf("agent sees refused file %+v, %v", fu, err)
	}

	share, err := desk.AgentRequestScreenShareAsync(ctx, cc.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.AnswerScreenShare(ctx, share, servicedesk.ScreenShareAccepted); err != nil {
		t.Fatal(err)
	}
	if st, err := ac.AwaitScreenShare(ctx); err != nil || st != servicedesk.ScreenShareAccepted {
		t.Fatalf("agent sees share %q, %v", st, err)
	}
	if err := cc.StopScreenShare(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cc.StopScreenShare(ctx); !errors.Is(err, mockdesk.ErrNoScreenShare) {
		t.Fatalf("second stop: %v", err)
	}

	if err := cc.End(ctx); err != nil {
		t.Fatal(err)
	}
	if by, err := ac.AwaitEnded(ctx); err != nil || by != mockdesk.EndedByCustomer {
		t.Fatalf("ended by %q, %v", by, err)
	}
	if err := cc.Typing(ctx, false); !errors.Is(err, mockdesk.ErrChatEnded) {
		t.Fatalf("typing after the end: %v", err)
	}
	page, err := cc.Events(ctx, 0, 0)
	if err != nil || !page.Ended || page.Events[len(page.Events)-1].Type != deskproto.EventChatEnded {
		t.Fatalf("events: %+v, %v", page, err)
	}
	if err := desk.Customer(cc.ID(), "wrong").End(ctx); !errors.Is(err, mockdesk.ErrUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	}
}

// A follower gets every event once, in seq order, waits for new ones, and
// ends as a connection would: dropped, chat over, desk closed.
func TestFollower(t *testing.T) {
	ctx := testCtx(t)
	desk := newDesk(t, mockdesk.Options{DropPartition: mockdesk.Duration(50 * time.Millisecond)})
	cc, err := desk.StartCustomerChat(ctx, mockdesk.ChatStart{})
	if err != nil {
		t.Fatal(err)
	}
	ac, _ := desk.Chat(cc.ID())
	f, err := cc.Follow(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := f.Next(ctx)
	if err != nil || len(evs) == 0 || evs[0].Seq != 1 || evs[0].Type != deskproto.EventCapabilities {
		t.Fatalf("first events: %+v, %v", evs, err)
	}
	// Next waits for the agent.
	got := make(chan []deskproto.Event, 1)
	go func() {
		evs, _ := f.Next(ctx)
		got <- evs
	}()
	select {
	case evs := <-got:
		t.Fatalf("Next returned %+v before anything happened", evs)
	case <-time.After(50 * time.Millisecond):
	}
	if err := ac.Join(ctx, servicedesk.AgentProfile{ID: "agent-1", Nickname: "Ada"}); err != nil {
		t.Fatal(err)
	}
	if evs := <-got; len(evs) != 1 || evs[0].Type != deskproto.EventAgentJoined || evs[0].Seq != f.Seq() {
		t.Fatalf("after join: %+v (follower at %d)", evs, f.Seq())
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := f.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next without events: %v", err)
	}

	// A drop ends the follower, even once the partition is over.
	before := time.Now()
	if err := desk.DropConnections(ctx, cc.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Info(ctx); !errors.Is(err, mockdesk.ErrUnavailable) {
		t.Fatalf("info while cut off: %v", err)
	}
	// A follower from the present, begun during the partition (a
	// connection the face accepted), reads through it.
	f2, err := cc.Follow(ctx, mockdesk.Latest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ac.SayText(ctx, "still there?"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Next(ctx); !errors.Is(err, mockdesk.ErrUnavailable) {
		t.Fatalf("Next after a drop: %v", err)
	}
	if evs, err := f2.Next(ctx); err != nil || len(evs) != 1 || evs[0].Type != deskproto.EventAgentMessage {
		t.Fatalf("Next of a follower begun in the partition: %+v, %v", evs, err)
	}
	// A connection opened before the drop that follows only now (it
	// logged in first) was cut by it too; one opened after was not.
	late, err := cc.FollowSince(ctx, mockdesk.Latest, before)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := late.Next(ctx); !errors.Is(err, mockdesk.ErrUnavailable) {
		t.Fatalf("Next of a connection opened before the drop: %v", err)
	}
	fresh, err := cc.FollowSince(ctx, mockdesk.Latest, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	if _, err := fresh.Next(short2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next of a connection opened after the drop: %v", err)
	}
	time.Sleep(80 * time.Millisecond)
	info, err := cc.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Follow(ctx, info.LastSeq+1); !errors.Is(err, mockdesk.ErrBadCursor) {
		t.Fatalf("follow after the last seq: %v", err)
	}
	if err := ac.End(ctx); err != nil {
		t.Fatal(err)
	}
	var types []deskproto.EventType
	for {
		evs, err := f2.Next(ctx)
		if errors.Is(err, mockdesk.ErrChatEnded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			types = append(types, e.Type)
		}
	}
	if !slices.Equal(types, []deskproto.EventType{deskproto.EventAgentEnded, deskproto.EventChatEnded}) {
		t.Fatalf("after the present: %v", types)
	}

	// Closing the desk ends a waiting follower.
	cc3, _ := desk.StartCustomerChat(ctx, mockdesk.ChatStart{})
	f3, _ := cc3.Follow(ctx, mockdesk.Latest)
	done := make(chan error, 1)
	go func() {
		_, err := f3.Next(ctx)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	_ = desk.Close()
	if err := <-done; !errors.Is(err, mockdesk.ErrClosed) {
		t.Fatalf("Next as the desk closes: %v", err)
	}
}

// A face refuses requests and drops connections by the desk's faults,
// counted in FaultCounts like the desk's own.
func TestFaceFaults(t *testing.T) {
	ctx := testCtx(t)
	desk := newDesk(t, mockdesk.Options{Faults: mockdesk.Faults{
		REST: mockdesk.HTTPFaults{RetryAfter: mockdesk.Duration(1500 * time.Millisecond)},
		WS:   mockdesk.WSFaults{DropAfterFrames: 2},
	}})
	if err := desk.RequestFault(ctx, mockdesk.SiteREST); err != nil {
		t.Fatalf("no fault configured: %v", err)
	}
	_ = desk.InjectFault(mockdesk.FaultREST429, 1)
	err := desk.RequestFault(ctx, mockdesk.SiteREST)
	var fe *mockdesk.FaultError
	if !errors.As(err, &fe) || !errors.Is(err, mockdesk.ErrRateLimited) || fe.Kind != mockdesk.FaultREST429 || fe.RetryAfterSeconds() != 2 {
		t.Fatalf("injected 429: %v (%+v)", err, fe)
	}
	_ = desk.InjectFault(mockdesk.FaultWSAction5xx, 1)
	if err := desk.RequestFault(ctx, mockdesk.SiteWSAction); !errors.Is(err, mockdesk.ErrUnavailable) {
		t.Fatalf("injected action 5xx: %v", err)
	}
	_ = desk.InjectFault(mockdesk.FaultWS429, 1)
	if err := desk.RequestFault(ctx, mockdesk.SiteWSHandshake); !errors.Is(err, mockdesk.ErrRateLimited) {
		t.Fatalf("injected handshake 429: %v", err)
	}
	if err := desk.RequestFault(ctx, mockdesk.SiteWSHandshake); err != nil {
		t.Fatalf("after the forced fault: %v", err)
	}

	ff := desk.FrameFaults()
	var wrote [][]byte
	write := func(b []byte) error { wrote = append(wrote, b); return nil }
	if err := ff.Write(ctx, []byte("1"), write); err != nil {
		t.Fatal(err)
	}
	if err := ff.Write(ctx, []byte("2"), write); !errors.Is(err, mockdesk.ErrUnavailable) || len(wrote) != 2 {
		t.Fatalf("drop after 2 frames: %v, wrote %q", err, wrote)
	}
	_ = desk.InjectFault(mockdesk.FaultWSDuplicate, 1)
	if !ff.Duplicate() || ff.Duplicate() {
		t.Fatal("one forced duplicate, then none")
	}
	counts := desk.FaultCounts()
	for _, k := range []string{mockdesk.FaultREST429, mockdesk.FaultWSAction5xx, mockdesk.FaultWS429, mockdesk.FaultWSDrop, mockdesk.FaultWSDuplicate} {
		if counts[k] != 1 {
			t.Errorf("FaultCounts[%s] = %d, want 1", k, counts[k])
		}
	}

	ran := make(chan context.Context, 1)
	if !desk.Go(func(ctx context.Context) { ran <- ctx }) {
		t.Fatal("Go on an open desk")
	}
	gctx := <-ran
	_ = desk.Close()
	if gctx.Err() == nil || desk.Go(func(context.Context) {}) {
		t.Fatal("Go's context outlived Close, or Go ran after it")
	}
	if o := desk.Options(); o.MaxBodyBytes != 64<<10 || o.Capabilities == nil {
		t.Fatalf("options with defaults: %+v", o)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newDesk(t *testing.T, opts mockdesk.Options) *mockdesk.Desk {
	t.Helper()
	d, err := mockdesk.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}
