package livechat

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

// Config configures the kit. OrganizationID, ClientID and AgentToken are
// required (or CustomerToken instead of the last two).
type Config struct {
	// OrganizationID is the LiveChat organization (the organization_id
	// query parameter of every Customer Chat API call).
	OrganizationID string
	// ClientID is the LiveChat app's client id, for the customer token
	// grant.
	ClientID string
	// AgentToken returns an agent access token with the customers:own
	// scope: the kit acts for many customers through the "agent token
	// grant", which makes one customer identity per chat session and
	// issues its customer access tokens. Keep it out of files: read it
	// from the environment or a secret store.
	AgentToken func(ctx context.Context) (string, error)
	// CustomerToken, when set, replaces the agent token grant: it returns
	// a customer access token for the identity entityID ("" for a new
	// one), the identity's id and when the token expires.
	CustomerToken func(ctx context.Context, entityID string) (token, entity string, expires time.Time, err error)
	// GroupID routes chats to one group and is the group whose status
	// answers "any agent online?"; 0 is the default group.
	GroupID int

	// APIURL is https://api.livechatinc.com (the RTM socket is its
	// /v3.6/customer/rtm/ws, the Web API its /v3.6/customer/action/...);
	// AccountsURL is https://accounts.livechat.com. Override them for tests
	// and proxies.
	APIURL      string
	AccountsURL string

	// HTTPClient makes the token grant, availability and upload calls.
	HTTPClient *http.Client
	// Dialer dials the RTM socket.
	Dialer *websocket.Dialer
	// PingInterval is the RTM ping (LiveChat: every 15 s, or the connection
	// closes after about 30 s). Default 15 s.
	PingInterval time.Duration
	// RequestTimeout bounds one request's wait for its answer. Default
	// 15 s, LiveChat's own request timeout.
	RequestTimeout time.Duration
	// Retries is how many times a failed request is sent again. Default 8.
	Retries int
	// Backoff spaces retries and reconnects. Default 100 ms to 5 s.
	Backoff retry.Backoff
	// Logger defaults to a discarding one.
	Logger *slog.Logger
}

// Kit makes LiveChat desks, one customer identity per chat session.
type Kit struct {
	cfg   Config
	rtm   string // the RTM socket's URL
	api   string // the Web API's base, .../v3.6/customer/action
	log   *slog.Logger
	desks vendorkit.Desks[*desk]
}

// MaxFileBytes is upload_file's limit (10 MB).
const MaxFileBytes = 10 << 20

// New checks cfg and returns a Kit. It does no network work.
func New(cfg Config) (*Kit, error) {
	if cfg.OrganizationID == "" {
		return nil, errors.New("livechat: Config.OrganizationID is required")
	}
	if cfg.CustomerToken == nil && (cfg.ClientID == "" || cfg.AgentToken == nil) {
		return nil, errors.New("livechat: Config.ClientID and Config.AgentToken are required (or Config.CustomerToken)")
	}
	cfg.APIURL = strings.TrimSuffix(cmp.Or(cfg.APIURL, "https://api.livechatinc.com"), "/")
	cfg.AccountsURL = strings.TrimSuffix(cmp.Or(cfg.AccountsURL, "https://accounts.livechat.com"), "/")
	u, err := url.Parse(cfg.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("livechat: Config.APIURL %q: want an http(s) URL", cfg.APIURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 60 * time.Second}
	}
	if cfg.Dialer == nil {
		cfg.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	}
	cfg.PingInterval = cmp.Or(cfg.PingInterval, 15*time.Second)
	cfg.RequestTimeout = cmp.Or(cfg.RequestTimeout, 15*time.Second)
	cfg.Retries = cmp.Or(cfg.Retries, 8)
	if cfg.Backoff == (retry.Backoff{}) {
		cfg.Backoff = retry.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	ws := *u
	ws.Scheme = map[string]string{"https": "wss", "http": "ws"}[u.Scheme]
	ws.Path = strings.TrimSuffix(ws.Path, "/") + "/v3.6/customer/rtm/ws"
	ws.RawQuery = url.Values{"organization_id": {cfg.OrganizationID}}.Encode()
	return &Kit{cfg: cfg, rtm: ws.String(), api: cfg.APIURL + "/v3.6/customer/action", log: cfg.Logger.With("kit", "livechat")}, nil
}

// Factory builds the desk of one chat session; it has the
// servicedesk.Factory signature. It does no network work.
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, "livechat", func() (*desk, error) { return newDesk(k, p) })
}

// Close closes every desk the kit made that is still open. It is
// idempotent.
func (k *Kit) Close() error { return k.desks.Close() }
