package oracle_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/oracle"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
	oracleface "github.com/deskbridge/deskbridge/mock-desk/faces/oracle"
)

// Features is what the kit declares to the conformance suite; the
// README's capability table is checked against it.
var Features = conformance.Features{
	AvailabilityCheck: true,
	QueuePosition:     true,
	WaitTime:          true,
	UserTyping:        true,
	AgentTyping:       true,
	Transfer:          true,
	Reconnect:         true,
}

const (
	apiUser     = "chat_api"
	apiPassword = "s3cret"
)

type world struct {
	desk *mockdesk.Desk
	face *oracleface.Face
	srv  *httptest.Server
	kit  *oracle.Kit
}

func newWorld(t testing.TB, opts oracleface.Options, mutate func(*oracle.Config)) *world {
	t.Helper()
	desk := conformdesk.NewDesk(t, mockdesk.Options{Faults: conformdesk.BackgroundFaults(1)})
	opts.User, opts.Password = apiUser, apiPassword
	if opts.Hold == 0 {
		opts.Hold = time.Second
	}
	face := oracleface.New(desk, opts)
	srv := conformdesk.ServeHandler(t, desk, face)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cfg := oracle.Config{
		URL:        srv.URL,
		User:       apiUser,
		Password:   apiPassword,
		QueueID:    7,
		HTTPClient: hc,
		AgentProfile: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			if full, ok := face.Agent(p.ID); ok {
				return full
			}
			return p
		},
		RequestTimeout: 3 * time.Second,
		Retries:        20,
		PollTimeout:    5 * time.Second,
		Backoff:        retry.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond, MaxRetryAfter: time.Second},
		Logger:         debugLogger(),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	w := &world{desk: desk, face: face, srv: srv}
	var err error
	w.kit, err = oracle.New(cfg)
	require.NoError(t, err, "oracle.New")
	t.Cleanup(func() { _ = w.kit.Close() })
	return w
}

// debugLogger shows the kit's log when KIT_DEBUG is set.
func debugLogger() *slog.Logger {
	if os.Getenv("KIT_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestConformance runs the whole suite against mock-desk's Oracle face,
// with faults on in the fault scenarios (and the background ones on in
// all: latency, 429s and stalled getMessages).
func TestConformance(t *testing.T) {
	conformance.Run(t, Features, func(t *testing.T) *conformance.Harness {
		w := newWorld(t, oracleface.Options{}, nil)
		return &conformance.Harness{Factory: w.kit.Factory, Desk: conformdesk.New(w.desk), Faults: conformdesk.Faults(w.desk)}
	})
}

// TestREADMECapabilities keeps the README's capability table in step with
// what the kit declares.
func TestREADMECapabilities(t *testing.T) {
	conformance.CheckREADME(t, "README.md", Features)
}
