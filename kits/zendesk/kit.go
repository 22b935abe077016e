package zendesk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/zendesk/internal/wire"
)

// Name is the desk name the kit reports (Carbon's getName).
const Name = "zendesk"

// AgentWorkspace is the switchboard integration type of the Zendesk Agent
// Workspace, the default hand-off target.
const AgentWorkspace = "zd:agentWorkspace"

// Config configures the kit. AppID, KeyID and KeySecret are required, and
// Subdomain or BaseURL; WebhookSecrets for the webhook handler.
type Config struct {
	// Subdomain is the Zendesk account's: the API is
	// https://{Subdomain}.zendesk.com/sc. BaseURL overrides it (legacy
	// https://api.smooch.io, https://api.eu-1.smooch.io, tests).
	Subdomain string
	BaseURL   string
	// AppID is the Sunshine Conversations app.
	AppID string
	// KeyID and KeySecret are an API key of the app or of the kit's custom
	// integration. Take the secret from the environment.
	KeyID     string
	KeySecret string
	// JWT signs an HS256 JWT (kid: KeyID, scope: app) with the key instead
	// of sending it as Basic authentication.
	JWT bool
	// WebhookSecrets are the shared secrets of the integration's webhook,
	// sent by Zendesk as X-API-Key; give two while rotating.
	WebhookSecrets []string
	// MaxWebhookBytes bounds a webhook body. Default 1 MiB.
	MaxWebhookBytes int64
	// WebhookURL, IntegrationID and WebhookID, when all set, make the kit
	// point the custom integration's webhook at WebhookURL (Update
	// Webhook, with the triggers the kit reads) before its first chat, so
	// that a server whose address changed need not be configured again in
	// Admin Center.
	WebhookURL    string
	IntegrationID string
	WebhookID     string

	// HandoffTo is the switchboard integration passControl makes active:
	// an id, a name or an integration type. Default AgentWorkspace.
	HandoffTo string
	// Integration is the kit's own switchboard integration (its id or
	// name), given control back when the customer ends the chat. Default
	// "next".
	Integration string
	// BotName is the display name of the bot's turns of the transcript
	// and of the summary posted at the hand-off. Default "Assistant".
	BotName string
	// SummaryField, when set, is the id of a custom ticket field that
	// receives the summary (passControl metadata
	// dataCapture.ticketField.<id>); the summary is posted as a message
	// either way.
	SummaryField string
	// AttributeFields maps hand-off attributes to custom ticket field ids.
	AttributeFields map[string]string
	// EndNotice is posted as the customer's last message when the
	// customer ends the chat. Default "The customer left the chat."; "-"
	// posts nothing.
	EndNotice string
	// Capabilities are the upload limits shown to the customer. Default:
	// images, PDF, text and office documents up to 50 MB, one at a time.
	Capabilities *servicedesk.Capabilities
	// AgentProfile completes the profile the customer sees of an agent (a
	// message author has only a display name and an avatar) from a
	// directory of your own.
	AgentProfile func(ctx context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile

	// HTTPClient makes the REST calls.
	HTTPClient *http.Client
	// Backoff spaces retries; Retry-After is honoured. Default 100 ms to 5 s.
	Backoff retry.Backoff
	// Retries bounds the tries of one call. Default 8.
	Retries int
	// ReconcileInterval is how often an open chat reads the conversation
	// after its cursor by itself, in case a webhook never came (Zendesk
	// gives up on a delivery after 15 minutes). Default 30 s; negative
	// turns it off.
	ReconcileInterval time.Duration
	// Logger defaults to a discarding one.
	Logger *slog.Logger
	// Elsewhere, when set, gets every verified event of a conversation no
	// session here follows (another instance may): with several instances
	// behind one webhook URL it carries the event to them, which Deliver
	// it. An error makes the webhook answer 503, so that Zendesk retries.
	Elsewhere func(event []byte) error
}

// Kit makes Sunshine Conversations desks, one conversation per chat, and
// serves the integration's webhook for all of them.
type Kit struct {
	cfg  Config
	api  *httpjson.Client
	caps servicedesk.Capabilities
	log  *slog.Logger

	desks  vendorkit.Desks[*desk]
	router webhook.Intake[wire.Event] // by conversation id, each event once

	mu      sync.Mutex
	pointed bool // the webhook points at WebhookURL
}

// New checks cfg and returns a Kit. It does no network work.
func New(cfg Config) (*Kit, error) {
	switch {
	case cfg.AppID == "":
		return nil, errors.New("zendesk: Config.AppID is required")
	case cfg.KeyID == "" || cfg.KeySecret == "":
		return nil, errors.New("zendesk: Config.KeyID and Config.KeySecret are required")
	case cfg.BaseURL == "" && cfg.Subdomain == "":
		return nil, errors.New("zendesk: Config.Subdomain or Config.BaseURL is required")
	}
	for _, s := range cfg.WebhookSecrets {
		if s == "" {
			return nil, errors.New("zendesk: empty webhook secret")
		}
	}
	base := cmp.Or(cfg.BaseURL, "https://"+cfg.Subdomain+".zendesk.com/sc")
	cfg.HandoffTo = cmp.Or(cfg.HandoffTo, AgentWorkspace)
	cfg.Integration = cmp.Or(cfg.Integration, "next")
	cfg.BotName = cmp.Or(cfg.BotName, "Assistant")
	cfg.EndNotice = cmp.Or(cfg.EndNotice, "The customer left the chat.")
	cfg.MaxWebhookBytes = cmp.Or(cfg.MaxWebhookBytes, 1<<20)
	cfg.Retries = cmp.Or(cfg.Retries, 8)
	cfg.ReconcileInterval = cmp.Or(cfg.ReconcileInterval, 30*time.Second)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	}
	caps := servicedesk.Capabilities{AllowFileUploads: true, MaxFiles: 1, MaxFileSizeBytes: 50 << 20,
		AllowedFileUploadTypes: "image/*,.pdf,.txt,.csv,.doc,.docx,.xls,.xlsx"}
	if cfg.Capabilities != nil {
		caps = *cfg.Capabilities
	}
	auth, err := authorization(cfg)
	if err != nil {
		return nil, err
	}
	k := &Kit{cfg: cfg, caps: caps,
		api: &httpjson.Client{Name: Name, Base: strings.TrimSuffix(base, "/") + "/v2/apps/" + cfg.AppID, HTTP: cfg.HTTPClient,
			Header: http.Header{"Authorization": {auth}}, Kinds: map[int]servicedesk.ErrorCode{http.StatusNotImplemented: servicedesk.CodeUnimplemented},
			ErrorBody: errorBody},
		log: cfg.Logger.With("kit", Name)}
	k.router.Elsewhere = cfg.Elsewhere
	return k, nil
}

// authorization is the Authorization header of every call: Basic with the
// key, or a JWT signed with it (header kid, claim scope app).
func authorization(cfg Config) (string, error) {
	if !cfg.JWT {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(cfg.KeyID, cfg.KeySecret)
		return req.Header.Get("Authorization"), nil
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"scope": "app"})
	tok.Header["kid"] = cfg.KeyID
	s, err := tok.SignedString([]byte(cfg.KeySecret))
	if err != nil {
		return "", fmt.Errorf("zendesk: sign JWT: %w", err)
	}
	return "Bearer " + s, nil
}

// Factory builds the desk of one chat session; it has the
// servicedesk.Factory signature. It does no network work.
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, Name, func() (*desk, error) { return newDesk(k, p) })
}

// Close closes every desk the kit made that is still open and releases
// idle connections. It is idempotent.
func (k *Kit) Close() error {
	err := k.desks.Close()
	k.cfg.HTTPClient.CloseIdleConnections()
	return err
}

// Triggers are the webhook triggers the kit reads.
var Triggers = []string{wire.EventMessage, wire.EventTyping, wire.EventPassControl, wire.EventPassControlFail, wire.EventReleaseControl, wire.EventRemove}

// pointWebhook points the integration's webhook at Config.WebhookURL, once
// it succeeded; a failure is logged (the webhook may point here already)
// and tried again at the next chat.
func (k *Kit) pointWebhook(ctx context.Context) {
	c := k.cfg
	if c.WebhookURL == "" || c.IntegrationID == "" || c.WebhookID == "" {
		return
	}
	k.mu.Lock()
	done := k.pointed
	k.mu.Unlock()
	if done {
		return
	}
	err := k.call(ctx, request{Call: httpjson.Call{Op: "update webhook", Method: http.MethodPatch,
		Path: "/integrations/" + url.PathEscape(c.IntegrationID) + "/webhooks/" + url.PathEscape(c.WebhookID),
		Body: map[string]any{"target": c.WebhookURL, "triggers": Triggers}}, safe: true})
	if err != nil {
		k.log.Warn("zendesk: the webhook could not be pointed at this server", "url", c.WebhookURL, "err", err)
		return
	}
	k.mu.Lock()
	k.pointed = true
	k.mu.Unlock()
}
