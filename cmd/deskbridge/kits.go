package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/amazonconnect"
	"github.com/deskbridge/deskbridge/kits/genesys"
	"github.com/deskbridge/deskbridge/kits/polling"
	"github.com/deskbridge/deskbridge/kits/rest"
	"github.com/deskbridge/deskbridge/kits/websocket"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// kitNames lists the kits deskbridge can run.
var kitNames = []string{"websocket", "rest", "polling", "amazonconnect", "genesys"}

// kitConfig is what a kit needs from the server's configuration.
type kitConfig struct {
	Name    string
	DeskURL string
	// PublicURL is where the server is reached from the desk (webhooks).
	PublicURL string
	// WebhookSecret checks the desk's webhook signatures.
	WebhookSecret string
	// Relay, when instances share a store, carries a webhook that reached
	// an instance not following its chat to the others (rest kit).
	Relay  relay
	Logger *slog.Logger
}

// relay broadcasts between the instances sharing a store (stores/redis).
type relay interface {
	Broadcast(ctx context.Context, topic string, payload []byte) (int64, error)
	OnBroadcast(topic string, fn func(payload []byte))
}

// webhookTopic is the relay topic of the rest kit's webhooks.
const webhookTopic = "rest-webhook"

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
		rc := rest.Config{BaseURL: cfg.DeskURL, WebhookURL: hook, WebhookSecrets: []string{cfg.WebhookSecret}, Logger: log}
		if cfg.Relay != nil {
			// A webhook may reach any instance: one that does not follow
			// the chat passes the (verified) event on to the others.
			rc.Elsewhere = func(ev deskproto.Event) error {
				b, err := json.Marshal(ev)
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				n, err := cfg.Relay.Broadcast(ctx, webhookTopic, b)
				if err == nil && n == 0 {
					err = errors.New("no instance listens")
				}
				return err
			}
		}
		k, err := rest.New(rc)
		if err != nil {
			return nil, fmt.Errorf("kit rest: %w", err)
		}
		if cfg.Relay != nil {
			cfg.Relay.OnBroadcast(webhookTopic, func(payload []byte) {
				if ev, err := deskproto.DecodeEvent(payload); err == nil {
					k.Deliver(ev)
				}
			})
		}
		return &kit{factory: k.Factory, close: k.Close, webhook: k.WebhookHandler(), webhookPath: webhookPath}, nil
	case "amazonconnect", "connect":
		return newConnectKit(cfg, log)
	case "genesys":
		return newGenesysKit(cfg, log)
	}
	return nil, fmt.Errorf("unknown kit %q (have %s)", cfg.Name, strings.Join(kitNames, ", "))
}

// vendorKit reports whether a kit talks to a vendor's cloud, which needs
// no desk URL (one points it at a mock-desk face instead).
func vendorKit(name string) bool {
	switch strings.ToLower(name) {
	case "amazonconnect", "connect", "genesys":
		return true
	}
	return false
}

// envOr reads a DESKBRIDGE_… variable, or def.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// newConnectKit builds the Amazon Connect kit. For a real instance:
// DESKBRIDGE_CONNECT_REGION, DESKBRIDGE_CONNECT_INSTANCE_ID and
// DESKBRIDGE_CONNECT_CONTACT_FLOW_ID, credentials from the AWS default chain.
// With a desk URL (a mock-desk with its Amazon Connect face, as in the
// demo) the kit talks to it instead, with placeholder credentials.
func newConnectKit(cfg kitConfig, log *slog.Logger) (*kit, error) {
	c := amazonconnect.Config{
		Region:        envOr("DESKBRIDGE_CONNECT_REGION", "us-east-1"),
		InstanceID:    os.Getenv("DESKBRIDGE_CONNECT_INSTANCE_ID"),
		ContactFlowID: os.Getenv("DESKBRIDGE_CONNECT_CONTACT_FLOW_ID"),
		Logger:        log,
	}
	if cfg.DeskURL != "" {
		c.ConnectEndpoint, c.ParticipantEndpoint = cfg.DeskURL, cfg.DeskURL
		c.InstanceID, c.ContactFlowID = envOr("DESKBRIDGE_CONNECT_INSTANCE_ID", "mock-instance"), envOr("DESKBRIDGE_CONNECT_CONTACT_FLOW_ID", "mock-flow")
		c.AWSConfig = &aws.Config{Region: c.Region, Credentials: credentials.NewStaticCredentialsProvider("mock-desk", "mock-desk", "")}
	}
	k, err := amazonconnect.New(c)
	if err != nil {
		return nil, fmt.Errorf("kit amazonconnect: %w", err)
	}
	return &kit{factory: k.Factory, close: k.Close}, nil
}

// newGenesysKit builds the Genesys Cloud Web Messaging kit. For a real
// deployment: DESKBRIDGE_GENESYS_REGION (or DESKBRIDGE_GENESYS_DOMAIN),
// DESKBRIDGE_GENESYS_DEPLOYMENT_ID and, when the deployment restricts
// domains, DESKBRIDGE_GENESYS_ORIGIN. With a desk URL (a mock-desk with its
// Genesys face) the kit talks to it instead.
func newGenesysKit(cfg kitConfig, log *slog.Logger) (*kit, error) {
	c := genesys.Config{
		Region:       envOr("DESKBRIDGE_GENESYS_REGION", "us-east-1"),
		Domain:       os.Getenv("DESKBRIDGE_GENESYS_DOMAIN"),
		DeploymentID: os.Getenv("DESKBRIDGE_GENESYS_DEPLOYMENT_ID"),
		Origin:       os.Getenv("DESKBRIDGE_GENESYS_ORIGIN"),
		Logger:       log,
	}
	if cfg.DeskURL != "" {
		c.WebSocketURL = "ws" + strings.TrimPrefix(cfg.DeskURL, "http") + "/v1"
		c.APIURL = cfg.DeskURL
		c.DeploymentID = envOr("DESKBRIDGE_GENESYS_DEPLOYMENT_ID", "mock-deployment")
	}
	k, err := genesys.New(c)
	if err != nil {
		return nil, fmt.Errorf("kit genesys: %w", err)
	}
	return &kit{factory: k.Factory, close: k.Close}, nil
}

// deskHandler is what the demo's mock desk serves for a kit: the vendor
// kits talk to it through the vendor's face.
func deskHandler(kitName string, desk *mockdesk.Desk) http.Handler {
	switch strings.ToLower(kitName) {
	case "amazonconnect", "connect":
		return mockdesk.NewConnectFace(desk, mockdesk.ConnectOptions{})
	case "genesys":
		return mockdesk.NewGenesysFace(desk, mockdesk.GenesysOptions{})
	}
	return desk
}
