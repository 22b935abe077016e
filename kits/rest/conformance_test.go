package rest_test

import (
	"net/http/httptest"
	"testing"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/kits/rest"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/conformdesk"
)

// declared is what the kit can do; README.md's table is checked against it.
var declared = conformance.Features{
	AvailabilityCheck: true, QueuePosition: true, WaitTime: true,
	UserTyping: true, AgentTyping: true, UserRead: true, AgentRead: true,
	FileUpload: true, Transfer: true, ScreenShare: true, Reconnect: true,
}

const secret = "whsec_conformance"

func TestConformance(t *testing.T) {
	conformance.Run(t, declared, func(t *testing.T) *conformance.Harness {
		d := conformdesk.NewDesk(t, mockdesk.Options{Faults: conformdesk.BackgroundFaults(1), WebhookSecret: []byte(secret)})
		srv := conformdesk.Serve(t, d)
		bridge := httptest.NewUnstartedServer(nil)
		kit, err := rest.New(rest.Config{BaseURL: srv.URL, WebhookURL: "http://" + bridge.Listener.Addr().String() + "/desk/webhook", WebhookSecrets: []string{secret}})
		if err != nil {
			t.Fatal(err)
		}
		bridge.Config.Handler = kit.WebhookHandler()
		bridge.Start()
		t.Cleanup(func() { _ = kit.Close(); bridge.CloseClientConnections(); bridge.Close() })
		return conformdesk.Harness(d, kit.Factory)
	})
}
