package facekit

import (
	"context"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// History returns every event of the chat, oldest first (a vendor's
// transcript or history call).
func History(ctx context.Context, cc *mockdesk.CustomerChat) ([]deskproto.Event, error) {
	var out []deskproto.Event
	var after uint64
	for {
		page, err := cc.Events(ctx, after, 0)
		if err != nil {
			return nil, err
		}
		if len(page.Events) == 0 {
			return out, nil
		}
		out = append(out, page.Events...)
		after = page.Cursor
	}
}

// InChat follows who is in a chat from its events, as ChatInfo.Agent
// would have said at each: an agent joins, and is gone at a transfer,
// when it leaves, and at the end. Events that name no agent (typing,
// reads) are rendered with it.
type InChat struct {
	p *servicedesk.AgentProfile
}

// NewInChat starts from the agent in the chat now (nil: none).
func NewInChat(p *servicedesk.AgentProfile) *InChat { return &InChat{p: p} }

// See takes one event into account.
func (a *InChat) See(e deskproto.Event) {
	switch e.Type {
	case deskproto.EventAgentJoined:
		a.p = e.Agent
	case deskproto.EventTransferStarted, deskproto.EventAgentLeft, deskproto.EventChatEnded:
		a.p = nil
	}
}

// Agent returns the agent in the chat, nil when none.
func (a *InChat) Agent() *servicedesk.AgentProfile { return a.p }
