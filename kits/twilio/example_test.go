package twilio_test

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/twilio"
)

// Example makes a kit for a Flex account and mounts its webhook handler
// at the public URL that Twilio posts the conversations' webhooks to.
// Kit.Factory is what flow.NewEngine and the gateway take.
func Example() {
	kit, err := twilio.New(twilio.Config{
		AccountSID:   "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		AuthToken:    os.Getenv("TWILIO_AUTH_TOKEN") + "example-token", // from the environment
		WorkspaceSID: "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		WebhookURL:   "https://bridge.example.com/desk/webhook",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	mux := http.NewServeMux()
	mux.Handle("/desk/webhook", kit.WebhookHandler())
	var factory servicedesk.Factory = kit.Factory
	fmt.Println(factory != nil)
	// Output: true
}
