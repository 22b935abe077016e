package flow

import (
	"slices"
	"testing"
	"testing/synctest"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestOwnerEvents: the events say who answers the user: queued while
// waiting, agent once one joined, ended after the chat ended; the end
// says why, with the agent's last words.
func TestConversationOwnerEvents(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		s, d := connected(t, r, "s")
		if o, err := s.ConversationOwner(bgCtx); err != nil || o != OwnerAgent {
			t.Fatalf("owner %v, %v", o, err)
		}
		d.CB().SendMessageToUser(servicedesk.TextResponse("Your refund is on its way. Bye!"), "ada")
		synctest.Wait()
		d.CB().AgentEndedChat()
		synctest.Wait()
		evs, err := s.EventsSince(bgCtx, 0, 0)
		must(t, err)
		var owners []ConversationOwner
		var end *Event
		for i := range evs {
			switch evs[i].Type {
			case EventOwner:
				owners = append(owners, evs[i].Owner)
			case EventChatEnded:
				end = &evs[i]
			}
		}
		if !slices.Equal(owners, []ConversationOwner{OwnerQueued, OwnerAgent, OwnerEnded}) {
			t.Errorf("owners %v", owners)
		}
		if end == nil || end.Reason != EndByAgent || end.LastAgentText != "Your refund is on its way. Bye!" {
			t.Fatalf("chat_ended %+v", end)
		}
		if o, _ := s.ConversationOwner(bgCtx); o != OwnerEnded || mustSnapshot(t, s).Owner != OwnerEnded {
			t.Errorf("after the end: %v", o)
		}
		// One owner event per change: a second chat starts from the end.
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{}))
		synctest.Wait()
		evs, _ = s.EventsSince(bgCtx, evs[len(evs)-1].Seq, 0)
		n := 0
		for _, ev := range evs {
			if ev.Type == EventOwner {
				n++
				if ev.Owner != OwnerQueued {
					t.Errorf("owner %v", ev.Owner)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d owner events for one change", n)
		}
	})
}
