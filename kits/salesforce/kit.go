package salesforce

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
	"github.com/deskbridge/deskbridge/core/transport/sse"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// Config configures the kit. URL, OrgID and DeveloperName are required.
type Config struct {
	// URL is the SCRT URL of the custom client deployment's code snippet,
	// such as https://mycompany.my.salesforce-scrt.com.
	URL string
	// OrgID is the 15-character id of the Salesforce org (00D…).
	OrgID string
	// DeveloperName is the API name of the Embedded Service deployment
	// (deployment type Custom Client).
	DeveloperName string

	// IdentityToken, when set, makes the access token of a chat whose
	// hand-off carries a verified customer through the authenticated
	// (user-verified) call: it returns the customer's identity token, a
	// JWT signed with a key of the channel's keyset (see SignIdentity).
	// Chats without a verified customer stay unauthenticated.
	IdentityToken IdentityTokenFunc

	// SummaryField and TranscriptField are the routing attributes
	// (hidden pre-chat fields) that carry the bot's summary and the bot
	// transcript to the agent. Default "Summary" and "Transcript"; "-"
	// sends none.
	SummaryField    string
	TranscriptField string
	// MaxAttributeBytes bounds one routing attribute's value; longer ones
	// are cut with servicedesk.TruncatedMarker. Default 1000.
	MaxAttributeBytes int
	// AgentProfile completes the profile of an agent (a picture) from a
	// directory of your own.
	AgentProfile func(ctx context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile

	// HTTPClient makes the REST calls. Default: a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// StreamClient holds the SSE stream open; it must have no overall
	// timeout. Default: a client on its own transport.
	StreamClient *http.Client
	// HeartbeatTimeout drops a silent stream. Default 90 s, as the sample
	// app.
	HeartbeatTimeout time.Duration
	// StreamBackoff spaces stream reconnections. Default 1 s × 1.5 up to
	// 30 s, as the sample app; StreamAttempts failed ones in a row end the
	// chat (default 10, as the sample app).
	StreamBackoff  sse.Backoff
	StreamAttempts int
	// Backoff and Retries shape the REST retries. Default 100 ms to 5 s,
	// 8 retries.
	Backoff retry.Backoff
	Retries int
	// TokenRefresh renews the access token (continuation-access-token)
	// this long before it expires. Default 5 min.
	TokenRefresh time.Duration
	// TypingInterval is the least time between two typing-started entries.
	// Default 3 s.
	TypingInterval time.Duration
	// Logger defaults to a discarding one.
	Logger *slog.Logger
}

// IdentityTokenFunc returns a verified customer's identity token.
type IdentityTokenFunc = func(ctx context.Context, c servicedesk.Customer) (string, error)

// Kit makes Salesforce Messaging for In-App and Web desks, one end user
// (one access token, one SSE stream) per chat session.
type Kit struct {
	cfg  Config
	base string
	api  *httpjson.Client
	log  *slog.Logger

	desks vendorkit.Desks[*desk]
}

// New checks cfg and returns a Kit. It does no network work.
func New(cfg Config) (*Kit, error) {
	if cfg.URL == "" || cfg.OrgID == "" || cfg.DeveloperName == "" {
		return nil, errors.New("salesforce: Config.URL, Config.OrgID and Config.DeveloperName are required")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("salesforce: Config.URL %q is not an http(s) URL", cfg.URL)
	}
	if !strings.HasPrefix(cfg.OrgID, "00D") || (len(cfg.OrgID) != 15 && len(cfg.OrgID) != 18) {
		return nil, fmt.Errorf("salesforce: Config.OrgID %q is not a Salesforce org id (00D…, 15 characters)", cfg.OrgID)
	}
	cfg.SummaryField = cmp.Or(cfg.SummaryField, "Summary")
	cfg.TranscriptField = cmp.Or(cfg.TranscriptField, "Transcript")
	cfg.MaxAttributeBytes = cmp.Or(cfg.MaxAttributeBytes, 1000)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	}
	if cfg.StreamClient == nil {
		cfg.StreamClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	cfg.HeartbeatTimeout = cmp.Or(cfg.HeartbeatTimeout, 90*time.Second)
	cfg.StreamAttempts = cmp.Or(cfg.StreamAttempts, 10)
	cfg.Retries = cmp.Or(cfg.Retries, 8)
	cfg.TokenRefresh = cmp.Or(cfg.TokenRefresh, 5*time.Minute)
	cfg.TypingInterval = cmp.Or(cfg.TypingInterval, 3*time.Second)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	// The SSE endpoint wants the 15-character org id.
	cfg.OrgID = cfg.OrgID[:15]
	base := strings.TrimSuffix(cfg.URL, "/")
	api := &httpjson.Client{Name: "salesforce", Base: base, HTTP: cfg.HTTPClient, Header: http.Header{"X-Org-Id": {cfg.OrgID}}, Kinds: errorKinds}
	return &Kit{cfg: cfg, base: base, api: api, log: cfg.Logger.With("kit", "salesforce")}, nil
}

// Factory builds the desk of one chat session; it has the
// servicedesk.Factory signature. It does no network work.
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, "salesforce", func() (*desk, error) { return newDesk(k, p) })
}

// Close closes every desk the kit made that is still open. It is
// idempotent.
func (k *Kit) Close() error { return k.desks.Close() }

// Conversation names the Salesforce conversation behind a session, for a
// Go host that calls the Messaging for In-App and Web API itself
// (servicedesk.As, flow.Session.As).
type Conversation struct {
	ConversationID string
	AccessToken    string
}

// As fills a *Conversation once a conversation was started or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Conversation, bool) {
		st := d.State()
		return Conversation{ConversationID: st.ConversationID, AccessToken: st.Token}, st.ConversationID != ""
	})
}
