package zendesk_test

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
	"github.com/deskbridge/deskbridge/kits/zendesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	zendeskface "github.com/deskbridge/deskbridge/mock-desk/faces/zendesk"
)

// Excluded are the scenarios Sunshine Conversations cannot express.
var Excluded = map[string]string{
	"chat/agent_leaves_then_another_joins": "an integration sees no agent leave a ticket that stays open: " +
		"Zendesk tells it only of control passing back when the ticket is solved, and of the next agent's first message",
}

// faceKit is a kit talking to mock-desk behind its Zendesk face, with the
// face's webhooks posted to the kit's handler on a loopback server.
func faceKit(t testing.TB, desk *mockdesk.Desk) (*zendesk.Kit, *zendeskface.Face) {
	t.Helper()
	face := zendeskface.New(desk, zendeskface.Options{AppID: "app1", KeyID: "app_key1", KeySecret: "key-secret", WebhookSecret: "hook-secret", RetryBase: 50 * time.Millisecond})
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cfg := zendesk.Config{BaseURL: srv.URL, AppID: "app1", KeyID: "app_key1", KeySecret: "key-secret", JWT: true,
		WebhookSecrets: []string{"hook-secret"}, Integration: "deskbridge", HTTPClient: hc,
		Backoff: retry.Backoff{Min: 20 * time.Millisecond, Max: 300 * time.Millisecond},
		AgentProfile: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			if full, ok := face.Agent(p.Nickname); ok {
				return full
			}
			return p
		}}
	if os.Getenv("KIT_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	kit, err := zendesk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hook := httptest.NewServer(kit.WebhookHandler())
	t.Cleanup(hook.Close)
	t.Cleanup(func() { _ = kit.Close() })
	face.SetWebhookURL(hook.URL)
	return kit, face
}

// TestConformance runs the whole suite against mock-desk's Zendesk face,
// with faults on in the fault scenarios.
func TestConformance(t *testing.T) {
	conformance.RunExcluding(t, Features, Excluded, func(t *testing.T) *conformance.Harness {
		desk := conformdesk.NewDesk(t, mockdesk.Options{Faults: conformdesk.BackgroundFaults(1)})
		kit, _ := faceKit(t, desk)
		return &conformance.Harness{Factory: kit.Factory, Desk: conformdesk.New(desk), Faults: conformdesk.Faults(desk)}
	})
}
