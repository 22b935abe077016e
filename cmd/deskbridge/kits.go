package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/polling"
	"github.com/deskbridge/deskbridge/kits/rest"
	"github.com/deskbridge/deskbridge/kits/websocket"
)

// kitNames lists the kits deskbridge can run.
var kitNames = []string{"websocket", "rest", "polling"}

// kitConfig is what a kit needs from the server's configuration.
type kitConfig struct {
	Name    string
	DeskURL string
	// PublicURL is where the server is reached from the desk (webhooks).
	PublicURL string
	// WebhookSecret checks the desk's webhook signatures.
	WebhookSecret string
	Logger        *slog.Logger
}

// webhookPath is where the rest kit's webhook handler is mounted.
const webhookPath = "/desk/webhook"

// kit is a built desk kit.
type kit struct {
	factory servicedesk.Factory
	close   func() error
	// webhook, when set, is mounted at webhookPath on the server.
	webhook     http.Handler
	webhookPath string
}

func newKit(cfg kitConfig) (*kit, error) {
	log := cfg.Logger.With("kit", cfg.Name)
	switch strings.ToLower(cfg.Name) {
	case "", "websocket", "ws":
		k, err := websocket.New(websocket.Config{BaseURL: cfg.DeskURL, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("kit websocket: %w", err)
		}
		return &kit{factory: k.Factory, close: k.Close}, nil
	case "polling", "poll":
		k, err := polling.New(polling.Config{BaseURL: cfg.DeskURL, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("kit polling: %w", err)
		}
		return &kit{factory: k.Factory, close: k.Close}, nil
	case "rest":
		if cfg.PublicURL == "" {
			return nil, errors.New("kit rest: the public URL (where the desk posts webhooks) is required")
		}
		if cfg.WebhookSecret == "" {
			return nil, errors.New("kit rest: a webhook secret is required (DESKBRIDGE_WEBHOOK_SECRET)")
		}
		hook := strings.TrimSuffix(cfg.PublicURL, "/") + webhookPath
		k, err := rest.New(rest.Config{BaseURL: cfg.DeskURL, WebhookURL: hook, WebhookSecrets: []string{cfg.WebhookSecret}, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("kit rest: %w", err)
		}
		return &kit{factory: k.Factory, close: k.Close, webhook: k.WebhookHandler(), webhookPath: webhookPath}, nil
	}
	return nil, fmt.Errorf("unknown kit %q (have %s)", cfg.Name, strings.Join(kitNames, ", "))
}
