package zendesk_test

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/zendesk"
)

// Example makes a kit for a Zendesk account's Sunshine Conversations app
// and mounts its webhook. Kit.Factory is what flow.NewEngine and the
// gateway take; the secrets come from the environment.
func Example() {
	kit, err := zendesk.New(zendesk.Config{
		Subdomain:      "acme", // https://acme.zendesk.com/sc
		AppID:          "5ebee0975ac5304b664a12fa",
		KeyID:          "app_5ebee0975ac5304b664a12fb",
		KeySecret:      os.Getenv("ZENDESK_KEY_SECRET") + "example",
		WebhookSecrets: []string{os.Getenv("ZENDESK_WEBHOOK_SECRET") + "example"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	mux := http.NewServeMux()
	mux.Handle("POST /zendesk/webhook", kit.WebhookHandler())
	var factory servicedesk.Factory = kit.Factory
	fmt.Println(factory != nil, zendesk.AgentWorkspace)
	// Output: true zd:agentWorkspace
}
