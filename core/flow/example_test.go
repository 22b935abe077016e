package flow_test

import (
	"context"
	"fmt"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// echoDesk is a tiny desk: an agent joins at once and echoes every message.
type echoDesk struct{ cb servicedesk.Callback }

func (d *echoDesk) Name() string { return "echo" }

func (d *echoDesk) StartChat(context.Context, servicedesk.MessageResponse, servicedesk.StartChatOptions) error {
	d.cb.UpdateAgentAvailability(servicedesk.QueuePosition(1))
	d.cb.AgentJoined(servicedesk.AgentProfile{ID: "a1", Nickname: "Ada", UserType: servicedesk.UserHuman})
	return nil
}

func (d *echoDesk) EndChat(context.Context, servicedesk.EndChatInfo) error { return nil }

func (d *echoDesk) SendMessageToAgent(_ context.Context, m servicedesk.MessageRequest, _ string, _ servicedesk.AdditionalDataToAgent) error {
	d.cb.SendTextToUser("You said: "+m.Input.Text, "")
	return nil
}

func Example() {
	ctx := context.Background()
	engine, err := flow.NewEngine(func(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		return &echoDesk{cb: p.Callback}, nil
	}, flow.Options{})
	if err != nil {
		panic(err)
	}
	defer engine.Close(ctx)

	session, _ := engine.Session(ctx, "user-42")
	events := session.Subscribe(0)
	bot := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent})
	if err := session.StartChat(ctx, bot, flow.StartOptions{}); err != nil {
		panic(err)
	}
	for {
		batch, err := events.Next(ctx)
		if err != nil {
			panic(err)
		}
		for _, ev := range batch {
			switch ev.Type {
			case flow.EventQueueUpdate, flow.EventAgentJoined, flow.EventChatEnded:
				fmt.Println(ev.Text)
			case flow.EventState:
				if ev.State == flow.StateConnected {
					_, _ = session.SendText(ctx, "my card was declined")
				}
			case flow.EventAgentMessage:
				fmt.Println(ev.Profile.Nickname+":", ev.Message.PlainText())
				_ = session.EndChat(ctx, flow.EndOptions{})
			}
			if ev.Type == flow.EventChatEnded {
				return
			}
		}
	}
	// Output:
	// You're number 1 in line.
	// Ada connected.
	// Ada: You said: my card was declined
	// You disconnected from the live agent.
}

// A front end that reconnects asks for the events after the last one it saw.
func ExampleSession_EventsSince() {
	ctx := context.Background()
	engine, _ := flow.NewEngine(func(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		return &echoDesk{cb: p.Callback}, nil
	}, flow.Options{})
	defer engine.Close(ctx)
	session, _ := engine.Session(ctx, "user-7")
	_ = session.SetSuspended(ctx, true) // no chat yet: refused, no event
	_, _ = session.CheckAvailability(ctx, servicedesk.MessageResponse{})
	seen := session.LastSeq()
	_ = session.StartChat(ctx, servicedesk.MessageResponse{}, flow.StartOptions{})
	_ = session.EndChat(ctx, flow.EndOptions{})

	missed, _ := session.EventsSince(ctx, seen, 0)
	fmt.Println("first missed seq:", missed[0].Seq == seen+1)
	fmt.Println("first missed event:", missed[0].Type, missed[0].State)
	// Output:
	// first missed seq: true
	// first missed event: state starting
}

// A front end that shows a session to its user holds it attached; once it
// lets go, a chat nobody comes back to is ended after AbandonAfter (and
// the session forgotten after IdleTTL), with or without the gateway.
func ExampleSession_Attach() {
	ctx := context.Background()
	engine, err := flow.NewEngine(func(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		return &echoDesk{cb: p.Callback}, nil
	}, flow.Options{AbandonAfter: 100 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer engine.Close(ctx)

	session, _ := engine.Session(ctx, "user-42")
	detach := session.Attach() // the user's tab is open
	bot := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent})
	if err := session.StartChat(ctx, bot, flow.StartOptions{}); err != nil {
		panic(err)
	}
	time.Sleep(300 * time.Millisecond)
	fmt.Println("attached:", session.State())

	detach() // the tab is gone
	for session.State() != flow.StateEnded {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("gone:", session.State(), engine.SessionStats().Abandoned)
	// Output:
	// attached: connected
	// gone: ended 1
}
