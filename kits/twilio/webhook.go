package twilio

import (
	"cmp"
	"encoding/json"
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
func (k *Kit) WebhookHandler() http.Handler { return http.HandlerFunc(k.serveWebhook) }

func (k *Kit) serveWebhook(w http.ResponseWriter, r *http.Request) {
	body, ref := webhook.ReadPost(w, r, k.cfg.MaxWebhookBytes)
	if ref != nil {
		http.Error(w, ref.Message, ref.Status)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "not a form", http.StatusBadRequest)
		return
	}
	full := *k.hookURL
	full.RawQuery = r.URL.RawQuery
	if !wire.ValidSignature(k.tokens, full.String(), form, r.Header.Get(SignatureHeader)) {
		k.log.Warn("twilio: webhook with a bad signature refused", "remote", r.RemoteAddr)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	ev, err := wire.DecodeEvent(form)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	token := r.Header.Get(IdempotencyHeader)
	raw, _ := json.Marshal(relayed{Body: string(body), Token: token})
	// A TaskRouter event of no conversation is acknowledged and left.
	if ev.ConversationSID != "" {
		if err := k.routes.Take(cmp.Or(token, ev.Key()), ev.ConversationSID, ev, raw); err != nil {
			k.log.Warn("twilio: webhook for a conversation followed elsewhere could not be passed on", "err", err)
			webhook.Unavailable(w, "could not reach the instance that follows the conversation")
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// Deliver takes a delivery that another instance verified and passed on
// (Config.Elsewhere); it reports whether a desk here follows its
// conversation.
func (k *Kit) Deliver(delivery []byte) bool {
	var rd relayed
	if json.Unmarshal(delivery, &rd) != nil {
		return false
	}
	form, err := url.ParseQuery(rd.Body)
	if err != nil {
		return false
	}
	ev, err := wire.DecodeEvent(form)
	if err != nil {
		return false
	}
	return k.routes.Relayed(cmp.Or(rd.Token, ev.Key()), ev.ConversationSID, ev)
}
