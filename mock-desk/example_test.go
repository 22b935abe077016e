package mockdesk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// A customer starts a chat over REST; a test plays the agent.
func Example() {
	desk, _ := mockdesk.New(mockdesk.Options{})
	defer desk.Close()
	srv := httptest.NewServer(desk)
	defer srv.Close()
	ctx := context.Background()

	// Customer: start a chat.
	resp, _ := http.Post(srv.URL+"/v1/chats", "application/json", strings.NewReader(`{"customer":{"name":"Uma"}}`))
	var chat deskproto.ChatInfo
	_ = json.NewDecoder(resp.Body).Decode(&chat)
	resp.Body.Close()

	// Agent: take it and say hello.
	ac, _ := desk.AwaitChat(ctx)
	_ = ac.Join(ctx, servicedesk.AgentProfile{ID: "agent-1", Nickname: "Ada"})
	_, _ = ac.SayText(ctx, "Hello, I am **Ada**.")

	// Customer: read the events (a long poll from the start).
	req, _ := http.NewRequest("GET", srv.URL+"/v1/chats/"+chat.ChatID+"/events?cursor=0", nil)
	req.Header.Set("Authorization", "Bearer "+chat.ChatToken)
	resp, _ = http.DefaultClient.Do(req)
	var page deskproto.Page
	_ = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	for _, e := range page.Events {
		fmt.Println(e.Seq, e.Type)
	}
	// Output:
	// 1 capabilities
	// 2 queue_update
	// 3 agent_joined
	// 4 agent_message
}

// A scripted agent joins after a delay and echoes.
func ExampleScript() {
	desk, _ := mockdesk.New(mockdesk.Options{Agents: []mockdesk.AgentConfig{{
		Profile:  servicedesk.AgentProfile{ID: "bot", Nickname: "Echo"},
		Online:   true,
		Capacity: 10,
		Script: mockdesk.Script{
			mockdesk.JoinAfter(10 * time.Millisecond),
			mockdesk.SayMessage(servicedesk.NewResponse(
				servicedesk.TextItem("Hi! Our **docs**:"),
				servicedesk.LinkButtonItem("Docs", "https://example.com/docs"),
			)),
			mockdesk.Echo(0),
		},
	}}})
	defer desk.Close()
	ctx := context.Background()
	chat, _ := desk.StartChat(ctx, deskproto.StartRequest{})
	id, _ := desk.AwaitChatID(ctx)
	for desk.Agents()[0].Chats == 0 {
		time.Sleep(time.Millisecond)
	}
	state, _ := desk.ChatState(id)
	fmt.Println(chat.ChatID == id, state)
	// Output: true active
}

// Faults are deterministic from a seed; forced ones hit the next requests.
func ExampleDesk_InjectFault() {
	desk, _ := mockdesk.New(mockdesk.Options{})
	defer desk.Close()
	srv := httptest.NewServer(desk)
	defer srv.Close()
	_ = desk.InjectFault(mockdesk.FaultREST429, 1)
	for range 2 {
		resp, _ := http.Get(srv.URL + "/v1/availability")
		resp.Body.Close()
		fmt.Printf("%d retry-after=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	fmt.Println(desk.FaultCounts()[mockdesk.FaultREST429])
	// Output:
	// 429 retry-after="1"
	// 200 retry-after=""
	// 1
}

// A scenario file is the desk's Options as JSON.
func ExampleParseScenario() {
	opts, err := mockdesk.ParseScenario([]byte(`{
	  "agents": [{"profile": {"id": "ada", "nickname": "Ada"}, "online": true,
	              "script": [{"do": "join", "delay": "2s"}, {"do": "say", "text": "Hi"}, {"do": "echo"}]}],
	  "faults": {"seed": 7, "ws": {"drop_after_frames": 20}}
	}`))
	fmt.Println(err, len(opts.Agents[0].Script), opts.Faults.WS.DropAfterFrames)
	// Output: <nil> 3 20
}

// A vendor face in another package serves its customer with the customer
// side alone: start a chat with the bot's summary, send, and follow the
// desk's events to push them over the face's own connection.
func ExampleCustomerChat() {
	desk, _ := mockdesk.New(mockdesk.Options{})
	defer desk.Close()
	ctx := context.Background()

	cc, _ := desk.StartCustomerChat(ctx, mockdesk.ChatStart{
		Customer:   deskproto.Customer{Name: "Uma"},
		Summary:    "Wants a refund for order A-17.",
		Attributes: map[string]string{"order": "A-17"},
	})
	follow, _ := cc.Follow(ctx, 0)
	_, _ = cc.Send(ctx, deskproto.Message{IdempotencyKey: "m1", Message: servicedesk.NewTextRequest("Hello?")})

	// The agent side.
	ac, _ := desk.AwaitChat(ctx)
	fmt.Println("agent reads:", ac.Summary())
	_ = ac.Join(ctx, servicedesk.AgentProfile{ID: "agent-1", Nickname: "Ada"})
	_, _ = ac.SayText(ctx, "Hi Uma.")
	_ = ac.End(ctx)

	// The face's writer: events in seq order until the chat is over.
	for {
		evs, err := follow.Next(ctx)
		if err != nil { // ErrChatEnded once all are read
			break
		}
		for _, e := range evs {
			fmt.Println(e.Seq, e.Type)
		}
	}
	// Output:
	// agent reads: Wants a refund for order A-17.
	// 1 capabilities
	// 2 queue_update
	// 3 agent_joined
	// 4 agent_message
	// 5 agent_ended
	// 6 chat_ended
}
