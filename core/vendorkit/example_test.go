package vendorkit_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// A desk whose events name the agent by id reads the agent's name once a
// chat; the kit's Config.AgentProfile completes it.
func ExampleProfiles() {
	users := map[string]string{"u-7": "Grace"} // the vendor's users API
	ps := vendorkit.Profiles{
		Read: func(_ context.Context, id string, p *servicedesk.AgentProfile) error {
			name, ok := users[id]
			if !ok {
				return fmt.Errorf("get user %s: %w", id, servicedesk.ErrChatNotFound)
			}
			p.Nickname = name
			return nil
		},
		Complete: func(_ context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile {
			p.ProfilePictureURL = "https://example.com/agents/" + p.ID + ".png"
			return p
		},
	}
	for _, id := range []string{"u-7", "u-9"} {
		p := ps.Of(context.Background(), id, servicedesk.AgentProfile{ID: id, Nickname: "Agent"})
		fmt.Println(p.Nickname, p.ProfilePictureURL)
	}
	// Output:
	// Grace https://example.com/agents/u-7.png
	// Agent https://example.com/agents/u-9.png
}

// A desk that shows the hand-off to the agent as a note.
func ExampleNoteLines() {
	h := servicedesk.Handoff{
		Summary:    "Card declined twice",
		Customer:   &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace"},
		Unverified: map[string]string{"plan": "gold"},
	}
	fmt.Println(strings.Join(vendorkit.NoteLines(h), "\n"))
	// Output:
	// Summary: Card declined twice
	// Customer (verified): Ada Lovelace, c-42
	// Said by the customer's browser (not verified): plan=gold
}
