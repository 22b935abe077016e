package kustomer

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/kustomer/internal/wire"
)

// Name is the desk name the kit reports (Carbon's getName).
const Name = "kustomer"

// Config configures the kit. APIKey and From are required, and Org or
// BaseURL; WebhookTokens for the webhook handler.
type Config struct {
	// Org is the Kustomer org's name: the API is
	// https://{Org}.api.kustomerapp.com. BaseURL overrides it (a regional
	// host such as https://{Org}.api.prod2.kustomerapp.com, tests).
	Org     string
	BaseURL string
	// APIKey is an API key with org.permission.conversation.create,
	// message.create, customer.create and customer.read, conversation.read
	// and conversation.update, user.read and attachment create. Take it
	// from the environment.
	APIKey string
	// From is the id of the Kustomer user that the bot's turns of the
	// imported transcript show as (handoff's from, required by Kustomer
	// when the import has outbound messages): a bot user of the org.
	From string
	// WebhookTokens are the outbound webhook's tokens, the HMAC keys of
	// X-Kustomer-Webhook-Signature; give two while rotating.
	WebhookTokens []string
	// MaxWebhookBytes bounds a webhook body. Default 1 MiB.
	MaxWebhookBytes int64
	// Capabilities are the upload limits shown to the customer. Default:
	// images, PDF and text files up to 20 MB, five at a time.
	Capabilities *servicedesk.Capabilities

	// AgentProfile completes the profile of an agent (Kustomer's user:
	// its display name and avatar) from a directory of your own.
	AgentProfile func(ctx context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile

	// Logger hears of refused webhooks, failed reads and uploads; nil
	// discards.
	Logger *slog.Logger
	// HTTPClient makes the REST calls and the uploads (a 30 s timeout by
	// default).
	HTTPClient *http.Client
	// Retries is the most tries of one call (default 8), spaced by Backoff
	// (default 100 ms up to 5 s) or by the answer's Retry-After.
	Retries int
	Backoff retry.Backoff
	// ReconcileInterval: an open chat reads its conversation this often by
	// itself, in case a delivery never comes (Kustomer stops retrying one
	// after about an hour). Default 30 s; below zero, never.
	ReconcileInterval time.Duration
	// Elsewhere is for several instances behind one webhook URL: it is
	// handed each verified event of a conversation that no desk of this
	// instance follows, to carry to the others (whose Kit.Deliver takes
	// it). When it fails, the webhook answers 503 and Kustomer tries the
	// delivery again.
	Elsewhere func(event []byte) error
}

// Kit makes Kustomer chat desks, one chat session per chat, and serves the
// outbound webhook for all of them.
type Kit struct {
	cfg    Config
	api    *httpjson.Client // the Kustomer API
	upload *httpjson.Client // presigned upload forms, absolute URLs
	caps   servicedesk.Capabilities
	log    *slog.Logger
	tokens [][]byte

	desks  vendorkit.Desks[*desk]
	router webhook.Intake[wire.Event] // by conversation id, each event once
}

var orgName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// New checks cfg and returns a Kit. It does no network work.
func New(cfg Config) (*Kit, error) {
	switch {
	case cfg.APIKey == "":
		return nil, errors.New("kustomer: Config.APIKey is required")
	case cfg.From == "":
		return nil, errors.New("kustomer: Config.From (the user the bot's imported turns show as) is required")
	case cfg.BaseURL == "" && cfg.Org == "":
		return nil, errors.New("kustomer: Config.Org or Config.BaseURL is required")
	case cfg.BaseURL == "" && !orgName.MatchString(cfg.Org):
		return nil, errors.New("kustomer: Config.Org must be the org's name alone, such as acme for acme.api.kustomerapp.com")
	}
	k := &Kit{cfg: cfg, log: cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)).With("kit", Name)}
	for _, t := range cfg.WebhookTokens {
		if t == "" {
			return nil, errors.New("kustomer: empty webhook token")
		}
		k.tokens = append(k.tokens, []byte(t))
	}
	k.cfg.MaxWebhookBytes = cmp.Or(cfg.MaxWebhookBytes, 1<<20)
	k.cfg.Retries = cmp.Or(cfg.Retries, 8)
	k.cfg.ReconcileInterval = cmp.Or(cfg.ReconcileInterval, 30*time.Second)
	if k.cfg.HTTPClient == nil {
		k.cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	}
	k.caps = servicedesk.Capabilities{AllowFileUploads: true, MaxFiles: 5, MaxFileSizeBytes: 20 << 20,
		AllowedFileUploadTypes: "image/*,.pdf,.txt,.csv"}
	if cfg.Capabilities != nil {
		k.caps = *cfg.Capabilities
	}
	base := cmp.Or(cfg.BaseURL, "https://"+cfg.Org+".api.kustomerapp.com")
	k.api = &httpjson.Client{Name: Name, Base: strings.TrimSuffix(base, "/"), HTTP: k.cfg.HTTPClient,
		Header: http.Header{"Authorization": {"Bearer " + cfg.APIKey}}, ErrorBody: errorBody}
	k.upload = &httpjson.Client{Name: Name, HTTP: k.cfg.HTTPClient}
	k.router.Elsewhere = cfg.Elsewhere
	return k, nil
}

// errorBody reads Kustomer's JSON:API error answer: the first error's
// code, and its detail or else its title.
func errorBody(b []byte) (code, message string) {
	var e wire.Errors
	if json.Unmarshal(b, &e) != nil || len(e.Errors) == 0 {
		return "", httpjson.Message(b)
	}
	return e.Errors[0].Code, cmp.Or(e.Errors[0].Detail, e.Errors[0].Title)
}

// Factory is the kit's servicedesk.Factory: a desk for one deskbridge
// session, made without network work (StartChat or Reconnect do it).
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, Name, func() (*desk, error) { return newDesk(k, p) })
}

// Close closes the desks still open (their chats go on at Kustomer) and
// the idle connections; it is idempotent.
func (k *Kit) Close() error {
	defer k.cfg.HTTPClient.CloseIdleConnections()
	return k.desks.Close()
}

// policy is the retry policy of calls that may be sent again.
func (k *Kit) policy() retry.Policy {
	return retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}
}
