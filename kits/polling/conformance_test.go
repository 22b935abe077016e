package polling_test

import (
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/kits/polling"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
)

// declared is what the kit can do; README.md's table is checked against it.
var declared = conformance.Features{
	AvailabilityCheck: true, QueuePosition: true, WaitTime: true,
	UserTyping: true, AgentTyping: true, UserRead: true, AgentRead: true,
	FileUpload: true, Transfer: true, ScreenShare: true, Reconnect: true,
}

func TestConformance(t *testing.T) {
	conformance.Run(t, declared, func(t *testing.T) *conformance.Harness {
		d := conformdesk.NewDesk(t, mockdesk.Options{Faults: conformdesk.BackgroundFaults(1)})
		srv := conformdesk.Serve(t, d)
		kit, err := polling.New(polling.Config{BaseURL: srv.URL, Wait: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = kit.Close() })
		return conformdesk.Harness(d, kit.Factory)
	})
}
