package flow

import (
	"errors"
	"testing"
	"testing/synctest"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func TestIdentify(t *testing.T) {
	bubble(t, Options{}, func(t *testing.T, r *rig) {
		var got servicedesk.StartChatOptions
		r.engine.factory = wrapFactory(r.engine.factory, func(d servicedesk.ServiceDesk) servicedesk.ServiceDesk {
			return startSpy{d, &got}
		})
		s := r.session("s")
		ada := &servicedesk.Customer{ID: "c-42", Name: "Ada", Claims: map[string]string{"tier": "gold"}}
		must(t, s.Identify(bgCtx, ada))
		if err := s.Identify(bgCtx, &servicedesk.Customer{ID: "c-43"}); !errors.Is(err, ErrOtherCustomer) {
			t.Fatalf("another customer: %v", err)
		}
		must(t, s.Identify(bgCtx, &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace"}))
		if err := s.Identify(bgCtx, &servicedesk.Customer{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("no id: %v", err)
		}
		if snap := mustSnapshot(t, s); snap.Subject != "c-42" {
			t.Errorf("snapshot subject %q", snap.Subject)
		}
		// A host's hand-off naming another customer is refused.
		err := s.StartChat(bgCtx, connectMsg, StartOptions{Handoff: servicedesk.Handoff{Customer: &servicedesk.Customer{ID: "mallory"}}})
		if !errors.Is(err, ErrOtherCustomer) {
			t.Fatalf("start for another customer: %v", err)
		}
		must(t, s.StartChat(bgCtx, connectMsg, StartOptions{Handoff: servicedesk.Handoff{Summary: "card"}}))
		synctest.Wait()
		if c := got.Handoff.Customer; c == nil || c.ID != "c-42" || c.Name != "Ada Lovelace" {
			t.Fatalf("desk got customer %+v", c)
		}

		// Both survive a restart with the session.
		r.restart(Options{})
		s2 := r.session("s")
		c, err := s2.Customer(bgCtx)
		must(t, err)
		if c == nil || c.Name != "Ada Lovelace" {
			t.Errorf("customer after restart %+v", c)
		}
		if err := s2.Identify(bgCtx, &servicedesk.Customer{ID: "c-43"}); !errors.Is(err, ErrOtherCustomer) {
			t.Errorf("another customer after restart: %v", err)
		}
		rec, err := r.store.Load(bgCtx, "s")
		must(t, err)
		if rec.Handoff == nil || rec.Handoff.Summary != "card" || rec.Handoff.Customer.ID != "c-42" {
			t.Errorf("stored hand-off %+v", rec.Handoff)
		}
	})
}
