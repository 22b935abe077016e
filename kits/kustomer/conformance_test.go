package kustomer_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/kustomer"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	kustomerface "github.com/deskbridge/deskbridge/mock-desk/faces/kustomer"
)

// The face's API key, webhook token and the bot user of the imports.
const (
	faceKey   = "api-key"
	faceToken = "hook-token"
	botUser   = "5f8481c6a22ab5b9d5f2dd90"
)

// testConfig is the kit's configuration against a face at base: short
// backoffs, a reconcile every second, its own connection pool.
func testConfig(t testing.TB, base string) kustomer.Config {
	pool := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(pool.CloseIdleConnections)
	return kustomer.Config{BaseURL: base, APIKey: faceKey, From: botUser, WebhookTokens: []string{faceToken}, HTTPClient: pool,
		Backoff: retry.Backoff{Min: 20 * time.Millisecond, Max: 300 * time.Millisecond}, ReconcileInterval: time.Second}
}

// faceKit is a kit in front of mock-desk's Kustomer face, the face's
// deliveries going to the kit's webhook handler on a loopback server;
// adjust changes the configuration first.
func faceKit(t testing.TB, desk *mockdesk.Desk, adjust func(*kustomer.Config)) (*kustomer.Kit, *kustomerface.Face) {
	t.Helper()
	face := kustomerface.New(desk, kustomerface.Options{APIKey: faceKey, WebhookToken: faceToken, RetryBase: 50 * time.Millisecond})
	cfg := testConfig(t, conformdesk.ServeHandler(t, desk, face).URL)
	if adjust != nil {
		adjust(&cfg)
	}
	kit, err := kustomer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	receiver := httptest.NewServer(kit.WebhookHandler())
	face.SetWebhookURL(receiver.URL)
	t.Cleanup(func() {
		receiver.Close()
		_ = kit.Close()
	})
	return kit, face
}

// TestConformance runs the whole suite against mock-desk's Kustomer face,
// with faults on in the fault scenarios.
func TestConformance(t *testing.T) {
	conformance.Run(t, Features, func(t *testing.T) *conformance.Harness {
		desk := conformdesk.NewDesk(t, mockdesk.Options{Faults: conformdesk.BackgroundFaults(1)})
		kit, _ := faceKit(t, desk, nil)
		return &conformance.Harness{Factory: kit.Factory, Desk: conformdesk.New(desk), Faults: conformdesk.Faults(desk)}
	})
}
