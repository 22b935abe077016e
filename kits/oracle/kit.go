package oracle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/oracle/internal/wire"
)

// Config configures the kit. URL, User and Password are required.
type Config struct {
	// URL is the B2C Service site (https://mysite.custhelp.com), where
	// establishSessions is.
	URL string
	// User and Password are the chat API user's credentials, for
	// establishSessions' Basic authentication: secrets, taken from the
	// environment.
	User, Password string
	// ChatURL, when set, is the chat session server in place of the one
	// establishSessions names (its domain and port, with URL's scheme).
	ChatURL string
	// QueueID routes the chats and is the queue getQueueStats asks about;
	// InterfaceID is the site's interface. Both optional.
	QueueID, InterfaceID int64
	// MaxFieldBytes bounds the hand-off's custom fields in all. Default
	// 4096 (the pages name no bound; the kit keeps one).
	MaxFieldBytes int
	// FieldName maps a hand-off attribute's key onto the site's custom
	// field name (nil: the key as it is).
	FieldName func(key string) string
	// AgentProfile completes the profile of an agent (the chat server
	// tells only a name and a client id) from a directory of your own.
	AgentProfile func(ctx context.Context, p servicedesk.AgentProfile) servicedesk.AgentProfile

	// HTTPClient makes the calls; it must not time out before a held
	// getMessages is answered (30 s). Default: no client timeout, each
	// call bounded by RequestTimeout or PollTimeout.
	HTTPClient *http.Client
	// RequestTimeout bounds one call but getMessages. Default 15 s.
	RequestTimeout time.Duration
	// PollTimeout bounds one held getMessages. Default 45 s.
	PollTimeout time.Duration
	// RefreshBefore is how long before its expiry a JWT is replaced.
	// Default 5 min.
	RefreshBefore time.Duration
	// Retries is how many times a failed call is sent again. Default 8.
	Retries int
	// Backoff spaces retries and polls after a failure. Default 100 ms
	// to 5 s.
	Backoff retry.Backoff
	// Logger defaults to a discarding one.
	Logger *slog.Logger
}

// Kit makes Oracle B2C Service chat desks, one engagement per chat.
type Kit struct {
	cfg   Config
	site  *httpjson.Client // establishSessions, with Basic authentication
	log   *slog.Logger
	desks vendorkit.Desks[*desk]

	mu    sync.Mutex
	avail *session // a session of the kit's own, for getQueueStats
}

// New checks cfg and returns a Kit. It does no network work.
func New(cfg Config) (*Kit, error) {
	switch {
	case cfg.URL == "":
		return nil, errors.New("oracle: Config.URL is required")
	case cfg.User == "" || cfg.Password == "":
		return nil, errors.New("oracle: Config.User and Config.Password are required")
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	cfg.ChatURL = strings.TrimSuffix(cfg.ChatURL, "/")
	for name, u := range map[string]string{"URL": cfg.URL, "ChatURL": cfg.ChatURL} {
		if p, err := url.Parse(u); u != "" && (err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https")) {
			return nil, fmt.Errorf("oracle: Config.%s %q: not an http(s) URL", name, u)
		}
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.HTTPClient == nil {
		// No client timeout: a held getMessages takes up to 30 s, and
		// every call has a deadline of its own.
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if cfg.Backoff == (retry.Backoff{}) {
		cfg.Backoff = retry.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	}
	cfg.MaxFieldBytes, cfg.Retries = cmp.Or(cfg.MaxFieldBytes, 4096), cmp.Or(cfg.Retries, 8)
	cfg.RequestTimeout, cfg.PollTimeout = cmp.Or(cfg.RequestTimeout, 15*time.Second), cmp.Or(cfg.PollTimeout, 45*time.Second)
	cfg.RefreshBefore = cmp.Or(cfg.RefreshBefore, 5*time.Minute)
	basic := &http.Request{Header: http.Header{}}
	basic.SetBasicAuth(cfg.User, cfg.Password)
	site := (&httpjson.Client{Name: "oracle", Base: cfg.URL, HTTP: cfg.HTTPClient, ErrorBody: wire.ErrorBody}).WithHeader(basic.Header)
	return &Kit{cfg: cfg, site: site, log: cfg.Logger.With("kit", "oracle")}, nil
}

// Factory builds the desk of one chat session; it has the
// servicedesk.Factory signature. It does no network work.
func (k *Kit) Factory(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return k.desks.Open(ctx, "oracle", func() (*desk, error) { return newDesk(k, p) })
}

// Close closes every desk the kit made that is still open. It is
// idempotent.
func (k *Kit) Close() error { return k.desks.Close() }

func (k *Kit) policy() retry.Policy {
	return retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}
}

// establish calls establishSessions: a JWT and the chat session server.
func (k *Kit) establish(ctx context.Context, info wire.SessionInformation) (wire.Established, error) {
	info.QueueID, info.InterfaceID = k.cfg.QueueID, k.cfg.InterfaceID
	var raw []byte
	err := k.site.Retry(ctx, k.policy(), httpjson.Call{Op: "establishSessions", Method: http.MethodPost, Path: wire.EstablishPath,
		Body: wire.NewEstablishRequest(info), Out: &raw}, nil, k.log)
	if err != nil {
		return wire.Established{}, err
	}
	e, err := wire.DecodeEstablished(raw)
	if err != nil {
		return e, fmt.Errorf("oracle: %w: %w", servicedesk.ErrUnavailable, err)
	}
	return e, nil
}

// server is the base URL of the consumer API on the chat session server e
// names.
func (k *Kit) server(e wire.Established) string {
	base := k.cfg.ChatURL
	if base == "" {
		scheme, _, _ := strings.Cut(k.cfg.URL, "://")
		base = scheme + "://" + e.Server.Domain
		if e.Server.Port != 0 && !strings.Contains(e.Server.Domain, ":") {
			base += ":" + strconv.Itoa(e.Server.Port)
		}
	}
	return base + "/engagement/api/consumer/" + url.PathEscape(e.SiteName) + "/v1/"
}

// online asks getQueueStats whether an agent can take a chat, with a
// session of the kit's own (renewed as its JWT nears its expiry).
func (k *Kit) online(ctx context.Context) (bool, error) {
	k.mu.Lock()
	s := k.avail
	if s == nil {
		s = &session{k: k}
		k.avail = s
	}
	k.mu.Unlock()
	var out wire.QueueStats
	err := k.policy().Do(ctx, func(int) error {
		return s.call(ctx, "getQueueStats", http.MethodGet, "getQueueStats", nil, &out, false)
	})
	if err != nil {
		return false, err
	}
	return out.Online(), nil
}
