package livechat_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/livechat"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	livechatface "github.com/deskbridge/deskbridge/mock-desk/faces/livechat"
)

// Features is what the kit declares to the conformance suite; the
// README's capability table is checked against it.
var Features = conformance.Features{
	AvailabilityCheck: true,
	QueuePosition:     true,
	WaitTime:          true,
	UserTyping:        true,
	AgentTyping:       true,
	UserRead:          true,
	AgentRead:         true,
	FileUpload:        true,
	Transfer:          true,
	Reconnect:         true,
}

type world struct {
	desk *mockdesk.Desk
	face *livechatface.Face
	srv  *httptest.Server
	kit  *livechat.Kit
}

const agentToken = "dal:agent-token-with-customers-own"

func newWorld(t testing.TB, opts livechatface.Options, mutate func(*livechat.Config)) *world {
	t.Helper()
	desk := conformdesk.NewDesk(t, mockdesk.Options{PingInterval: mockdesk.Duration(time.Second), Faults: conformdesk.BackgroundFaults(1)})
	opts.OrganizationID, opts.ClientID, opts.AgentToken = "org-1", "client-1", agentToken
	face := livechatface.New(desk, opts)
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cfg := livechat.Config{
		OrganizationID: "org-1",
		ClientID:       "client-1",
		AgentToken:     func(context.Context) (string, error) { return agentToken, nil },
		APIURL:         srv.URL,
		AccountsURL:    srv.URL,
		HTTPClient:     hc,
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
	kit, err := livechat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	return &world{desk: desk, face: face, srv: srv, kit: kit}
}

// Excluded is empty: every scenario of the suite runs.
var Excluded = map[string]string{}

// TestConformance runs the whole suite against mock-desk's LiveChat face,
// with faults on in the fault scenarios.
func TestConformance(t *testing.T) {
	conformance.RunExcluding(t, Features, Excluded, func(t *testing.T) *conformance.Harness {
		w := newWorld(t, livechatface.Options{}, nil)
		return &conformance.Harness{Factory: w.kit.Factory, Desk: conformdesk.New(w.desk), Faults: conformdesk.Faults(w.desk)}
	})
}

// TestREADMECapabilities keeps the README's capability table in step with
// what the kit declares.
func TestREADMECapabilities(t *testing.T) {
	conformance.CheckREADME(t, "README.md", Features)
}
