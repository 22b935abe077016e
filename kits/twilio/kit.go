package twilio

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/twilio/internal/wire"
)

// Name is the desk name the kit reports (Carbon's getName).
const Name = "twilio-flex"

// Config configures the kit. AccountSID, AuthToken, WorkspaceSID and
// WebhookURL are required. Take the secrets from the environment.
type Config struct {
	// AccountSID (AC…) owns the Conversations and the Flex instance.
	AccountSID string
	// AuthToken signs the webhooks Twilio sends (X-Twilio-Signature) and,
	// without an API key, authenticates the REST calls. SecondaryAuthToken
	// is also accepted on webhooks while the token is being rotated.
	AuthToken          string
	SecondaryAuthToken string
	// APIKeySID (SK…) and APIKeySecret, when set, authenticate the REST
	// calls instead of the auth token.
	APIKeySID    string
	APIKeySecret string

	// WorkspaceSID (WS…) is Flex's TaskRouter workspace; WorkflowSID
	// (WW…) its workflow, needed when the workspace has several.
	WorkspaceSID string
	WorkflowSID  string
	// TaskChannel is the task channel's unique name. Default "chat".
	TaskChannel string
	// ChannelType is the Interaction channel's type. Default "web".
	ChannelType string
	// ChatServiceSID (IS…) is the Conversation Service media is uploaded
	// to; default: the service of each conversation (its chat_service_sid).
	ChatServiceSID string

	// WebhookURL is the public URL at which WebhookHandler is served: each
	// conversation's scoped webhook posts there, and Twilio signs that URL.
	// Point the TaskRouter workspace's Event Callback URL there too, so
	// that a task canceled before any agent took it ends the chat.
	WebhookURL string

	// ConversationsURL, FlexURL and MediaURL override
	// https://conversations.twilio.com, https://flex-api.twilio.com and
	// https://mcs.us1.twilio.com (tests, other regions).
	ConversationsURL string
	FlexURL          string
	MediaURL         string

	// Identity names the customer on the conversation; default a random
	// "deskbridge-…" per chat (Flex asks for no personal data as identity).
	Identity func(servicedesk.Instance) string
	// BotAuthor is the author of the bot's turns of the hand-off
	// transcript. Default "bot".
	BotAuthor string
	// TranscriptTurns bounds the bot transcript posted as the opening
	// messages (the latest turns are kept). Default 20.
	TranscriptTurns int
	// AgentProfile completes an agent's profile (a picture) from a
	// directory of your own.
	AgentProfile func(ctx context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile

	// MaxFileBytes and AllowedFileTypes are the uploads offered to the
	// customer (Carbon's capabilities). Default 10 MiB and
	// "image/*,application/pdf,text/plain".
	MaxFileBytes     int64
	AllowedFileTypes string

	// ReconcileInterval is how often an open chat compares itself with the
	// conversation (messages after the last one, participants, state), in
	// case a webhook was lost; Twilio does not retry webhooks. Default 30
	// s; negative turns it off.
	ReconcileInterval time.Duration
	// MaxWebhookBytes bounds a webhook body. Default 1 MiB.
	MaxWebhookBytes int64
	// Elsewhere, when set, is given every verified webhook of a
	// conversation no session here follows: with several instances behind
	// one public URL it carries the delivery to the others, which Deliver
	// it. An error makes the webhook answer 503.
	Elsewhere func(delivery []byte) error

	// HTTPClient makes the REST calls.
	HTTPClient *http.Client
	// Retries is how many times a failed call is tried again. Default 8.
	Retries int
	// Backoff spaces retries. Default 100 ms to 5 s.
	Backoff retry.Backoff
	// Logger defaults to a discarding one.
	Logger *slog.Logger
}

// Kit makes Twilio Flex desks, one customer identity per chat, and routes
// the webhooks of every conversation to its desk.
type Kit struct {
	cfg     Config
	api     *httpjson.Client
	tokens  []string
	hookURL *url.URL
	log     *slog.Logger

	desks  vendorkit.Desks[*desk]
	routes webhook.Intake[wire.Event] // by conversation sid, each event once
}

// New checks cfg and returns a Kit. It does no network work.
func New(cfg Config) (*Kit, error) {
	switch {
	case cfg.AccountSID == "":
		return nil, errors.New("twilio: Config.AccountSID is required")
	case cfg.AuthToken == "":
		return nil, errors.New("twilio: Config.AuthToken is required: Twilio signs its webhooks with it")
	case cfg.WorkspaceSID == "":
		return nil, errors.New("twilio: Config.WorkspaceSID is required: Flex routes the chat through it")
	case cfg.WebhookURL == "":
		return nil, errors.New("twilio: Config.WebhookURL is required: the conversation's webhooks are posted there")
	case (cfg.APIKeySID == "") != (cfg.APIKeySecret == ""):
		return nil, errors.New("twilio: Config.APIKeySID and APIKeySecret go together")
	}
	u, err := url.Parse(cfg.WebhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("twilio: Config.WebhookURL: want an absolute http(s) URL")
	}
	cfg.ConversationsURL = strings.TrimSuffix(cmp.Or(cfg.ConversationsURL, "https://conversations.twilio.com"), "/")
	cfg.FlexURL = strings.TrimSuffix(cmp.Or(cfg.FlexURL, "https://flex-api.twilio.com"), "/")
	cfg.MediaURL = strings.TrimSuffix(cmp.Or(cfg.MediaURL, "https://mcs.us1.twilio.com"), "/")
	cfg.TaskChannel = cmp.Or(cfg.TaskChannel, "chat")
	cfg.ChannelType = cmp.Or(cfg.ChannelType, "web")
	cfg.BotAuthor = cmp.Or(cfg.BotAuthor, "bot")
	cfg.TranscriptTurns = cmp.Or(cfg.TranscriptTurns, 20)
	cfg.MaxFileBytes = cmp.Or(cfg.MaxFileBytes, 10<<20)
	cfg.AllowedFileTypes = cmp.Or(cfg.AllowedFileTypes, "image/*,application/pdf,text/plain")
	cfg.ReconcileInterval = cmp.Or(cfg.ReconcileInterval, 30*time.Second)
	cfg.MaxWebhookBytes = cmp.Or(cfg.MaxWebhookBytes, 1<<20)
	cfg.Retries = cmp.Or(cfg.Retries, 8)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	user, pass := cfg.AccountSID, cfg.AuthToken
	if cfg.APIKeySID != "" {
		user, pass = cfg.APIKeySID, cfg.APIKeySecret
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	k := &Kit{cfg: cfg, api: &httpjson.Client{Name: "twilio", HTTP: cfg.HTTPClient, Header: http.Header{"Authorization": {basic}}}, hookURL: u, log: cfg.Logger.With("kit", "twilio")}
	k.routes.Elsewhere = cfg.Elsewhere
	k.tokens = []string{cfg.AuthToken}
	if cfg.SecondaryAuthToken != "" {
		k.tokens = append(k.tokens, cfg.SecondaryAuthToken)
	}
	return k, nil
}

// Factory builds the desk of one chat session; it has the
// servicedesk.Factory signature. It does no network work.
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, "twilio", func() (*desk, error) { return newDesk(k, p) })
}

// Close closes every desk the kit made that is still open. It is
// idempotent.
func (k *Kit) Close() error { return k.desks.Close() }
