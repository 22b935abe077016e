package polling_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/polling"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// Before offering a person, a bot asks whether anyone is online; here the
// desk (an in-process mock-desk) has one agent, Grace, who takes the chat.
func Example() {
	desk, _ := mockdesk.New(mockdesk.Options{Agents: []mockdesk.AgentConfig{{
		Profile: servicedesk.AgentProfile{ID: "grace", Nickname: "Grace"},
		Online:  true,
		Script:  mockdesk.Script{{Do: "join"}, {Do: "say", Text: "How can I help?"}},
	}}})
	srv := httptest.NewServer(desk)
	defer func() { _ = desk.Close(); srv.Close() }()

	kit, _ := polling.New(polling.Config{BaseURL: srv.URL, Wait: 10 * time.Second})
	defer kit.Close()
	engine, _ := flow.NewEngine(kit.Factory, flow.Options{})
	defer engine.Close(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, _ := engine.Session(ctx, "user-7")
	connect := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent})
	online, _ := s.CheckAvailability(ctx, connect)
	fmt.Println("agents online:", online)

	events := s.Subscribe(0)
	_ = s.StartChat(ctx, connect, flow.StartOptions{})
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
	// agents online: online
	// Grace: How can I help?
}
