package chatwoot_test

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
	"github.com/deskbridge/deskbridge/kits/chatwoot"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	chatwootface "github.com/deskbridge/deskbridge/mock-desk/faces/chatwoot"
)

// Features is what the kit declares to the conformance suite; the
// README's capability table is checked against it.
var Features = conformance.Features{
	UserTyping:  true,
	FileUpload:  true,
	AgentTyping: true,
	UserRead:    true,
	Transfer:    true,
	Reconnect:   true,
}

const inbox = "inbox-abc"

func newWorld(t testing.TB, opts chatwootface.Options, tweak func(*chatwoot.Config)) (*chatwoot.Kit, *mockdesk.Desk, *chatwootface.Face) {
	t.Helper()
	desk := conformdesk.NewDesk(t, mockdesk.Options{PingInterval: mockdesk.Duration(time.Second), Faults: conformdesk.BackgroundFaults(1)})
	opts.InboxIdentifier = inbox
	face := chatwootface.New(desk, opts)
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cfg := chatwoot.Config{
		URL: srv.URL, InboxIdentifier: inbox, HTTPClient: hc,
		AgentProfile: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			if full, ok := face.Agent(p.ID); ok {
				return full
			}
			return p
		},
		MinInterval:    time.Millisecond,
		StaleAfter:     3 * time.Second,
		Backoff:        retry.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		CableBackoff:   retry.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		TypingInterval: time.Millisecond,
	}
	if os.Getenv("KIT_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if tweak != nil {
		tweak(&cfg)
	}
	kit, err := chatwoot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	return kit, desk, face
}

// TestConformance runs the whole suite against mock-desk's Chatwoot face,
// with faults on in the fault scenarios.
func TestConformance(t *testing.T) {
	conformance.Run(t, Features, func(t *testing.T) *conformance.Harness {
		kit, desk, _ := newWorld(t, chatwootface.Options{}, nil)
		return &conformance.Harness{Factory: kit.Factory, Desk: conformdesk.New(desk), Faults: conformdesk.Faults(desk)}
	})
}

// TestREADMECapabilities keeps the README's capability table in step with
// what the kit declares.
func TestREADMECapabilities(t *testing.T) {
	conformance.CheckREADME(t, "README.md", Features)
}
