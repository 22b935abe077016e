package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/gateway"
)

// serveConfig is deskbridge serve's configuration. Sources, later ones
// winning: defaults, the JSON config file, DESKBRIDGE_* environment
// variables, flags. Secrets are read from the environment only.
type serveConfig struct {
	Kit            string   `json:"kit"`
	DeskURL        string   `json:"desk_url"`
	Listen         string   `json:"listen"`
	PublicURL      string   `json:"public_url"`
	AllowedOrigins []string `json:"allowed_origins"`
	LogLevel       string   `json:"log_level"`
	LogFormat      string   `json:"log_format"`
	Store          string   `json:"store"`
	DataDir        string   `json:"data_dir"`
	InstanceID     string   `json:"instance_id"`
	LeaseTTL       duration `json:"lease_ttl"`
	Limits         limits   `json:"limits"`

	// From the environment only.
	TokenSecret   string `json:"-"`
	WebhookSecret string `json:"-"`
}

type limits struct {
	MaxFrameBytes  int64   `json:"max_frame_bytes,omitempty"`
	RatePerSecond  float64 `json:"rate_per_second,omitempty"`
	Burst          int     `json:"burst,omitempty"`
	MaxUploadBytes int64   `json:"max_upload_bytes,omitempty"`
	UploadTypes    string  `json:"upload_types,omitempty"`
	MaxSessions    int     `json:"max_sessions,omitempty"`
	// Per client address; negative: no bound.
	MaxConnsPerAddr      int      `json:"max_conns_per_addr,omitempty"`
	NewSessionsPerMinute int      `json:"new_sessions_per_minute,omitempty"`
	TrustedProxies       []string `json:"trusted_proxies,omitempty"`
}

func defaultServeConfig() serveConfig {
	return serveConfig{Kit: "websocket", Listen: "127.0.0.1:8080", LogLevel: "info", LogFormat: "json"}
}

// loadServeConfig reads the three sources.
func loadServeConfig(args []string, out io.Writer, getenv func(string) string) (serveConfig, error) {
	cfg := defaultServeConfig()
	fs := flag.NewFlagSet("deskbridge serve", flag.ContinueOnError)
	fs.SetOutput(out)
	configPath := fs.String("config", getenv("DESKBRIDGE_CONFIG"), "JSON config file (DESKBRIDGE_CONFIG)")
	var f serveConfig
	var origins string
	fs.StringVar(&f.Kit, "kit", "", "desk kit: "+strings.Join(kitNames, ", ")+" (DESKBRIDGE_KIT; default websocket)")
	fs.StringVar(&f.DeskURL, "desk-url", "", "the desk's base URL (DESKBRIDGE_DESK_URL)")
	fs.StringVar(&f.Listen, "listen", "", "listen address (DESKBRIDGE_LISTEN; default 127.0.0.1:8080)")
	fs.StringVar(&f.PublicURL, "public-url", "", "this server's URL as the desk reaches it, for webhooks (DESKBRIDGE_PUBLIC_URL)")
	fs.StringVar(&origins, "allowed-origins", "", "comma-separated page origins allowed to connect (DESKBRIDGE_ALLOWED_ORIGINS)")
	fs.StringVar(&f.LogLevel, "log-level", "", "debug, info, warn, error (DESKBRIDGE_LOG_LEVEL)")
	fs.StringVar(&f.LogFormat, "log-format", "", "json or text (DESKBRIDGE_LOG_FORMAT)")
	fs.StringVar(&f.Store, "store", "", "where sessions are kept: memory, file:PATH or redis://host:port/db (DESKBRIDGE_STORE; default file:DATA-DIR/deskbridge.db)")
	fs.StringVar(&f.InstanceID, "instance-id", "", "this instance's name among those sharing a Redis store: unique, stable across restarts (DESKBRIDGE_INSTANCE_ID; default host name and listen port)")
	fs.Var(&f.LeaseTTL, "lease-ttl", "how long an instance owns a chat without renewing (Redis store; DESKBRIDGE_LEASE_TTL; default 10s): how soon another takes over the chats of one that died")
	fs.StringVar(&f.DataDir, "data-dir", "", "directory for the default store, its files and a generated token secret (DESKBRIDGE_DATA_DIR; default $XDG_STATE_HOME/deskbridge or ~/.local/state/deskbridge)")
	fs.Int64Var(&f.Limits.MaxFrameBytes, "max-frame-bytes", 0, "largest browser frame (DESKBRIDGE_MAX_FRAME_BYTES; default 65536)")
	fs.Float64Var(&f.Limits.RatePerSecond, "rate", 0, "frames a second per socket (DESKBRIDGE_RATE; default 20)")
	fs.IntVar(&f.Limits.Burst, "burst", 0, "frame burst per socket (DESKBRIDGE_BURST; default 40)")
	fs.Int64Var(&f.Limits.MaxUploadBytes, "max-upload-bytes", 0, "largest uploaded file (DESKBRIDGE_MAX_UPLOAD_BYTES; default 10 MiB)")
	fs.StringVar(&f.Limits.UploadTypes, "upload-types", "", `allowed upload types, HTML accept syntax (DESKBRIDGE_UPLOAD_TYPES; default "image/*,.pdf,.txt")`)
	fs.IntVar(&f.Limits.MaxSessions, "max-sessions", 0, "most live sessions (DESKBRIDGE_MAX_SESSIONS; default 100000)")
	fs.IntVar(&f.Limits.MaxConnsPerAddr, "max-conns-per-addr", 0, "most sockets open at once from one client address, an IPv4 address or IPv6 /64 (DESKBRIDGE_MAX_CONNS_PER_ADDR; default 100; -1: no bound)")
	fs.IntVar(&f.Limits.NewSessionsPerMinute, "new-sessions-per-minute", 0, "most new sessions a minute from one client address (DESKBRIDGE_NEW_SESSIONS_PER_MINUTE; default 60; -1: no bound)")
	var proxies string
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated proxy addresses or CIDR prefixes whose X-Forwarded-For names the client (DESKBRIDGE_TRUSTED_PROXIES)")
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: deskbridge serve [flags]\n\nSecrets come from the environment only: DESKBRIDGE_TOKEN_SECRET (session tokens; set it so tokens survive a restart), DESKBRIDGE_WEBHOOK_SECRET (desk webhooks).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if *configPath != "" {
		b, err := os.ReadFile(*configPath)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w (secrets belong in the environment)", *configPath, err)
		}
	}
	var errs []error
	env := func(name string, set func(string) error) {
		if v := getenv(name); v != "" {
			if err := set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	str := func(p *string) func(string) error { return func(v string) error { *p = v; return nil } }
	i64 := func(p *int64) func(string) error {
		return func(v string) (err error) { *p, err = strconv.ParseInt(v, 10, 64); return err }
	}
	env("DESKBRIDGE_KIT", str(&cfg.Kit))
	env("DESKBRIDGE_DESK_URL", str(&cfg.DeskURL))
	env("DESKBRIDGE_LISTEN", str(&cfg.Listen))
	env("DESKBRIDGE_PUBLIC_URL", str(&cfg.PublicURL))
	env("DESKBRIDGE_ALLOWED_ORIGINS", func(v string) error { cfg.AllowedOrigins = splitList(v); return nil })
	env("DESKBRIDGE_LOG_LEVEL", str(&cfg.LogLevel))
	env("DESKBRIDGE_LOG_FORMAT", str(&cfg.LogFormat))
	env("DESKBRIDGE_STORE", str(&cfg.Store))
	env("DESKBRIDGE_DATA_DIR", str(&cfg.DataDir))
	env("DESKBRIDGE_INSTANCE_ID", str(&cfg.InstanceID))
	env("DESKBRIDGE_LEASE_TTL", cfg.LeaseTTL.Set)
	env("DESKBRIDGE_MAX_FRAME_BYTES", i64(&cfg.Limits.MaxFrameBytes))
	env("DESKBRIDGE_RATE", func(v string) (err error) { cfg.Limits.RatePerSecond, err = strconv.ParseFloat(v, 64); return err })
	env("DESKBRIDGE_BURST", func(v string) (err error) { cfg.Limits.Burst, err = strconv.Atoi(v); return err })
	env("DESKBRIDGE_MAX_UPLOAD_BYTES", i64(&cfg.Limits.MaxUploadBytes))
	env("DESKBRIDGE_UPLOAD_TYPES", str(&cfg.Limits.UploadTypes))
	env("DESKBRIDGE_MAX_SESSIONS", func(v string) (err error) { cfg.Limits.MaxSessions, err = strconv.Atoi(v); return err })
	env("DESKBRIDGE_MAX_CONNS_PER_ADDR", func(v string) (err error) { cfg.Limits.MaxConnsPerAddr, err = strconv.Atoi(v); return err })
	env("DESKBRIDGE_NEW_SESSIONS_PER_MINUTE", func(v string) (err error) { cfg.Limits.NewSessionsPerMinute, err = strconv.Atoi(v); return err })
	env("DESKBRIDGE_TRUSTED_PROXIES", func(v string) error { cfg.Limits.TrustedProxies = splitList(v); return nil })
	cfg.TokenSecret = getenv("DESKBRIDGE_TOKEN_SECRET")
	cfg.WebhookSecret = getenv("DESKBRIDGE_WEBHOOK_SECRET")
	if err := errors.Join(errs...); err != nil {
		return cfg, err
	}

	// Flags win.
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "kit":
			cfg.Kit = f.Kit
		case "desk-url":
			cfg.DeskURL = f.DeskURL
		case "listen":
			cfg.Listen = f.Listen
		case "public-url":
			cfg.PublicURL = f.PublicURL
		case "allowed-origins":
			cfg.AllowedOrigins = splitList(origins)
		case "log-level":
			cfg.LogLevel = f.LogLevel
		case "log-format":
			cfg.LogFormat = f.LogFormat
		case "store":
			cfg.Store = f.Store
		case "data-dir":
			cfg.DataDir = f.DataDir
		case "instance-id":
			cfg.InstanceID = f.InstanceID
		case "lease-ttl":
			cfg.LeaseTTL = f.LeaseTTL
		case "max-frame-bytes":
			cfg.Limits.MaxFrameBytes = f.Limits.MaxFrameBytes
		case "rate":
			cfg.Limits.RatePerSecond = f.Limits.RatePerSecond
		case "burst":
			cfg.Limits.Burst = f.Limits.Burst
		case "max-upload-bytes":
			cfg.Limits.MaxUploadBytes = f.Limits.MaxUploadBytes
		case "upload-types":
			cfg.Limits.UploadTypes = f.Limits.UploadTypes
		case "max-sessions":
			cfg.Limits.MaxSessions = f.Limits.MaxSessions
		case "max-conns-per-addr":
			cfg.Limits.MaxConnsPerAddr = f.Limits.MaxConnsPerAddr
		case "new-sessions-per-minute":
			cfg.Limits.NewSessionsPerMinute = f.Limits.NewSessionsPerMinute
		case "trusted-proxies":
			cfg.Limits.TrustedProxies = splitList(proxies)
		}
	})
	if cfg.DataDir == "" {
		cfg.DataDir = defaultDataDir(getenv)
	}
	if cfg.InstanceID == "" {
		host, _ := os.Hostname()
		_, port, _ := net.SplitHostPort(cfg.Listen)
		cfg.InstanceID = cmp.Or(host, "deskbridge") + ":" + port
	}
	return cfg, cfg.validate()
}

func (c serveConfig) validate() error {
	var errs []error
	if c.DeskURL == "" {
		if !vendorKit(c.Kit) {
			errs = append(errs, errors.New("the desk URL is required (--desk-url or DESKBRIDGE_DESK_URL)"))
		}
	} else if u, err := url.Parse(c.DeskURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("desk URL %q: want http(s)://host", c.DeskURL))
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			errs = append(errs, errors.New(`allowed origins: "*" is not supported; list each page origin`))
		} else if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("allowed origin %q: want scheme://host[:port]", o))
		}
	}
	if _, err := parseStoreSpec(c.Store, c.DataDir); err != nil {
		errs = append(errs, err)
	}
	if strings.Contains(c.InstanceID, "|") {
		errs = append(errs, fmt.Errorf("instance id %q: may not contain '|'", c.InstanceID))
	}
	if c.LeaseTTL != 0 && time.Duration(c.LeaseTTL) < time.Second {
		errs = append(errs, fmt.Errorf("lease TTL %v: use at least 1s", time.Duration(c.LeaseTTL)))
	}
	if c.TokenSecret != "" && len(c.TokenSecret) < 32 {
		errs = append(errs, errors.New("DESKBRIDGE_TOKEN_SECRET: use at least 32 characters"))
	}
	return errors.Join(errs...)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runServe(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	cfg, err := loadServeConfig(args, out, getenv)
	if err != nil {
		return err
	}
	log, err := newLogger(out, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	spec, _ := parseStoreSpec(cfg.Store, cfg.DataDir) // validated
	store, err := openStore(ctx, spec, storeOptions{Instance: cfg.InstanceID, LeaseTTL: time.Duration(cfg.LeaseTTL)}, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := closeStore(store); err != nil {
			log.Error("deskbridge: close the store", "store", spec.String(), "err", err)
		}
	}()
	if cfg.TokenSecret == "" {
		if !spec.persists() {
			log.Warn("deskbridge: DESKBRIDGE_TOKEN_SECRET is not set: session tokens die with the process")
		} else {
			secret, err := tokenSecretFile(cfg.DataDir, log)
			if err != nil {
				return err
			}
			cfg.TokenSecret = string(secret)
			if spec.kind == "redis" {
				log.Warn("deskbridge: DESKBRIDGE_TOKEN_SECRET is not set: this instance made its own, so its tokens are not valid on other instances; give every instance the same secret")
			}
		}
	}
	srv, err := startServer(serverConfig{
		Listen: cfg.Listen,
		Kit:    kitConfig{Name: cfg.Kit, DeskURL: cfg.DeskURL, PublicURL: cfg.PublicURL, WebhookSecret: cfg.WebhookSecret, Logger: log},
		Gateway: gateway.Options{
			AllowedOrigins: cfg.AllowedOrigins,
			TokenSecret:    []byte(cfg.TokenSecret),
			MaxFrameBytes:  cfg.Limits.MaxFrameBytes,
			RatePerSecond:  cfg.Limits.RatePerSecond,
			Burst:          cfg.Limits.Burst,
			MaxUploadBytes: cfg.Limits.MaxUploadBytes,
			UploadTypes:    cfg.Limits.UploadTypes,
			MaxSessions:    cfg.Limits.MaxSessions,

			MaxConnsPerAddr:      cfg.Limits.MaxConnsPerAddr,
			NewSessionsPerMinute: cfg.Limits.NewSessionsPerMinute,
			TrustedProxies:       cfg.Limits.TrustedProxies,
		},
		Flow:     flow.Options{Store: store, Logger: log.With("component", "flow")},
		LeaseTTL: time.Duration(cfg.LeaseTTL),
		Logger:   log,
	})
	if err != nil {
		return err
	}
	log.Info("deskbridge serving", "url", srv.url, "kit", cfg.Kit, "desk", cfg.DeskURL, "origins", cfg.AllowedOrigins, "store", spec.String(), "instance", cfg.InstanceID, "resumed", srv.resumed)
	<-ctx.Done()
	log.Info("deskbridge draining")
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	return srv.shutdown(sctx)
}

// duration is a time.Duration that reads "10s" from flags, variables and
// JSON.
type duration time.Duration

func (d *duration) String() string { return time.Duration(*d).String() }

func (d *duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 10s: %w", err)
	}
	*d = duration(v)
	return nil
}

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"10s\": %w", err)
	}
	return d.Set(s)
}
