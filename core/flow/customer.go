package flow

import (
	"context"
	"fmt"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Identify binds the session to a verified customer: a token the site
// signed and the gateway verified, or a Go host's own knowledge. The
// customer reaches the desk in every later chat's Handoff. A session
// already bound to another customer id refuses (ErrOtherCustomer): a
// session opened with one identity is never handed to another. The same
// id again updates the details (a changed display name, say); a nil
// customer changes nothing.
func (s *Session) Identify(ctx context.Context, c *servicedesk.Customer) error {
	if c == nil {
		return nil
	}
	if c.ID == "" {
		return fmt.Errorf("flow: session %s: identify: %w: the customer has no id", s.id, ErrInvalid)
	}
	cp := *c
	return s.call(ctx, func() error {
		if s.customer != nil && s.customer.ID != cp.ID {
			return fmt.Errorf("flow: session %s: identify: %w", s.id, ErrOtherCustomer)
		}
		s.customer = &cp
		s.dirty = true
		return nil
	})
}

// Customer returns the session's verified customer, nil while anonymous.
// The caller must not change what it points to.
func (s *Session) Customer(ctx context.Context) (*servicedesk.Customer, error) {
	var c *servicedesk.Customer
	err := s.call(ctx, func() error {
		c = s.customer
		return nil
	})
	return c, err
}

// withCustomer returns h with the session's verified customer, on the
// queue: a host's Handoff that names another customer is refused.
func (s *Session) withCustomer(h servicedesk.Handoff) (servicedesk.Handoff, error) {
	switch {
	case s.customer == nil:
	case h.Customer != nil && h.Customer.ID != s.customer.ID:
		return h, fmt.Errorf("flow: session %s: start chat: %w: the hand-off names customer %q", s.id, ErrOtherCustomer, h.Customer.ID)
	default:
		h.Customer = s.customer
	}
	return h, nil
}

// ownerNow is who answers the user in the session's state.
func (s *Session) ownerNow() ConversationOwner {
	switch {
	case s.st == StateEnded:
		return OwnerEnded
	case !s.st.Active():
		return OwnerBot
	case s.joined:
		return OwnerAgent
	}
	return OwnerQueued
}

// noteOwner emits an owner event when the batch changed who answers the
// user (on the queue, before the batch is saved).
func (s *Session) noteOwner() {
	now := s.ownerNow()
	was := s.owner
	if was == "" {
		was = OwnerBot
	}
	if now != was {
		s.emit(Event{Type: EventOwner, Owner: now})
	}
	s.owner = now
}

// ConversationOwner returns who answers the user now: while it is OwnerQueued or
// OwnerAgent, the host's bot must not answer the user's messages (send
// them with SendMessage: they go to the agent); at OwnerBot and
// OwnerEnded the bot answers.
func (s *Session) ConversationOwner(ctx context.Context) (ConversationOwner, error) {
	var o ConversationOwner
	err := s.call(ctx, func() error { o = s.ownerNow(); return nil })
	return o, err
}
