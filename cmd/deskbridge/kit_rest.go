package main

import (
	"encoding/json"
	"strings"

	"github.com/deskbridge/deskbridge/kits/rest"
)

// The rest kit: the desk protocol's REST actions, events by signed
// webhooks to --public-url.
func init() {
	registerKit(kitSpec{
		Name:         "rest",
		About:        "the desk protocol's REST actions, events by signed webhooks to --public-url",
		NeedsDeskURL: true,
		Settings: []envSetting{
			{Env: "DESKBRIDGE_WEBHOOK_SECRET", Secret: true, Required: true, Usage: "the secret the desk signs its webhooks with when it gives a chat no secret of its own (each chat's own, from its start answer, is checked otherwise)"},
		},
		Start: func(c kitConfig) (*kit, error) {
			hook := strings.TrimSuffix(c.PublicURL, "/") + webhookPath
			rc := rest.Config{BaseURL: c.DeskURL, WebhookURL: hook, WebhookSecrets: []string{c.Settings["DESKBRIDGE_WEBHOOK_SECRET"]}, Logger: c.Logger}
			wr := newWebhookRelay(c)
			if wr != nil {
				// The one instance that follows the chat checks the
				// delivery against the chat's secret.
				rc.Elsewhere = func(d rest.Delivery) error {
					b, err := json.Marshal(d)
					if err != nil {
						return err
					}
					return wr.Send(b)
				}
			}
			k, err := rest.New(rc)
			if err != nil {
				return nil, err
			}
			wr.OnReceive(func(payload []byte) {
				var d rest.Delivery
				if err := json.Unmarshal(payload, &d); err == nil {
					k.Deliver(d)
				}
			})
			return &kit{factory: k.Factory, close: k.Close, webhook: k.WebhookHandler(), webhookPath: webhookPath}, nil
		},
		order: -4,
	})
}
