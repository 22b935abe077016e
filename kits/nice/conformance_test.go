package nice_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/nice"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	niceface "github.com/deskbridge/deskbridge/mock-desk/faces/nice"
)

// Features is what the kit declares to the conformance suite; the
// README's capability table is checked against it. CXone gives no wait
// estimate and has no screen share.
var Features = conformance.Features{
	AvailabilityCheck: true,
	QueuePosition:     true,
	UserTyping:        true,
	AgentTyping:       true,
	UserRead:          true,
	AgentRead:         true,
	FileUpload:        true,
	Transfer:          true,
	Reconnect:         true,
}

const (
	brandID   = 1086
	channelID = "chat_2b0d7a1c-5f5e-4c1a-9d4e-0c1c2d3e4f50"
)

type world struct {
	desk *mockdesk.Desk
	face *niceface.Face
	srv  *httptest.Server
	kit  *nice.Kit
}

func newWorld(t testing.TB, opts niceface.Options, mutate func(*nice.Config)) *world {
	t.Helper()
	desk := conformdesk.NewDesk(t, mockdesk.Options{PingInterval: mockdesk.Duration(time.Second), Faults: conformdesk.BackgroundFaults(1)})
	opts.BrandID, opts.ChannelID = brandID, channelID
	face := niceface.New(desk, opts)
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cfg := nice.Config{
		BrandID:    brandID,
		ChannelID:  channelID,
		GatewayURL: "ws" + strings.TrimPrefix(srv.URL, "http"),
		ChatURL:    srv.URL,
		HTTPClient: hc,
		AgentProfile: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			if full, ok := face.Agent(p.ID); ok {
				return full
			}
			return p
		},
		PingInterval:   400 * time.Millisecond,
		RequestTimeout: 2 * time.Second,
		Backoff:        retry.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
	}
	if os.Getenv("KIT_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mutate != nil {
		mutate(&cfg)
	}
	kit, err := nice.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	return &world{desk: desk, face: face, srv: srv, kit: kit}
}

func (w *world) harness() *conformance.Harness {
	return &conformance.Harness{Factory: w.kit.Factory, Desk: conformdesk.New(w.desk), Faults: conformdesk.Faults(w.desk)}
}

// TestConformance runs the whole suite against mock-desk's CXone face,
// guests, with faults on in the fault scenarios.
func TestConformance(t *testing.T) {
	conformance.Run(t, Features, func(t *testing.T) *conformance.Harness {
		return newWorld(t, niceface.Options{}, nil).harness()
	})
}

// TestConformanceAuthorized runs the whole suite again with
// OAuth-authorized customers (AuthorizeCustomer, the token in every
// message) whose agents' text is streamed (STREAMED, read from its SSE
// source).
func TestConformanceAuthorized(t *testing.T) {
	conformance.Run(t, Features, func(t *testing.T) *conformance.Harness {
		return newWorld(t, niceface.Options{Streamed: true}, func(c *nice.Config) {
			c.AuthorizationCode = func(context.Context, string) (string, error) { return "code-" + t.Name(), nil }
		}).harness()
	})
}

// TestREADMECapabilities keeps the README's capability table in step with
// what the kit declares.
func TestREADMECapabilities(t *testing.T) {
	conformance.CheckREADME(t, "README.md", Features)
}
