package genesys

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

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// Regions maps AWS-style region names to Genesys Cloud domains.
var Regions = map[string]string{
	"us-east-1":      "mypurecloud.com",
	"us-east-2":      "use2.us-gov-pure.cloud",
	"us-west-2":      "usw2.pure.cloud",
	"ca-central-1":   "cac1.pure.cloud",
	"sa-east-1":      "sae1.pure.cloud",
	"eu-west-1":      "mypurecloud.ie",
	"eu-west-2":      "euw2.pure.cloud",
	"eu-central-1":   "mypurecloud.de",
	"eu-central-2":   "euc2.pure.cloud",
	"me-central-1":   "mec1.pure.cloud",
	"ap-south-1":     "aps1.pure.cloud",
	"ap-northeast-1": "mypurecloud.jp",
	"ap-northeast-2": "apne2.pure.cloud",
	"ap-northeast-3": "apne3.pure.cloud",
	"ap-southeast-2": "mypurecloud.com.au",
}

// Config configures the kit. DeploymentID and a Region (or Domain) are
// required. There are no credentials: a guest is identified by a session
// token the kit chooses, scoped to the deployment.
type Config struct {
	// Region is an AWS-style region name (see Regions), or Domain is the
	// Genesys Cloud domain itself ("mypurecloud.com").
	Region string
	Domain string
	// DeploymentID is the Web Messaging deployment.
	DeploymentID string
	// Origin is sent on the WebSocket handshake, for deployments that
	// restrict allowed domains.
	Origin string
	// WebSocketURL and APIURL override wss://webmessaging.<domain>/v1 and
	// https://api.<domain> (tests, proxies).
	WebSocketURL string
	APIURL       string

	// SummaryAttribute is the custom attribute that carries the bot's
	// summary to the agent. Default "summary".
	SummaryAttribute string
	// Authenticate, when set, makes a chat an authenticated Web Messaging
	// session (the deployment's authentication integration): it returns
	// the customer's auth code for the hand-off, which the kit exchanges
	// for the session's JWT; nil is a guest session. PageAuthCode takes
	// the code from the page's pre-chat context. An error fails the start.
	Authenticate func(ctx context.Context, h servicedesk.Handoff) (*AuthCode, error)
	// AgentProfile completes the profile a guest sees of an agent (a
	// nickname and an image) from a directory of your own.
	AgentProfile func(ctx context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile

	// HTTPClient makes the history calls and uploads.
	HTTPClient *http.Client
	// Dialer dials the WebSocket.
	Dialer *websocket.Dialer
	// EchoInterval is the application-level keep-alive (echo). Default 30 s.
	EchoInterval time.Duration
	// SendInterval paces onMessage requests. Default 500 ms: Genesys takes
	// 2 messages a second from a guest.
	SendInterval time.Duration
	// TypingInterval is the least time between two typing events (the
	// SDKs cool down for 5 s). Default 5 s.
	TypingInterval time.Duration
	// RequestTimeout bounds one request's wait for its answer. Default 10 s.
	RequestTimeout time.Duration
	// Retries is how many times a failed request is sent again. Default 8.
	Retries int
	// Backoff spaces retries and reconnects. Default 100 ms to 5 s.
	Backoff retry.Backoff
	// Logger defaults to a discarding one.
	Logger *slog.Logger
}

// Kit makes Genesys Web Messaging desks, one guest per chat session.
type Kit struct {
	cfg   Config
	wsURL string
	api   string
	log   *slog.Logger

	desks vendorkit.Desks[*desk]
}

// New checks cfg and returns a Kit.
func New(cfg Config) (*Kit, error) {
	if cfg.DeploymentID == "" {
		return nil, errors.New("genesys: Config.DeploymentID is required")
	}
	if cfg.Domain == "" && cfg.Region != "" {
		cfg.Domain = Regions[cfg.Region]
		if cfg.Domain == "" {
			return nil, fmt.Errorf("genesys: unknown region %q: set Config.Domain", cfg.Region)
		}
	}
	if cfg.Domain == "" && (cfg.WebSocketURL == "" || cfg.APIURL == "") {
		return nil, errors.New("genesys: Config.Region or Config.Domain is required")
	}
	cfg.WebSocketURL = cmp.Or(cfg.WebSocketURL, "wss://webmessaging."+cfg.Domain+"/v1")
	cfg.APIURL = cmp.Or(cfg.APIURL, "https://api."+cfg.Domain)
	cfg.SummaryAttribute = cmp.Or(cfg.SummaryAttribute, "summary")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	}
	if cfg.Dialer == nil {
		cfg.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	}
	cfg.EchoInterval = cmp.Or(cfg.EchoInterval, 30*time.Second)
	cfg.SendInterval = cmp.Or(cfg.SendInterval, 500*time.Millisecond)
	cfg.TypingInterval = cmp.Or(cfg.TypingInterval, 5*time.Second)
	cfg.RequestTimeout = cmp.Or(cfg.RequestTimeout, 10*time.Second)
	cfg.Retries = cmp.Or(cfg.Retries, 8)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	u, err := url.Parse(cfg.WebSocketURL)
	if err != nil {
		return nil, fmt.Errorf("genesys: WebSocketURL: %w", err)
	}
	q := u.Query()
	q.Set("deploymentId", cfg.DeploymentID)
	u.RawQuery = q.Encode()
	return &Kit{cfg: cfg, wsURL: u.String(), api: strings.TrimSuffix(cfg.APIURL, "/"), log: cfg.Logger.With("kit", "genesys")}, nil
}

// Factory builds the desk of one chat session; it has the
// servicedesk.Factory signature. It does no network work.
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, "genesys", func() (*desk, error) { return newDesk(k, p) })
}

// Close closes every desk the kit made that is still open. It is
// idempotent.
func (k *Kit) Close() error { return k.desks.Close() }
