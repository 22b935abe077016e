package vendorkit

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func TestProfiles(t *testing.T) {
	reads := map[string]int{}
	fail := map[string]error{"flaky": servicedesk.ErrUnavailable, "gone": fmt.Errorf("get user: %w", servicedesk.ErrChatNotFound)}
	ps := Profiles{
		Read: func(_ context.Context, id string, p *servicedesk.AgentProfile) error {
			reads[id]++
			if err := fail[id]; err != nil {
				p.Nickname = "half read"
				return err
			}
			p.Nickname = "Agent " + id
			return nil
		},
		Complete: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			p.ProfilePictureURL = "https://pics.example/" + p.ID
			return p
		},
	}
	ctx := context.Background()
	fallback := func(id string) servicedesk.AgentProfile { return servicedesk.AgentProfile{ID: id, Nickname: "Agent"} }

	for range 2 {
		p := ps.Of(ctx, "ada", fallback("ada"))
		assert.Equal(t, servicedesk.AgentProfile{ID: "ada", Nickname: "Agent ada", ProfilePictureURL: "https://pics.example/ada"}, p)
	}
	assert.Equal(t, 1, reads["ada"], "read once, then remembered")

	p := ps.Of(ctx, "flaky", fallback("flaky"))
	assert.Equal(t, "Agent", p.Nickname, "the fallback, not what was half read")
	assert.Equal(t, "https://pics.example/flaky", p.ProfilePictureURL, "completed all the same")
	delete(fail, "flaky")
	assert.Equal(t, "Agent flaky", ps.Of(ctx, "flaky", fallback("flaky")).Nickname, "read again after a failure")

	ps.Of(ctx, "gone", fallback("gone"))
	ps.Of(ctx, "gone", fallback("gone"))
	assert.Equal(t, 1, reads["gone"], "a user the desk does not have is not asked for again")

	ps.Reset()
	ps.Of(ctx, "ada", fallback("ada"))
	assert.Equal(t, 2, reads["ada"], "a new chat reads again")
}
