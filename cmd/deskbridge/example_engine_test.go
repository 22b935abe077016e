package main

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/websocket"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// Example_engine is the README's "Using the engine from Go": a whole
// program, from a desk to the agent's first words. TestREADMEGoSnippet
// keeps the README's copy equal to this body.
func Example_engine() {
	ctx := context.Background()

	// A desk to hand over to: mock-desk with one scripted agent, Ada, who
	// joins and echoes. Against your own desk, give its URL to the kit.
	desk, err := mockdesk.New(mockdesk.Options{Agents: []mockdesk.AgentConfig{{
		Profile: servicedesk.AgentProfile{ID: "ada", Nickname: "Ada", UserType: servicedesk.UserHuman},
		Online:  true,
		Script:  mockdesk.Script{mockdesk.JoinAfter(0), mockdesk.EchoWithPrefix(1, "You said: ")},
	}}})
	if err != nil {
		log.Fatal(err)
	}
	defer desk.Close()
	deskSrv := httptest.NewServer(desk)
	defer deskSrv.Close()

	// The kit speaks to the desk; the engine runs one session per end user.
	kit, err := websocket.New(websocket.Config{BaseURL: deskSrv.URL})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	engine, err := flow.NewEngine(kit.Factory, flow.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close(ctx)

	// What the bot answered when the user asked for a person.
	botResponse := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent})
	s, err := engine.Session(ctx, "user-42")
	if err != nil {
		log.Fatal(err)
	}
	status, err := s.CheckAvailability(ctx, botResponse)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("agents:", status)
	if err := s.StartChat(ctx, botResponse, flow.StartOptions{}); err != nil {
		log.Fatal(err)
	}

	// Every event, from the first; a front end that reconnects resumes
	// from the last Seq it saw.
	sub := s.Subscribe(0)
	for {
		events, err := sub.Next(ctx)
		if err != nil {
			log.Fatal(err)
		}
		for _, ev := range events {
			switch ev.Type {
			case flow.EventAgentJoined:
				fmt.Println(ev.Text)
				if _, err := s.SendText(ctx, "my parcel is late"); err != nil {
					log.Fatal(err)
				}
			case flow.EventAgentMessage:
				fmt.Println(ev.Profile.Nickname+":", ev.Message.PlainText())
				if err := s.EndChat(ctx, flow.EndOptions{}); err != nil {
					log.Fatal(err)
				}
			case flow.EventChatEnded:
				fmt.Println(ev.Text)
				return
			}
		}
	}
	// Output:
	// agents: online
	// Ada connected.
	// Ada: You said: my parcel is late
	// You disconnected from the live agent.
}
