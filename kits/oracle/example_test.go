package oracle_test

import (
	"fmt"
	"log"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/oracle"
)

// Example makes a kit for a B2C Service site whose chats go to queue 4.
// The chat API user's credentials come from the environment in a real
// deployment. Kit.Factory is what flow.NewEngine and the gateway take;
// New does no network work, so a bad URL is caught here.
func Example() {
	kit, err := oracle.New(oracle.Config{
		URL:      "https://mysite.custhelp.com",
		User:     "chat_api",
		Password: "from-the-environment",
		QueueID:  4,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	var factory servicedesk.Factory = kit.Factory
	fmt.Println(factory != nil)

	_, err = oracle.New(oracle.Config{URL: "mysite.custhelp.com", User: "chat_api", Password: "x"})
	fmt.Println(err)
	// Output:
	// true
	// oracle: Config.URL "mysite.custhelp.com": not an http(s) URL
}
