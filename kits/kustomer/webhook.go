package kustomer

import (
	"errors"
	"net/http"

	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/kits/kustomer/internal/wire"
)

// The headers of an outbound webhook delivery
// (docs/events/delivery-and-retries).
const (
	SignatureHeader = "X-Kustomer-Webhook-Signature"
	EventHeader     = "X-Kustomer-Webhook-Event"
)

// WebhookHandler receives the outbound webhook's deliveries for every
// conversation of every session: it checks X-Kustomer-Webhook-Signature
// (hex HMAC-SHA256 of the raw body under a webhook token), drops
// redelivered events by their id (Kustomer delivers at least once and
// retries for about an hour), and hands each event to the desk that
// follows its conversation, or to Config.Elsewhere. It answers at once;
// the desks do the work. 200 taken, a duplicate or not a chat's event;
// 400 not an event; 401 a bad signature; 405 not a POST; 413 too large;
// 503 an event could not be passed on (Kustomer delivers it again). Mount
// it at the webhook's URL.
func (k *Kit) WebhookHandler() http.Handler {
	return k.router.Handler(webhook.Reception[wire.Event]{Kit: "kustomer", MaxBytes: k.cfg.MaxWebhookBytes, Logger: k.log,
		Verify: func(r *http.Request, body []byte) error {
			if !webhook.ValidBodyHMAC(k.tokens, body, r.Header.Get(SignatureHeader)) {
				return errors.New("bad " + SignatureHeader)
			}
			return nil
		},
		Decode: func(_ *http.Request, body []byte) ([]webhook.Delivery[wire.Event], error) {
			ev, err := wire.DecodeEvent(body)
			if err != nil {
				return nil, errors.New("kustomer: webhook: " + err.Error())
			}
			// Not a chat's event (no conversation): nothing to do.
			return []webhook.Delivery[wire.Event]{{Key: ev.ID, Chat: ev.Conversation(), Event: ev, Raw: body}}, nil
		}})
}

// Deliver hands an event another instance received (and verified) to the
// desk here that follows its conversation; false when none does.
func (k *Kit) Deliver(event []byte) bool {
	ev, err := wire.DecodeEvent(event)
	if err != nil || ev.Conversation() == "" {
		return false
	}
	return k.router.Relayed(ev.ID, ev.Conversation(), ev)
}
