package kustomer_test

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/kustomer"
)

// Example makes a kit for a Kustomer org and mounts its outbound webhook.
// Kit.Factory is what flow.NewEngine and the gateway take; the API key and
// the webhook's token come from the environment.
func Example() {
	kit, err := kustomer.New(kustomer.Config{
		Org:           "acme", // https://acme.api.kustomerapp.com
		APIKey:        os.Getenv("KUSTOMER_API_KEY") + "example",
		From:          "5f8481c6a22ab5b9d5f2dd90", // the bot's user
		WebhookTokens: []string{os.Getenv("KUSTOMER_WEBHOOK_TOKEN") + "example"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	mux := http.NewServeMux()
	mux.Handle("POST /desk/webhook", kit.WebhookHandler())
	var factory servicedesk.Factory = kit.Factory
	fmt.Println(factory != nil, kustomer.Name, kustomer.SignatureHeader)
	// Output: true kustomer X-Kustomer-Webhook-Signature
}
