package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/rest"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// The kit needs a URL the desk can post events to: mount its webhook
// handler on your server and give the kit that URL and the shared secret.
func Example() {
	const secret = "whsec_example" // in production: os.Getenv("DESK_WEBHOOK_SECRET")
	desk, _ := mockdesk.New(mockdesk.Options{WebhookSecret: []byte(secret), Agents: []mockdesk.AgentConfig{{
		Profile: servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"},
		Online:  true,
		Script:  mockdesk.Script{{Do: "join"}, {Do: "say", Text: "Hi, Ada here."}},
	}}})
	deskSrv := httptest.NewServer(desk)
	defer func() { _ = desk.Close(); deskSrv.Close() }()

	mux := http.NewServeMux()
	bridge := httptest.NewServer(mux) // your server
	defer bridge.Close()
	kit, err := rest.New(rest.Config{
		BaseURL:        deskSrv.URL,
		WebhookURL:     bridge.URL + "/desk/webhook",
		WebhookSecrets: []string{secret},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer kit.Close()
	mux.Handle("POST /desk/webhook", kit.WebhookHandler())

	engine, _ := flow.NewEngine(kit.Factory, flow.Options{})
	defer engine.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, _ := engine.Session(ctx, "user-9")
	events := s.Subscribe(0)
	_ = s.StartChat(ctx, servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent}), flow.StartOptions{})
	for {
		evs, err := events.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, ev := range evs {
			if ev.Type == flow.EventAgentMessage {
				fmt.Println(ev.Profile.Nickname+":", ev.Message.PlainText())
				return
			}
		}
	}
	// Output:
	// Ada: Hi, Ada here.
}
