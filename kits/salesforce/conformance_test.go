package salesforce_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/sse"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/salesforce"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	salesforceface "github.com/deskbridge/deskbridge/mock-desk/faces/salesforce"
)

// Features is what the kit declares to the conformance suite; the
// README's capability table is checked against it.
var Features = conformance.Features{
	WaitTime:    true,
	UserTyping:  true,
	AgentTyping: true,
	UserRead:    true,
	AgentRead:   true,
	Transfer:    true,
	Reconnect:   true,
}

// uuidID makes the engine's message ids lowercase UUIDs, as Salesforce
// wants its entry ids, so the desk sees the engine's ids as they are.
func uuidID() string { return vendorkit.NewUUID() }

func newWorld(t testing.TB) (*salesforce.Kit, *mockdesk.Desk) {
	t.Helper()
	desk := conformdesk.NewDesk(t, mockdesk.Options{PingInterval: mockdesk.Duration(time.Second), Faults: conformdesk.BackgroundFaults(1)})
	face := salesforceface.New(desk, salesforceface.Options{OrgID: orgID, DeveloperName: "Web_Chat"})
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	sc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	t.Cleanup(sc.CloseIdleConnections)
	cfg := salesforce.Config{
		URL: srv.URL, OrgID: orgID, DeveloperName: "Web_Chat",
		HTTPClient: hc, StreamClient: sc,
		AgentProfile: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			if full, ok := face.Agent(p.ID); ok {
				return full
			}
			return p
		},
		HeartbeatTimeout: 5 * time.Second,
		StreamBackoff:    sse.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		Backoff:          retry.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		TypingInterval:   time.Millisecond,
	}
	if os.Getenv("KIT_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	kit, err := salesforce.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	return kit, desk
}

// TestConformance runs the whole suite against mock-desk's Salesforce
// face, with faults on in the fault scenarios.
func TestConformance(t *testing.T) {
	conformance.Run(t, Features, func(t *testing.T) *conformance.Harness {
		kit, desk := newWorld(t)
		return &conformance.Harness{Factory: kit.Factory, Desk: conformdesk.New(desk), Faults: conformdesk.Faults(desk), NewID: uuidID}
	})
}

// TestREADMECapabilities keeps the README's capability table in step with
// what the kit declares.
func TestREADMECapabilities(t *testing.T) {
	conformance.CheckREADME(t, "README.md", Features)
}
