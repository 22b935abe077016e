package conformdesk

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// Desk is a mockdesk.Desk seen as a conformance.Desk.
type Desk struct{ d *mockdesk.Desk }

var (
	_ conformance.Desk   = (*Desk)(nil)
	_ conformance.Chat   = (*Chat)(nil)
	_ conformance.Faults = faults{}
)

// New adapts d.
func New(d *mockdesk.Desk) *Desk { return &Desk{d: d} }

// SetAgentsOnline takes every roster agent on or off line.
func (a *Desk) SetAgentsOnline(ctx context.Context, online bool) error {
	return a.d.SetAgentsOnline(ctx, online)
}

// RefuseNextChat makes the desk refuse the next chat with reason.
func (a *Desk) RefuseNextChat(ctx context.Context, reason string) error {
	return a.d.RefuseNextChat(ctx, reason)
}

// NextChat waits for the next chat a customer started.
func (a *Desk) NextChat(ctx context.Context) (conformance.Chat, error) {
	ac, err := a.d.AwaitChat(ctx)
	if err != nil {
		return nil, err
	}
	return &Chat{AgentChat: ac, d: a.d}, nil
}

// Chat is one mock-desk chat seen as a conformance.Chat. The methods whose
// signatures match (ID, Summary, Join, Typing, Read, Transfer, Leave, End,
// AwaitScreenShare) come from mockdesk.AgentChat.
type Chat struct {
	*mockdesk.AgentChat
	d *mockdesk.Desk
}

// QueueUpdate sends a queue position and wait (negative: not set).
func (c *Chat) QueueUpdate(ctx context.Context, position, waitMinutes int) error {
	return c.d.QueueUpdate(ctx, c.ID(), position, waitMinutes)
}

// Say sends an agent message.
func (c *Chat) Say(ctx context.Context, msg servicedesk.MessageResponse) error {
	_, err := c.AgentChat.Say(ctx, msg)
	return err
}

// RequestScreenShare asks for the customer's screen; the answer comes by
// AwaitScreenShare.
func (c *Chat) RequestScreenShare(ctx context.Context) error {
	_, err := c.d.AgentRequestScreenShareAsync(ctx, c.ID())
	return err
}

// CancelScreenShare withdraws the request or ends the share.
func (c *Chat) CancelScreenShare(ctx context.Context) error {
	return c.EndScreenShare(ctx)
}

// FailNextUpload fails the next upload that passes the limits.
func (c *Chat) FailNextUpload(ctx context.Context, reason string) error {
	return c.d.FailNextUpload(ctx, c.ID(), reason)
}

// RejectNextMessage refuses the next customer message.
func (c *Chat) RejectNextMessage(ctx context.Context, reason string) error {
	return c.d.RejectNextMessage(ctx, c.ID(), reason)
}

// Transfer hands the chat to another agent, who joins at once (the suite's
// Transfer covers both steps; mock-desk's only starts the transfer).
func (c *Chat) Transfer(ctx context.Context, to servicedesk.AgentProfile) error {
	if err := c.AgentChat.Transfer(ctx, to); err != nil {
		return err
	}
	return c.d.AgentJoin(ctx, c.ID(), to)
}

// DropConnection cuts the customer side's live connections to the chat.
func (c *Chat) DropConnection(ctx context.Context) error {
	return c.d.DropConnections(ctx, c.ID())
}

// AwaitMessage returns the next customer message, stored or refused, with
// the files it announced once each was uploaded and checked.
func (c *Chat) AwaitMessage(ctx context.Context) (conformance.CustomerMessage, error) {
	m, err := c.d.AwaitCustomerMessageInfo(ctx, c.ID())
	if err != nil {
		return conformance.CustomerMessage{}, err
	}
	out := conformance.CustomerMessage{ID: m.IdempotencyKey, Text: m.Request.Input.Text, Rejected: m.Rejected != ""}
	if out.ID == "" {
		out.ID = m.Request.ID
	}
	for _, fid := range m.FileIDs {
		f, err := c.d.AwaitFileOutcome(ctx, c.ID(), fid)
		if err != nil {
			return out, err
		}
		cf := conformance.CustomerFile{ID: f.ID, Name: f.File.Name, Type: f.File.Type, Rejected: f.ErrorMessage}
		if !f.IsError && f.File.Open != nil {
			rc, err := f.File.Open(ctx)
			if err != nil {
				return out, fmt.Errorf("conformdesk: open file %s: %w", f.ID, err)
			}
			cf.Data, err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return out, fmt.Errorf("conformdesk: read file %s: %w", f.ID, err)
			}
		}
		if cf.Rejected != "" {
			out.Rejected = true
		}
		out.Files = append(out.Files, cf)
	}
	return out, nil
}

// AwaitTyping returns the customer's next typing change.
func (c *Chat) AwaitTyping(ctx context.Context) (bool, error) { return c.AwaitCustomerTyping(ctx) }

// AwaitRead returns when the customer next reports messages read.
func (c *Chat) AwaitRead(ctx context.Context) error {
	_, err := c.AwaitCustomerRead(ctx)
	return err
}

// AwaitEnded returns when the chat has ended.
func (c *Chat) AwaitEnded(ctx context.Context) error {
	_, err := c.AgentChat.AwaitEnded(ctx)
	return err
}

// Faults returns d's fault injection as a conformance.Faults.
func Faults(d *mockdesk.Desk) conformance.Faults { return faults{d} }

type faults struct{ d *mockdesk.Desk }

// Set applies a profile to every transport it names: 5xx and 429 to REST
// and polls, duplicates and reordering to webhooks.
func (f faults) Set(ctx context.Context, p conformance.FaultProfile) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ra := mockdesk.Duration(time.Duration(max(p.RetryAfterSeconds, 1)) * time.Second)
	h := mockdesk.HTTPFaults{Rate5xx: p.ServerErrorRate, Rate429: p.RateLimitRate, RetryAfter: ra}
	f.d.SetFaults(mockdesk.Faults{
		Seed:    uint64(p.Seed),
		REST:    h,
		Poll:    mockdesk.PollFaults{HTTPFaults: h, DuplicateRate: p.DuplicateRate, ReorderRate: p.ReorderRate},
		WS:      mockdesk.WSFaults{ActionRate5xx: p.ServerErrorRate, ActionRate429: p.RateLimitRate, RetryAfter: ra, DuplicateRate: p.DuplicateRate, ReorderRate: p.ReorderRate},
		Webhook: mockdesk.WebhookFaults{DuplicateRate: p.DuplicateRate, ReorderRate: p.ReorderRate},
	})
	return nil
}

// Injected returns the fault counters.
func (f faults) Injected(ctx context.Context) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for k, v := range f.d.FaultCounts() {
		out[k] = int(v)
		// The suite's words for mock-desk's per-transport kinds.
		switch {
		case strings.HasSuffix(k, "_5xx"), strings.HasSuffix(k, "_5xx_after"):
			out["server_error"] += int(v)
		case strings.HasSuffix(k, "_429"):
			out["rate_limit"] += int(v)
		case strings.HasSuffix(k, "_duplicate"):
			out["duplicate"] += int(v)
		case strings.HasSuffix(k, "_reorder"):
			out["reorder"] += int(v)
		}
	}
	return out, nil
}

// Serve runs d on a loopback httptest server for the rest of the test; the
// server and the desk close in t.Cleanup, the desk first so that its
// long-lived connections end.
func Serve(t testing.TB, d *mockdesk.Desk) *httptest.Server {
	t.Helper()
	return ServeHandler(t, d, d)
}

// ServeHandler is Serve with another handler in front of d: one of its
// vendor faces (connectface.New, genesysface.New in mock-desk/faces).
func ServeHandler(t testing.TB, d *mockdesk.Desk, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		_ = d.Close()
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

// NewDesk returns a mock-desk with opts for one test, failing it on error.
func NewDesk(t testing.TB, opts mockdesk.Options) *mockdesk.Desk {
	t.Helper()
	d, err := mockdesk.New(opts)
	if err != nil {
		t.Fatalf("mock-desk: %v", err)
	}
	return d
}

// Harness wires a kit's factory to d for the conformance suite.
func Harness(d *mockdesk.Desk, f servicedesk.Factory) *conformance.Harness {
	return &conformance.Harness{Factory: f, Desk: New(d), Faults: Faults(d)}
}

// BackgroundFaults are the faults every kit's conformance run keeps on, so
// each scenario also proves the kit copes with a desk that is a little slow
// and sometimes says "not now": added latency, 429s with Retry-After (the
// request was not processed), stalled polls. The fault scenarios of the
// suite replace them with their own.
func BackgroundFaults(seed uint64) mockdesk.Faults {
	return mockdesk.Faults{
		Seed: seed,
		REST: mockdesk.HTTPFaults{Latency: mockdesk.Duration(time.Millisecond), Rate429: 0.05, RetryAfter: mockdesk.Duration(time.Second)},
		Poll: mockdesk.PollFaults{HTTPFaults: mockdesk.HTTPFaults{Rate429: 0.05, RetryAfter: mockdesk.Duration(time.Second)}, StallRate: 0.05},
		WS:   mockdesk.WSFaults{Latency: mockdesk.Duration(time.Millisecond)},
	}
}
