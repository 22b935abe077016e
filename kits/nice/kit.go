package nice

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

// Config configures the kit. BrandID, ChannelID and either Environment or
// both GatewayURL and ChatURL are required.
type Config struct {
	// BrandID and ChannelID are the CXone brand and its digital chat
	// channel (chat_…), as the chat web SDK's ChatSdk options name them.
	BrandID   int
	ChannelID string
	// Environment is the CXone environment (EU1, NA1, AU1, UK1, ...): the
	// SDK's gateway wss://chat-gw-de-<env>.<domain> and chat API
	// https://channels-de-<env>.<domain>. GatewayURL and ChatURL, when
	// set, replace them (the SDK's "custom" environment, tests, proxies).
	Environment string
	GatewayURL  string
	ChatURL     string

	// AuthorizationCode, when set, makes every customer an OAuth-authorized
	// one: it returns an authorization code from the brand's OAuth
	// provider for the session's customer (the verified customer's id,
	// "" for an anonymous one), which AuthorizeCustomer trades for the
	// customer's identity and an access token. Without it customers are
	// guests, known by a customer id the kit makes. Keep the provider's
	// secrets out of files.
	AuthorizationCode func(ctx context.Context, customerID string) (string, error)

	// AgentProfile, when set, completes the profile the kit makes of a
	// CXone user (id, nickname, public image).
	AgentProfile func(ctx context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile

	// Capabilities are the file limits reported to the user: CXone says
	// them only in a refused upload's answer. Default: 10 MB files of
	// images, PDF and text.
	Capabilities servicedesk.Capabilities

	// HTTPClient makes the REST calls and reads streamed messages.
	HTTPClient *http.Client
	// Dialer dials the gateway.
	Dialer *websocket.Dialer
	// PingInterval is the heartbeat. Default 20 s.
	PingInterval time.Duration
	// RequestTimeout bounds one request's wait for its answer. Default 15 s.
	RequestTimeout time.Duration
	// StreamTimeout bounds the reading of one streamed message. Default 60 s.
	StreamTimeout time.Duration
	// Retries is how many times a failed request is sent again. Default 8.
	Retries int
	// Backoff spaces retries and reconnects. Default 100 ms to 5 s.
	Backoff retry.Backoff
	// Logger defaults to a discarding one.
	Logger *slog.Logger
}

// environmentDomains are the SDK's environments (index.js).
var environmentDomains = map[string]string{
	"AE1": "nicecxone.com", "AU1": "niceincontact.com", "AU2": "nicecxone-sov1.au", "CA1": "niceincontact.com",
	"EU1": "niceincontact.com", "EU2": "nicecxone-sov1.eu", "JO1": "nicecxone.com", "JP1": "niceincontact.com",
	"KR1": "nicecxone.com", "NA1": "niceincontact.com", "NA2": "nicecxone-gov.com", "UK1": "niceincontact.com",
	"UK2": "nicecxone-sov1.uk", "ZA1": "nicecxone.com",
}

// Endpoints returns an environment's gateway and chat API URLs, as the
// SDK makes them; ok is false for an unknown environment.
func Endpoints(env string) (gateway, chat string, ok bool) {
	env = strings.ToUpper(env)
	d, ok := environmentDomains[env]
	if !ok {
		return "", "", false
	}
	e := strings.ToLower(env)
	return "wss://chat-gw-de-" + e + "." + d, "https://channels-de-" + e + "." + d, true
}

// DefaultCapabilities are the file limits reported when Config names none.
var DefaultCapabilities = servicedesk.Capabilities{AllowFileUploads: true, AllowMultipleFileUploads: true,
	AllowedFileUploadTypes: "image/*,application/pdf,text/plain", MaxFileSizeBytes: 10 << 20}

// Kit makes CXone desks, one customer per chat session.
type Kit struct {
	cfg     Config
	gateway *url.URL
	log     *slog.Logger
	desks   vendorkit.Desks[*desk]
}

// New checks cfg and returns a Kit. It does no network work.
func New(cfg Config) (*Kit, error) {
	if cfg.BrandID <= 0 || cfg.ChannelID == "" {
		return nil, errors.New("nice: Config.BrandID and Config.ChannelID are required")
	}
	if cfg.GatewayURL == "" || cfg.ChatURL == "" {
		gw, chat, ok := Endpoints(cfg.Environment)
		if !ok && (cfg.GatewayURL == "" || cfg.ChatURL == "") {
			return nil, fmt.Errorf("nice: Config.Environment %q is not a CXone environment (and GatewayURL and ChatURL are not both set)", cfg.Environment)
		}
		cfg.GatewayURL, cfg.ChatURL = cmp.Or(cfg.GatewayURL, gw), cmp.Or(cfg.ChatURL, chat)
	}
	gw, err := url.Parse(cfg.GatewayURL)
	if err != nil || (gw.Scheme != "wss" && gw.Scheme != "ws") || gw.Host == "" {
		return nil, fmt.Errorf("nice: Config.GatewayURL %q: want a ws(s) URL", cfg.GatewayURL)
	}
	if u, err := url.Parse(cfg.ChatURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("nice: Config.ChatURL %q: want an http(s) URL", cfg.ChatURL)
	}
	cfg.ChatURL = strings.TrimSuffix(cfg.ChatURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 60 * time.Second}
	}
	if cfg.Dialer == nil {
		cfg.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	}
	if !cfg.Capabilities.AllowFileUploads {
		cfg.Capabilities = DefaultCapabilities
	}
	cfg.PingInterval = cmp.Or(cfg.PingInterval, 20*time.Second)
	cfg.RequestTimeout = cmp.Or(cfg.RequestTimeout, 15*time.Second)
	cfg.StreamTimeout = cmp.Or(cfg.StreamTimeout, 60*time.Second)
	cfg.Retries = cmp.Or(cfg.Retries, 8)
	if cfg.Backoff == (retry.Backoff{}) {
		cfg.Backoff = retry.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	return &Kit{cfg: cfg, gateway: gw, log: cfg.Logger.With("kit", "nice")}, nil
}

// gatewayURL is the gateway's URL for a customer: the SDK's query
// (brandId, channelId, customerId for a guest, the SDK's platform).
func (k *Kit) gatewayURL(customerID string) string {
	u := *k.gateway
	q := url.Values{"brandId": {fmt.Sprint(k.cfg.BrandID)}, "channelId": {k.cfg.ChannelID}, "sdkPlatform": {"web"}}
	if customerID != "" {
		q.Set("customerId", customerID)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Factory builds the desk of one chat session; it has the
// servicedesk.Factory signature. It does no network work.
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, "nice", func() (*desk, error) { return newDesk(k, p) })
}

// Close closes every desk the kit made that is still open. It is
// idempotent.
func (k *Kit) Close() error { return k.desks.Close() }
