package chatwoot_test

import (
	"fmt"

	"github.com/deskbridge/deskbridge/kits/chatwoot"
)

// A kit for an API channel inbox; its Factory is the engine's.
func ExampleNew() {
	kit, err := chatwoot.New(chatwoot.Config{URL: "https://chat.example.com", InboxIdentifier: "xR3kQ9"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer kit.Close()
	_, err = chatwoot.New(chatwoot.Config{URL: "https://chat.example.com", InboxIdentifier: "xR3kQ9", BotToken: "t"})
	fmt.Println(err)
	// Output: chatwoot: Config.BotToken and Config.AccountID go together
}
