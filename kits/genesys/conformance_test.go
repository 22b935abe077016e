package genesys_test

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
	"github.com/deskbridge/deskbridge/kits/genesys"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	genesysface "github.com/deskbridge/deskbridge/mock-desk/faces/genesys"
)

// Features is what the kit declares to the conformance suite; the
// README's capability table is checked against it.
var Features = conformance.Features{
	UserTyping:  true,
	AgentTyping: true,
	FileUpload:  true,
	Reconnect:   true,
}

type world struct {
	desk *mockdesk.Desk
	face *genesysface.Face
	srv  *httptest.Server
	kit  *genesys.Kit
}

func newWorld(t testing.TB, mutate func(*genesys.Config)) *world {
	t.Helper()
	desk := conformdesk.NewDesk(t, mockdesk.Options{PingInterval: mockdesk.Duration(time.Second), Faults: conformdesk.BackgroundFaults(1)})
	face := genesysface.New(desk, genesysface.Options{DeploymentID: "dep-1"})
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cfg := genesys.Config{
		DeploymentID: "dep-1",
		WebSocketURL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1",
		APIURL:       srv.URL,
		HTTPClient:   hc,
		AgentProfile: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			if full, ok := face.Agent(p.Nickname); ok {
				return full
			}
			return p
		},
		EchoInterval:   time.Second,
		SendInterval:   20 * time.Millisecond,
		RequestTimeout: 2 * time.Second,
		Backoff:        retry.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
	}
	if os.Getenv("KIT_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mutate != nil {
		mutate(&cfg)
	}
	kit, err := genesys.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	return &world{desk: desk, face: face, srv: srv, kit: kit}
}

// Excluded are the scenarios Genesys's guest protocol cannot express.
var Excluded = map[string]string{
	"chat/agent_leaves_then_another_joins": "a Web Messaging guest sees no agent leave a conversation that goes on: " +
		"Presence Disconnect ends the conversation (read-only), and a new agent shows only as a new channel.from",
}

// TestConformance runs the whole suite against mock-desk's Genesys face,
// with faults on in the fault scenarios.
func TestConformance(t *testing.T) {
	conformance.RunExcluding(t, Features, Excluded, func(t *testing.T) *conformance.Harness {
		w := newWorld(t, nil)
		return &conformance.Harness{Factory: w.kit.Factory, Desk: conformdesk.New(w.desk), Faults: conformdesk.Faults(w.desk)}
	})
}

// TestREADMECapabilities keeps the README's capability table in step with
// what the kit declares.
func TestREADMECapabilities(t *testing.T) {
	conformance.CheckREADME(t, "README.md", Features)
}
