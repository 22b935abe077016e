package rest

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
)

// WebhookHandler receives the desk's event deliveries: it checks the
// signature over the raw body and its timestamp window, in constant time,
// against the secret of the event's chat (the one its start answer named;
// the configured secrets for a chat without one), drops redeliveries (the
// same event id and bytes), and routes the event to the desk of the
// session that follows its chat. A delivery for a chat not followed here
// yet is checked once its start answer brings the secret. Answers: 204
// delivered, 200 a duplicate, 400 not an event, 401 a bad or stale
// signature, 405 not a POST, 413 too large. Mount it at the path of
// Config.WebhookURL.
func (k *Kit) WebhookHandler() http.Handler {
	return http.HandlerFunc(k.serveWebhook)
}

func (k *Kit) serveWebhook(w http.ResponseWriter, r *http.Request) {
	body, ref := webhook.ReadPost(w, r, k.cfg.MaxWebhookBytes)
	if ref != nil {
		webhookError(w, ref.Status, ref.Code, ref.Message)
		return
	}
	sig := r.Header.Get(webhook.SignatureHeader)
	refuse := func(err error) {
		code := "bad_signature"
		if errors.Is(err, webhook.ErrStaleSignature) {
			code = "stale_signature"
		}
		k.cfg.Logger.Warn("rest: webhook refused", "err", err, "remote", r.RemoteAddr)
		webhookError(w, http.StatusUnauthorized, code, err.Error())
	}
	if err := k.verifier.CheckTime(sig); err != nil {
		refuse(err)
		return
	}
	ev, err := deskproto.DecodeEvent(body)
	if err != nil {
		webhookError(w, http.StatusBadRequest, "bad_json", err.Error())
		return
	}
	if id := r.Header.Get(webhook.EventIDHeader); id != "" && id != ev.ID {
		webhookError(w, http.StatusBadRequest, "bad_request", "the event id header does not match the body")
		return
	}
	switch err := k.route(ev.ChatID, Delivery{Body: body, Signature: sig, Received: time.Now()}); {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, errDuplicate):
		w.WriteHeader(http.StatusOK) // a redelivery: acknowledged, not applied twice
	case errors.Is(err, webhook.ErrBadSignature), errors.Is(err, webhook.ErrStaleSignature):
		refuse(err)
	default:
		// Nobody took it: the desk delivers it again later.
		k.cfg.Logger.Warn("rest: webhook for a chat followed elsewhere could not be passed on", "chat", ev.ChatID, "err", err)
		w.Header().Set("Retry-After", "1")
		webhookError(w, http.StatusServiceUnavailable, "unavailable", "the event could not be handed to the instance that follows its chat")
	}
}

func webhookError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
