package chatwoot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// Config configures the kit. URL and InboxIdentifier are required.
type Config struct {
	// URL is the Chatwoot installation, such as https://chat.example.com.
	URL string
	// InboxIdentifier is the identifier of the API channel inbox (its
	// settings, "Configuration").
	InboxIdentifier string
	// HMACToken is the inbox's identity validation token: when set, a
	// verified customer's contact carries identifier_hash, the HMAC-SHA256
	// of its identifier, and Chatwoot marks it verified. Required when the
	// inbox enforces identity validation.
	HMACToken string

	// BotToken and AccountID, when set, hand the conversation over as
	// Chatwoot models a bot hand-off: an inbox with an agent bot creates
	// conversations pending (the bot holds them); the kit posts the
	// hand-off while it is pending, then opens it for the agents with the
	// bot's access token (POST /api/v1/accounts/{AccountID}/conversations
	// /{id}/toggle_status). Without them a pending conversation stays
	// pending until someone opens it.
	BotToken  string
	AccountID string

	// CableURL is the ActionCable endpoint. Default URL's /cable (ws or wss).
	CableURL string
	// Origin goes with the cable's handshake (ActionCable checks it
	// against the installation's allowed origins). Default URL.
	Origin string

	// MinInterval is the least time between two requests of the whole kit:
	// Chatwoot throttles per IP (Rack::Attack, 3000 a minute by default)
	// and the bridge is one IP for every customer. Default 25 ms; a 429's
	// Retry-After pauses every chat's requests.
	MinInterval time.Duration
	// MaxAttributeBytes bounds one custom attribute's value, and
	// MaxOpeningBytes the opening message with the summary and the bot
	// transcript; longer ones are cut with servicedesk.TruncatedMarker.
	// Default 1000 and 8000.
	MaxAttributeBytes int
	MaxOpeningBytes   int
	// MaxFileBytes is the installation's largest attachment (Chatwoot's
	// MAXIMUM_FILE_UPLOAD_SIZE, in MB there): a larger file is refused
	// before it is read. Default 40 MB, Chatwoot's default.
	MaxFileBytes int64
	// AgentProfile completes an agent's profile from a directory of your
	// own.
	AgentProfile func(ctx context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile

	// HTTPClient makes the REST calls. Default: a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// StaleAfter drops a cable connection silent that long. Default 6 s.
	StaleAfter time.Duration
	// Backoff and Retries shape REST retries (default 100 ms to 5 s, 8
	// retries); CableBackoff spaces cable reconnections (default 250 ms to
	// 15 s).
	Backoff      retry.Backoff
	Retries      int
	CableBackoff retry.Backoff
	// TypingInterval is the least time between two typing-on calls.
	// Default 3 s.
	TypingInterval time.Duration
	// Logger defaults to a discarding one.
	Logger *slog.Logger
}

// Kit makes Chatwoot desks: one contact, one conversation and one cable
// subscription per chat session.
type Kit struct {
	cfg   Config
	inbox string // /public/api/v1/inboxes/{identifier}
	cable string
	api   *httpjson.Client
	caps  servicedesk.Capabilities
	pacer *retry.Pacer
	log   *slog.Logger
	desks vendorkit.Desks[*desk]
}

// New checks cfg and returns a Kit. It does no network work.
func New(cfg Config) (*Kit, error) {
	if cfg.URL == "" || cfg.InboxIdentifier == "" {
		return nil, errors.New("chatwoot: Config.URL and Config.InboxIdentifier are required")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("chatwoot: Config.URL %q is not an http(s) URL", cfg.URL)
	}
	if (cfg.BotToken == "") != (cfg.AccountID == "") {
		return nil, errors.New("chatwoot: Config.BotToken and Config.AccountID go together")
	}
	base := strings.TrimSuffix(cfg.URL, "/")
	if cfg.CableURL == "" {
		ws := *u
		ws.Scheme = map[string]string{"https": "wss", "http": "ws"}[u.Scheme]
		ws.Path = strings.TrimSuffix(ws.Path, "/") + "/cable"
		cfg.CableURL = ws.String()
	}
	cfg.Origin = cmp.Or(cfg.Origin, u.Scheme+"://"+u.Host)
	cfg.MinInterval = cmp.Or(cfg.MinInterval, 25*time.Millisecond)
	cfg.MaxAttributeBytes = cmp.Or(cfg.MaxAttributeBytes, 1000)
	cfg.MaxOpeningBytes = cmp.Or(cfg.MaxOpeningBytes, 8000)
	cfg.MaxFileBytes = cmp.Or(cfg.MaxFileBytes, 40<<20)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	}
	cfg.Retries = cmp.Or(cfg.Retries, 8)
	if cfg.Backoff == (retry.Backoff{}) {
		cfg.Backoff = retry.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	}
	cfg.TypingInterval = cmp.Or(cfg.TypingInterval, 3*time.Second)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	return &Kit{
		cfg:   cfg,
		inbox: "/public/api/v1/inboxes/" + url.PathEscape(cfg.InboxIdentifier),
		cable: cfg.CableURL,
		api:   &httpjson.Client{Name: "chatwoot", Base: base, HTTP: cfg.HTTPClient},
		// What Chatwoot takes of a message: 15 attachments (Message's
		// NUMBER_OF_PERMITTED_ATTACHMENTS), the types its web widget accepts.
		caps: servicedesk.Capabilities{AllowFileUploads: true, AllowMultipleFileUploads: true, MaxFiles: 15, MaxFileSizeBytes: cfg.MaxFileBytes,
			AllowedFileUploadTypes: "image/*,video/*,audio/*,.pdf,.txt,.csv,.rtf,.json,.zip,.7z,.rar,.tar,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt"},
		pacer: &retry.Pacer{Interval: cfg.MinInterval},
		log:   cfg.Logger.With("kit", "chatwoot"),
	}, nil
}

// Factory builds the desk of one chat session; it has the
// servicedesk.Factory signature. It does no network work.
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, "chatwoot", func() (*desk, error) { return newDesk(k, p) })
}

// Close closes every desk the kit made that is still open. It is
// idempotent.
func (k *Kit) Close() error { return k.desks.Close() }

// Conversation names the Chatwoot contact and conversation behind a
// session, for a Go host that calls Chatwoot itself (servicedesk.As,
// flow.Session.As).
type Conversation struct {
	SourceID       string // the contact's identifier in the inbox
	ConversationID int64  // the conversation's display id
}

// As fills a *Conversation once a conversation was created or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Conversation, bool) {
		d.mu.Lock()
		defer d.mu.Unlock()
		return Conversation{SourceID: d.st.SourceID, ConversationID: d.st.ConversationID}, d.st.ConversationID != 0
	})
}
