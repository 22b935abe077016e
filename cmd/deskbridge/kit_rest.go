package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
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
			{Env: "DESKBRIDGE_WEBHOOK_SECRET", Secret: true, Required: true, Usage: "the secret the desk signs its webhooks with"},
		},
		Start: func(c kitConfig) (*kit, error) {
			hook := strings.TrimSuffix(c.PublicURL, "/") + webhookPath
			rc := rest.Config{BaseURL: c.DeskURL, WebhookURL: hook, WebhookSecrets: []string{c.Settings["DESKBRIDGE_WEBHOOK_SECRET"]}, Logger: c.Logger}
			topic := c.Name + "-webhook"
			if c.Relay != nil {
				// A webhook may reach any instance: one that does not follow
				// the chat passes the (verified) event on to the others.
				rc.Elsewhere = func(ev deskproto.Event) error {
					b, err := json.Marshal(ev)
					if err != nil {
						return err
					}
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					defer cancel()
					n, err := c.Relay.Broadcast(ctx, topic, b)
					if err == nil && n == 0 {
						err = errors.New("no instance listens")
					}
					return err
				}
			}
			k, err := rest.New(rc)
			if err != nil {
				return nil, err
			}
			if c.Relay != nil {
				c.Relay.OnBroadcast(topic, func(payload []byte) {
					if ev, err := deskproto.DecodeEvent(payload); err == nil {
						k.Deliver(ev)
					}
				})
			}
			return &kit{factory: k.Factory, close: k.Close, webhook: k.WebhookHandler(), webhookPath: webhookPath}, nil
		},
		order: -4,
	})
}
