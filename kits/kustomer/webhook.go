package kustomer

import (
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
func (k *Kit) WebhookHandler() http.Handler { return http.HandlerFunc(k.serveWebhook) }

func (k *Kit) serveWebhook(w http.ResponseWriter, r *http.Request) {
	ev, body, ref := k.readDelivery(w, r)
	if ref != nil {
		if ref.Status == http.StatusUnauthorized {
			k.log.Warn("kustomer: webhook with a bad signature refused", "remote", r.RemoteAddr)
		}
		http.Error(w, ref.Message, ref.Status)
		return
	}
	conv := ev.Conversation()
	if conv == "" {
		w.WriteHeader(http.StatusOK) // not a chat's event: nothing to do
		return
	}
	if err := k.router.Take(ev.ID, conv, ev, body); err != nil {
		k.log.Warn("kustomer: event for a conversation followed elsewhere could not be passed on", "conversation", conv, "err", err)
		webhook.Unavailable(w, "the event could not be handed to the instance that follows its conversation")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// readDelivery reads a delivery's body, checks its signature and decodes
// its event, or says why the request is refused.
func (k *Kit) readDelivery(w http.ResponseWriter, r *http.Request) (wire.Event, []byte, *webhook.Refusal) {
	body, ref := webhook.ReadPost(w, r, k.cfg.MaxWebhookBytes)
	switch {
	case ref != nil:
		return wire.Event{}, nil, ref
	case !webhook.ValidBodyHMAC(k.tokens, body, r.Header.Get(SignatureHeader)):
		return wire.Event{}, nil, &webhook.Refusal{Status: http.StatusUnauthorized, Code: "bad_signature", Message: "bad " + SignatureHeader}
	}
	ev, err := wire.DecodeEvent(body)
	if err != nil {
		return ev, nil, &webhook.Refusal{Status: http.StatusBadRequest, Code: "bad_event", Message: "kustomer: webhook: " + err.Error()}
	}
	return ev, body, nil
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
