package websocket_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/websocket"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// A Go chat backend hands a user to an agent: the flow engine runs the
// hand-off, the kit talks to the desk (here an in-process mock-desk whose
// agent Ada joins and echoes).
func Example() {
	desk, _ := mockdesk.New(mockdesk.Options{Agents: []mockdesk.AgentConfig{{
		Profile: servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"},
		Online:  true,
		Script:  mockdesk.Script{{Do: "join"}, {Do: "echo", Count: 1}},
	}}})
	srv := httptest.NewServer(desk)
	defer func() { _ = desk.Close(); srv.Close() }()

	kit, err := websocket.New(websocket.Config{BaseURL: srv.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer kit.Close()
	engine, _ := flow.NewEngine(kit.Factory, flow.Options{})
	defer engine.Close(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, _ := engine.Session(ctx, "user-42")
	events := s.Subscribe(0)
	connect := servicedesk.NewResponse(servicedesk.GenericItem{
		ResponseType:        servicedesk.ResponseConnectToAgent,
		MessageToHumanAgent: "The user wants a refund.",
	})
	if err := s.StartChat(ctx, connect, flow.StartOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	for {
		evs, err := events.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, ev := range evs {
			switch ev.Type {
			case flow.EventAgentJoined:
				fmt.Println(ev.Profile.Nickname, "joined")
				_, _ = s.SendText(ctx, "Hello")
			case flow.EventAgentMessage:
				fmt.Println(ev.Profile.Nickname+":", ev.Message.PlainText())
				return
			}
		}
	}
	// Output:
	// Ada joined
	// Ada: echo: Hello
}
