package vendorkit

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Profiles reads agents' profiles from a desk that names its agents by
// id in events and tells their names and pictures only on request (a
// users API), once per agent and chat. A profile that could not be read
// is shown as the fallback and read again next time; one the desk does
// not have (servicedesk.ErrChatNotFound) is the fallback for good. Each
// is completed by the kit's Config.AgentProfile. Safe for concurrent use.
type Profiles struct {
	// Read fills in p, the fallback for agent id, from the desk.
	Read func(ctx context.Context, id string, p *servicedesk.AgentProfile) error
	// Complete is the kit's Config.AgentProfile; nil leaves profiles as read.
	Complete func(context.Context, servicedesk.AgentProfile) servicedesk.AgentProfile
	Logger   *slog.Logger

	mu   sync.Mutex
	read map[string]servicedesk.AgentProfile
}

// Of returns agent id's profile: the one read before, else read now over
// fallback.
func (ps *Profiles) Of(ctx context.Context, id string, fallback servicedesk.AgentProfile) servicedesk.AgentProfile {
	ps.mu.Lock()
	p, ok := ps.read[id]
	ps.mu.Unlock()
	if ok {
		return p
	}
	p = fallback
	err := ps.Read(ctx, id, &p)
	if err != nil {
		p = fallback // nothing half read
		if !errors.Is(err, servicedesk.ErrChatNotFound) && ps.Logger != nil {
			ps.Logger.Info("vendorkit: an agent's profile could not be read", "agent", id, "err", err)
		}
	}
	if ps.Complete != nil {
		p = ps.Complete(ctx, p)
	}
	if err == nil || errors.Is(err, servicedesk.ErrChatNotFound) {
		ps.mu.Lock()
		if ps.read == nil {
			ps.read = map[string]servicedesk.AgentProfile{}
		}
		ps.read[id] = p
		ps.mu.Unlock()
	}
	return p
}

// Reset forgets the profiles read, for a new chat.
func (ps *Profiles) Reset() {
	ps.mu.Lock()
	ps.read = nil
	ps.mu.Unlock()
}
