package amazonconnect_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/amazonconnect"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	connectface "github.com/deskbridge/deskbridge/mock-desk/faces/connect"
)

// Features is what the kit declares to the conformance suite; the
// README's capability table is checked against it.
var Features = conformance.Features{
	UserTyping:  true,
	AgentTyping: true,
	UserRead:    true,
	AgentRead:   true,
	FileUpload:  true,
	Transfer:    true,
	Reconnect:   true,
}

// world is an in-process mock-desk behind its Amazon Connect face, and a
// kit pointed at it.
type world struct {
	desk *mockdesk.Desk
	face *connectface.Face
	srv  *httptest.Server // closed by conformdesk
	kit  *amazonconnect.Kit
}

func newWorld(t testing.TB, mutate func(*amazonconnect.Config)) *world {
	t.Helper()
	caps := amazonconnect.DefaultAttachments
	caps.MaxFileSizeBytes = 1 << 20 // small, so the too-large case stays cheap
	desk := conformdesk.NewDesk(t, mockdesk.Options{Capabilities: &caps, PingInterval: mockdesk.Duration(time.Second), Faults: conformdesk.BackgroundFaults(1)})
	face := connectface.New(desk, connectface.Options{})
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	client := connect.New(connect.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
		HTTPClient:   hc,
	})
	cfg := amazonconnect.Config{
		Region:              "us-east-1",
		InstanceID:          "12345678-1234-1234-1234-123456789012",
		ContactFlowID:       "87654321-4321-4321-4321-210987654321",
		Connect:             client,
		ParticipantEndpoint: srv.URL,
		HTTPClient:          hc,
		Attachments:         &caps,
		AgentProfile: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			if full, ok := face.Agent(p.ID); ok {
				return full
			}
			return p
		},
		HeartbeatInterval: time.Second,
		Backoff:           retry.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
	}
	if os.Getenv("KIT_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mutate != nil {
		mutate(&cfg)
	}
	kit, err := amazonconnect.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	return &world{desk: desk, face: face, srv: srv, kit: kit}
}

// TestConformance runs the whole suite against mock-desk's Amazon Connect
// face, with faults on in the fault scenarios.
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
