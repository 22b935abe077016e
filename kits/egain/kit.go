package egain

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/egain/internal/wire"
)

// Config configures the kit. URL, EntryPointID and CustomerID are
// required.
type Config struct {
	// URL is the relay's base URL: initialize is URL/initialize and the
	// WebSocket URL/ws (ws or wss as URL is http or https), unless
	// InitializeURL and WebSocketURL name them.
	URL           string
	InitializeURL string
	WebSocketURL  string
	// ChatURL is the eGain chat server whose entry point answers the agent
	// availability (ChatURL/system/egain/chat/entrypoint/agentAvailability/
	// EntryPointID). Default URL.
	ChatURL string
	// EntryPointID is the chat entry point that routes the chats.
	EntryPointID string
	// CustomerID is the tenant's customer id from the relay's
	// registration: a secret, sent in base64 as initialize's Authorization
	// and named in every frame. Take it from the environment.
	CustomerID string

	// SummaryAttribute is the attribute that carries the bot's summary to
	// the agent. Default "summary".
	SummaryAttribute string
	// MaxAttributeBytes bounds the hand-off's attributes in all; default
	// 4096 (eGain documents no bound; the kit keeps one).
	MaxAttributeBytes int
	// AgentProfile completes the profile a customer sees of an agent (the
	// relay tells only the agent's name) from a directory of your own.
	AgentProfile func(ctx context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile

	// HTTPClient makes initialize and the availability calls.
	HTTPClient *http.Client
	// Dialer dials the WebSocket.
	Dialer *websocket.Dialer
	// PingInterval is the WebSocket heartbeat. Default 20 s.
	PingInterval time.Duration
	// RequestTimeout bounds one action's wait for its answer. Default 10 s.
	RequestTimeout time.Duration
	// Retries is how many times a failed call is sent again. Default 8.
	Retries int
	// Backoff spaces retries and reconnects. Default 100 ms to 5 s.
	Backoff retry.Backoff
	// Logger defaults to a discarding one.
	Logger *slog.Logger
}

// Kit makes eGain chat desks, one relay session per chat.
type Kit struct {
	cfg   Config
	api   *httpjson.Client // initialize, with the customer id
	chat  *httpjson.Client // the entry point's availability, without it
	init  string
	ws    string
	log   *slog.Logger
	desks vendorkit.Desks[*desk]
}

// New checks cfg and returns a Kit. It does no network work.
func New(cfg Config) (*Kit, error) {
	switch {
	case cfg.URL == "" && (cfg.InitializeURL == "" || cfg.WebSocketURL == ""):
		return nil, errors.New("egain: Config.URL is required")
	case cfg.EntryPointID == "":
		return nil, errors.New("egain: Config.EntryPointID is required")
	case cfg.CustomerID == "":
		return nil, errors.New("egain: Config.CustomerID is required")
	}
	base := strings.TrimSuffix(cfg.URL, "/")
	cfg.InitializeURL = cmp.Or(cfg.InitializeURL, base+"/initialize")
	if cfg.WebSocketURL == "" {
		cfg.WebSocketURL = "ws" + strings.TrimPrefix(base, "http") + "/ws"
	}
	cfg.ChatURL = strings.TrimSuffix(cmp.Or(cfg.ChatURL, base), "/")
	for name, u := range map[string]string{"InitializeURL": cfg.InitializeURL, "WebSocketURL": cfg.WebSocketURL, "ChatURL": cfg.ChatURL} {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || !slices.Contains([]string{"http", "https", "ws", "wss"}, p.Scheme) {
			return nil, fmt.Errorf("egain: Config.%s %q: not an http(s) or ws(s) URL", name, u)
		}
	}
	cfg.SummaryAttribute = cmp.Or(cfg.SummaryAttribute, "summary")
	cfg.MaxAttributeBytes = cmp.Or(cfg.MaxAttributeBytes, 4096)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	}
	if cfg.Dialer == nil {
		cfg.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	}
	cfg.PingInterval = cmp.Or(cfg.PingInterval, 20*time.Second)
	cfg.RequestTimeout = cmp.Or(cfg.RequestTimeout, 10*time.Second)
	cfg.Retries = cmp.Or(cfg.Retries, 8)
	if cfg.Backoff == (retry.Backoff{}) {
		cfg.Backoff = retry.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	auth := http.Header{"Authorization": {base64.StdEncoding.EncodeToString([]byte(cfg.CustomerID))}}
	k := &Kit{cfg: cfg, init: cfg.InitializeURL, ws: cfg.WebSocketURL, log: cfg.Logger.With("kit", "egain"),
		api:  &httpjson.Client{Name: "egain", HTTP: cfg.HTTPClient, Header: auth},
		chat: &httpjson.Client{Name: "egain", Base: cfg.ChatURL, HTTP: cfg.HTTPClient}}
	return k, nil
}

// Factory builds the desk of one chat session; it has the
// servicedesk.Factory signature. It does no network work.
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, "egain", func() (*desk, error) { return newDesk(k, p) })
}

// Close closes every desk the kit made that is still open. It is
// idempotent.
func (k *Kit) Close() error { return k.desks.Close() }

func (k *Kit) policy() retry.Policy {
	return retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}
}

// online asks the entry point whether an agent is available.
func (k *Kit) online(ctx context.Context) (bool, error) {
	var raw []byte
	path := "/system/egain/chat/entrypoint/agentAvailability/" + url.PathEscape(k.cfg.EntryPointID)
	err := k.chat.Retry(ctx, k.policy(), httpjson.Call{Op: "agentAvailability", Method: http.MethodGet, Path: path, Out: &raw}, nil, k.log)
	if err != nil {
		return false, err
	}
	return wire.DecodeAvailability(raw)
}

// initialize starts a relay session: its token.
func (k *Kit) initialize(ctx context.Context, req wire.InitRequest) (string, error) {
	var out wire.InitResponse
	err := k.api.Retry(ctx, k.policy(), httpjson.Call{Op: "initialize", Method: http.MethodPost, Path: k.init, Body: req, Out: &out}, nil, k.log)
	if err != nil {
		return "", err
	}
	if out.SessionToken == "" {
		return "", fmt.Errorf("egain: initialize: %w: no sessionToken in the answer", servicedesk.ErrUnavailable)
	}
	return out.SessionToken, nil
}
