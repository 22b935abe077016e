package twilio_test

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
	"github.com/deskbridge/deskbridge/kits/twilio"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	twilioface "github.com/deskbridge/deskbridge/mock-desk/faces/twilio"
)

// Features is what the kit declares to the conformance suite; the
// README's capability table is checked against it.
var Features = conformance.Features{
	UserRead:   true,
	AgentRead:  true,
	FileUpload: true,
	Reconnect:  true,
}

// Excluded are the scenarios Twilio cannot express.
var Excluded = map[string]string{
	"files/upload_fails_after_send": "Twilio has no answer for media that fails after its message was posted: " +
		"the media service takes the file or refuses it, and the message carries it or is refused",
}

// faceWorld is a kit against mock-desk's Twilio face, its webhooks on a
// loopback server of their own.
func faceWorld(t testing.TB, mutate func(*twilio.Config)) (*twilio.Kit, *mockdesk.Desk) {
	t.Helper()
	desk := conformdesk.NewDesk(t, mockdesk.Options{PingInterval: mockdesk.Duration(time.Second), Faults: conformdesk.BackgroundFaults(1)})
	face := twilioface.New(desk, twilioface.Options{AuthToken: "face-token"})
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	var kit *twilio.Kit
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { kit.WebhookHandler().ServeHTTP(w, r) }))
	t.Cleanup(hooks.Close)
	caps := desk.Options().Capabilities
	cfg := twilio.Config{
		AccountSID: "AC00000000000000000000000000000000", AuthToken: "face-token", WorkspaceSID: "WS00000000000000000000000000000000",
		WebhookURL: hooks.URL + "/desk/webhook", ConversationsURL: srv.URL, FlexURL: srv.URL, MediaURL: srv.URL,
		HTTPClient: hc, MaxFileBytes: caps.MaxFileSizeBytes, AllowedFileTypes: caps.AllowedFileUploadTypes,
		AgentProfile: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			if full, ok := face.Agent(p.ID); ok {
				return full
			}
			return p
		},
		ReconcileInterval: 2 * time.Second,
		Backoff:           retry.Backoff{Min: 50 * time.Millisecond, Max: time.Second},
	}
	if os.Getenv("KIT_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mutate != nil {
		mutate(&cfg)
	}
	var err error
	kit, err = twilio.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	return kit, desk
}

// TestConformance runs the whole suite against mock-desk's Twilio face,
// with faults on in the fault scenarios.
func TestConformance(t *testing.T) {
	conformance.RunExcluding(t, Features, Excluded, func(t *testing.T) *conformance.Harness {
		kit, desk := faceWorld(t, nil)
		return &conformance.Harness{Factory: kit.Factory, Desk: conformdesk.New(desk), Faults: conformdesk.Faults(desk)}
	})
}

// TestREADMECapabilities keeps the README's capability table in step with
// what the kit declares.
func TestREADMECapabilities(t *testing.T) {
	conformance.CheckREADME(t, "README.md", Features)
}
