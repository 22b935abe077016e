package livechat_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/livechat"
)

// Example makes a kit for a LiveChat organization. The agent access token
// (scope customers:own) comes from the environment, never from a file; the
// kit makes one customer identity per chat session with it. Kit.Factory is
// what flow.NewEngine and the gateway take.
func Example() {
	kit, err := livechat.New(livechat.Config{
		OrganizationID: "390e44e6-f1e6-0368-c6dd-74g14508c2ex",
		ClientID:       "9cbf3a968289727cb3cdfe83ab1d9836",
		AgentToken: func(context.Context) (string, error) {
			return os.Getenv("DESKBRIDGE_LIVECHAT_AGENT_TOKEN"), nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	var factory servicedesk.Factory = kit.Factory
	fmt.Println(factory != nil, livechat.MaxFileBytes>>20, "MB")
	// Output: true 10 MB
}
