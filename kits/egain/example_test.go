package egain_test

import (
	"cmp"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/egain"
)

// Example makes a kit for an eGain tenant's relay and entry point. The
// customer id is a secret: it comes from the environment. Kit.Factory is
// what flow.NewEngine and the gateway take.
func Example() {
	kit, err := egain.New(egain.Config{
		URL:          "https://relay.example.egain.cloud", // from the relay's registration
		EntryPointID: "1001",
		CustomerID:   customerIDFromEnv(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	var factory servicedesk.Factory = kit.Factory
	_, err = egain.New(egain.Config{URL: "https://relay.example.egain.cloud", EntryPointID: "1001"})
	fmt.Println(factory != nil, err)
	fmt.Println(errors.Is((&egain.Error{Code: "429"}), servicedesk.ErrRateLimited))
	// Output:
	// true egain: Config.CustomerID is required
	// true
}

// customerIDFromEnv reads the secret as deskbridge serve does (a
// placeholder here when it is unset).
func customerIDFromEnv() string {
	return cmp.Or(os.Getenv("DESKBRIDGE_EGAIN_CUSTOMER_ID"), "placeholder-customer-id")
}
