package salesforce_test

import (
	"fmt"
	"log"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/salesforce"
)

// Example makes a kit for a Messaging for In-App and Web deployment of
// type Custom Client. An unverified end user needs no credentials: the kit
// asks Salesforce for a token per chat. Kit.Factory is what flow.NewEngine
// and the gateway take.
func Example() {
	kit, err := salesforce.New(salesforce.Config{
		URL:           "https://acme.my.salesforce-scrt.com",
		OrgID:         "00D5g000004bXyZ",
		DeveloperName: "Web_Chat",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	var factory servicedesk.Factory = kit.Factory
	fmt.Println(factory != nil)
	// Output: true
}
