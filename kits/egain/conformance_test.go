package egain_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/egain"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	egainface "github.com/deskbridge/deskbridge/mock-desk/faces/egain"
)

// Features is what the kit declares to the conformance suite; the
// README's capability table is checked against it.
var Features = conformance.Features{
	AvailabilityCheck: true,
	UserTyping:        true,
	AgentTyping:       true,
	Transfer:          true,
	Reconnect:         true,
}

const (
	entryPoint = "1001"
	customerID = "cust-7d1c"
)

type world struct {
	desk *mockdesk.Desk
	face *egainface.Face
	srv  *httptest.Server
	kit  *egain.Kit
}

func newWorld(t testing.TB, mutate func(*egain.Config)) *world {
	t.Helper()
	desk := conformdesk.NewDesk(t, mockdesk.Options{PingInterval: mockdesk.Duration(time.Second), Faults: conformdesk.BackgroundFaults(1)})
	face := egainface.New(desk, egainface.Options{EntryPointID: entryPoint, CustomerID: customerID})
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cfg := egain.Config{
		URL:          srv.URL,
		EntryPointID: entryPoint,
		CustomerID:   customerID,
		HTTPClient:   hc,
		AgentProfile: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			if full, ok := face.Agent(p.Nickname); ok {
				return full
			}
			return p
		},
		PingInterval:   time.Second,
		RequestTimeout: 2 * time.Second,
		Backoff:        retry.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
	}
	if os.Getenv("KIT_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mutate != nil {
		mutate(&cfg)
	}
	kit, err := egain.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	return &world{desk: desk, face: face, srv: srv, kit: kit}
}

// TestConformance runs the whole suite against mock-desk's eGain face,
// with faults on in the fault scenarios.
func TestConformance(t *testing.T) {
	conformance.Run(t, Features, func(t *testing.T) *conformance.Harness {
		w := newWorld(t, nil)
		return &conformance.Harness{Factory: w.kit.Factory, Desk: conformdesk.New(w.desk), Faults: conformdesk.Faults(w.desk)}
	})
}

// TestREADMECapabilities keeps the README's capability table in step with
// what the kit declares.
func TestREADMECapabilities(t *testing.T) {
	conformance.CheckREADME(t, "README.md", Features)
}
