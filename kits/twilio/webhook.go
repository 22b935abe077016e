package twilio

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/kits/twilio/internal/wire"
)

// SignatureHeader carries Twilio's request signature.
const SignatureHeader = "X-Twilio-Signature"

// IdempotencyHeader is the header by which Twilio names a delivery; a
// retried delivery carries the same token.
const IdempotencyHeader = "I-Twilio-Idempotency-Token"

// relayed is a verified delivery passed between instances.
type relayed struct {
	Body  string `json:"body"`
	Token string `json:"token,omitempty"`
}

// WebhookHandler receives the Conversations webhooks of every chat's
// conversation and TaskRouter's event callbacks. It checks
// X-Twilio-Signature against Config.WebhookURL (with the request's query)
// and the form parameters, drops redeliveries (by Twilio's idempotency
// token, else by event and message or participant sid), and queues the
// event for its conversation's desk: it answers at once, well within
// Twilio's 5 s. Answers: 200 taken or a duplicate, 400 not an event, 401
// a bad signature, 405 not a POST, 413 too large, 503 nobody could take
// it. Mount it at the path of Config.WebhookURL.
func (k *Kit) WebhookHandler() http.Handler {
	return k.routes.Handler(webhook.Reception[wire.Event]{Kit: "twilio", MaxBytes: k.cfg.MaxWebhookBytes, Logger: k.log,
		Verify: func(r *http.Request, body []byte) error {
			form, _ := url.ParseQuery(string(body))
			full := *k.hookURL
			full.RawQuery = r.URL.RawQuery
			if !wire.ValidSignature(k.tokens, full.String(), form, r.Header.Get(SignatureHeader)) {
				return errors.New("bad " + SignatureHeader)
			}
			return nil
		},
		Decode: func(r *http.Request, body []byte) ([]webhook.Delivery[wire.Event], error) {
			rd := relayed{Body: string(body), Token: r.Header.Get(IdempotencyHeader)}
			d, err := rd.delivery()
			if err != nil {
				return nil, err
			}
			d.Raw, _ = json.Marshal(rd)
			// A TaskRouter event of no conversation is acknowledged and left.
			return []webhook.Delivery[wire.Event]{d}, nil
		}})
}

// delivery decodes the form of a delivery into its event, named by
// Twilio's idempotency token, else by the event and its sids.
func (rd relayed) delivery() (webhook.Delivery[wire.Event], error) {
	form, err := url.ParseQuery(rd.Body)
	if err != nil {
		return webhook.Delivery[wire.Event]{}, errors.New("twilio: webhook: not a form")
	}
	ev, err := wire.DecodeEvent(form)
	if err != nil {
		return webhook.Delivery[wire.Event]{}, err
	}
	return webhook.Delivery[wire.Event]{Key: cmp.Or(rd.Token, ev.Key()), Chat: ev.ConversationSID, Event: ev}, nil
}

// Deliver takes a delivery that another instance verified and passed on
// (Config.Elsewhere); it reports whether a desk here follows its
// conversation.
func (k *Kit) Deliver(delivery []byte) bool {
	var rd relayed
	if json.Unmarshal(delivery, &rd) != nil {
		return false
	}
	d, err := rd.delivery()
	return err == nil && k.routes.Relayed(d.Key, d.Chat, d.Event)
}
