package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// webhookRelay passes a kit's webhook deliveries between instances: a
// webhook may reach any instance, and one that does not follow the chat
// hands the delivery on to the others, where the one that follows it
// takes it. A nil *webhookRelay (no relay configured) does nothing.
type webhookRelay struct {
	r     relay
	topic string
}

// newWebhookRelay is the relay of c's kit, nil when c has none.
func newWebhookRelay(c kitConfig) *webhookRelay {
	if c.Relay == nil {
		return nil
	}
	return &webhookRelay{r: c.Relay, topic: c.Name + "-webhook"}
}

// Send hands payload to the other instances; an error when none listens,
// so that the webhook fails and the desk delivers it again.
func (w *webhookRelay) Send(payload []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := w.r.Broadcast(ctx, w.topic, payload)
	if err == nil && n == 0 {
		return errors.New("no instance listens")
	}
	return err
}

// OnReceive has deliver take what the other instances send.
func (w *webhookRelay) OnReceive(deliver func(payload []byte)) {
	if w != nil {
		w.r.OnBroadcast(w.topic, deliver)
	}
}

// webhookKit is a vendor kit whose desk answers by webhook: a handler for
// the deliveries, and Deliver for one another instance verified.
type webhookKit interface {
	Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error)
	Close() error
	WebhookHandler() http.Handler
	Deliver(payload []byte) bool
}

// startWebhookKit builds a webhook kit with build, which is handed the
// function that carries a verified delivery of a conversation this
// instance does not follow to the others (nil without a shared store),
// and mounts the kit's handler at webhookPath.
func startWebhookKit[K webhookKit](c kitConfig, build func(elsewhere func(payload []byte) error) (K, error)) (*kit, error) {
	wr := newWebhookRelay(c)
	var elsewhere func([]byte) error
	if wr != nil {
		elsewhere = wr.Send
	}
	k, err := build(elsewhere)
	if err != nil {
		return nil, err
	}
	wr.OnReceive(func(payload []byte) { k.Deliver(payload) })
	return &kit{factory: k.Factory, close: k.Close, webhook: k.WebhookHandler(), webhookPath: webhookPath}, nil
}
