package flow_test

import (
	"context"
	"testing"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// ticketDesk is an echoDesk that knows a vendor id of its own.
type ticketDesk struct{ echoDesk }

type ticket struct{ ID string }

func (d *ticketDesk) As(target any) bool {
	t, ok := target.(*ticket)
	if ok {
		t.ID = "T-7"
	}
	return ok
}

// TestSessionAs: a host reaches the desk's vendor id through the session.
func TestSessionAs(t *testing.T) {
	ctx := context.Background()
	engine, err := flow.NewEngine(func(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		return &ticketDesk{echoDesk{cb: p.Callback}}, nil
	}, flow.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close(ctx)
	s, err := engine.Session(ctx, "u-1")
	if err != nil {
		t.Fatal(err)
	}
	var tk ticket
	if s.As(ctx, &tk) {
		t.Fatal("As answered before the session had a desk")
	}
	if err := s.StartChat(ctx, servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent}), flow.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if !s.As(ctx, &tk) || tk.ID != "T-7" {
		t.Fatalf("As(*ticket) = %+v", tk)
	}
	if s.As(ctx, new(int)) {
		t.Fatal("As answered a type the desk does not know")
	}
}
