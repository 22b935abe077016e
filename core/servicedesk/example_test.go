package servicedesk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

type plainDesk struct{}

func (plainDesk) Name() string { return "plain" }
func (plainDesk) StartChat(context.Context, servicedesk.MessageResponse, servicedesk.StartChatOptions) error {
	return nil
}
func (plainDesk) EndChat(context.Context, servicedesk.EndChatInfo) error { return nil }
func (plainDesk) SendMessageToAgent(context.Context, servicedesk.MessageRequest, string, servicedesk.AdditionalDataToAgent) error {
	return nil
}

type typingDesk struct{ plainDesk }

func (typingDesk) Name() string { return "typing" }

func (typingDesk) UserTyping(_ context.Context, on bool) error {
	fmt.Println("desk: user typing =", on)
	return nil
}

// Optional methods are reached through a Controller, never by type assertion.
func ExampleController() {
	ctx := context.Background()
	for _, desk := range []servicedesk.ServiceDesk{plainDesk{}, typingDesk{}} {
		err := servicedesk.NewController(desk).UserTyping(ctx, true)
		fmt.Println(desk.Name(), "unsupported:", errors.Is(err, errors.ErrUnsupported))
	}
	// Output:
	// plain unsupported: true
	// desk: user typing = true
	// typing unsupported: false
}

// Agent messages use Carbon's JSON names, so they go to a browser unchanged.
func ExampleNewResponse() {
	m := servicedesk.NewResponse(
		servicedesk.TextItem("Your refund is **on its way**."),
		servicedesk.LinkButtonItem("Track it", "https://example.com/track"),
	)
	b, _ := json.Marshal(m)
	fmt.Println(string(b))
	// Output:
	// {"output":{"generic":[{"response_type":"text","text":"Your refund is **on its way**."},{"response_type":"button","kind":"link","button_type":"url","url":"https://example.com/track","target":"_blank","label":"Track it"}]}}
}

// A desk that takes at most 20 bytes a message gets a long text in parts,
// cut after a space where there is one.
func ExampleSplitText() {
	for _, part := range servicedesk.SplitText("My order never arrived and nobody answers.", 20) {
		fmt.Printf("%q\n", part)
	}
	// Output:
	// "My order never "
	// "arrived and nobody "
	// "answers."
}
