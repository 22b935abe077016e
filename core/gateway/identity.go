package gateway

import (
	"context"
	"errors"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// IdentityVerifier turns the identity token of a hello into the verified
// customer; *identity.Verifier is one. Its errors' texts reach the
// browser, so they say why without secrets.
type IdentityVerifier interface {
	Verify(ctx context.Context, token string) (*servicedesk.Customer, error)
}

// helloIdentity verifies the identity token of a hello, if any: the
// customer (nil for an anonymous hello), or the error frame that refuses
// the hello.
func (g *Gateway) helloIdentity(ctx context.Context, req request) (*servicedesk.Customer, *errFrame) {
	if req.Identity == "" {
		if g.opts.RequireIdentity {
			g.stats.identity("missing")
			return nil, protoErr(codeBadIdentity, "this server needs an identity token in hello (identity)")
		}
		return nil, nil
	}
	if g.opts.Identity == nil {
		g.stats.identity("refused")
		return nil, protoErr(codeBadIdentity, "this server takes no identity tokens; send hello without identity")
	}
	c, err := g.opts.Identity.Verify(ctx, req.Identity)
	if err != nil || c == nil || c.ID == "" {
		g.stats.identity("refused")
		return nil, protoErr(codeBadIdentity, "the identity token was refused: %s", errText(err))
	}
	g.stats.identity("verified")
	return c, nil
}

func errText(err error) string {
	if err == nil {
		return "it names no customer"
	}
	return err.Error()
}

// sameSubject refuses a hello whose identity is not the session's: a
// session opened with an identity is resumed only by the same customer.
func sameSubject(subject string, c *servicedesk.Customer) *errFrame {
	switch {
	case subject == "":
		return nil
	case c == nil:
		return protoErr(codeBadIdentity, "this session was opened with an identity; resume it with an identity token for the same customer")
	case c.ID != subject:
		return protoErr(codeBadIdentity, "this session belongs to another customer; send hello without a token to start a new session")
	}
	return nil
}

// identify binds c to session s; another customer's session refuses.
func identify(ctx context.Context, s *flow.Session, c *servicedesk.Customer) *errFrame {
	if c == nil {
		return nil
	}
	if err := s.Identify(ctx, c); err != nil {
		if errors.Is(err, flow.ErrOtherCustomer) {
			return protoErr(codeBadIdentity, "this session belongs to another customer; send hello without a token to start a new session")
		}
		return protoErr(codeOf(err), "%s", sentences[codeOf(err)])
	}
	return nil
}
