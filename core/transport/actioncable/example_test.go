package actioncable_test

import (
	"fmt"

	"github.com/deskbridge/deskbridge/core/transport/actioncable"
)

// The subscribe command of Chatwoot's RoomChannel for a contact's pubsub
// token: what a Client sends after each welcome.
func ExampleCommand() {
	id := actioncable.Identifier("RoomChannel", map[string]string{"pubsub_token": "tok"})
	fmt.Println(string(actioncable.Command("subscribe", id)))
	// Output: {"command":"subscribe","identifier":"{\"channel\":\"RoomChannel\",\"pubsub_token\":\"tok\"}"}
}
