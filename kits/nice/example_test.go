package nice_test

import (
	"fmt"
	"log"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/nice"
)

// Example makes a kit for a CXone brand's digital chat channel in the EU1
// environment, for guest customers. Kit.Factory is what flow.NewEngine and
// the gateway take.
func Example() {
	kit, err := nice.New(nice.Config{
		BrandID:     1086,
		ChannelID:   "chat_2b0d7a1c-5f5e-4c1a-9d4e-0c1c2d3e4f50",
		Environment: "EU1",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	var factory servicedesk.Factory = kit.Factory
	gateway, chat, _ := nice.Endpoints("EU1")
	fmt.Println(factory != nil, gateway, chat)
	// Output: true wss://chat-gw-de-eu1.niceincontact.com https://channels-de-eu1.niceincontact.com
}
