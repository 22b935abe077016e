package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/gateway"
)

// serveConfig is deskbridge serve's configuration. Sources, later ones
// winning: defaults, the JSON config file, DESKBRIDGE_* environment
// variables, flags (serveSettings names each setting's). Secrets are read
// from the environment only.
type serveConfig struct {
	ConfigFile     string
	Kit            string
	DeskURL        string
	Listen         string
	PublicURL      string
	AllowedOrigins []string
	LogLevel       string
	LogFormat      string
	Store          string
	DataDir        string
	InstanceID     string
	LeaseTTL       duration
	PprofListen    string
	Limits         limits
	TokenSecret    string
	Identity       identitySettings
	Redact         []string
	// KitSettings are the kit's own settings, by variable.
	KitSettings map[string]string

	reader *settingsReader[serveConfig]
}

type limits struct {
	MaxFrameBytes  int64
	RatePerSecond  float64
	Burst          int
	MaxUploadBytes int64
	UploadTypes    string
	MaxSessions    int
	// Per client address; negative: no bound.
	MaxConnsPerAddr      int
	NewSessionsPerMinute int
	TrustedProxies       []string
	AllowedHosts         []string
	StartChatsPerMinute  int
	DeskOpsPerMinute     int
	MaxChatDuration      duration
	MaxMessageBytes      int
	MaxChatUploadBytes   int64
	MaxUploadBytesTotal  int64
	MaxUploadsInFlight   int
	MaxHistoryBytes      int64
	TokenTTL             duration
	MaxTranscriptTurns   int
	MaxTranscriptBytes   int
	EndedChatHistory     duration
}

// serveUsage is serve's help text, made from serveSettings and the kits.
func serveUsage(w io.Writer) {
	fmt.Fprint(w, `usage: deskbridge serve [flags]

Runs the gateway for a real desk. Each setting comes from its flag, else its
DESKBRIDGE_* environment variable, else its member of the JSON file given by
--config, else its default.

flags:
`)
	printSettings(w, serveSettings)
	fmt.Fprint(w, "\nfrom the environment only:\n")
	printEnvOnly(w, serveSettings, "  ")
	fmt.Fprint(w, "\nkits (--kit):\n")
	for _, k := range kitRegistry {
		about := k.About
		if k.NeedsDeskURL {
			about += "; needs --desk-url"
		}
		fmt.Fprintf(w, "  %s\n", k.Name)
		wrap(w, "      ", about)
		printEnvOnly(w, k.Settings, "      ")
	}
}

// loadServeConfig reads the sources and validates the result.
func loadServeConfig(args []string, out io.Writer, getenv func(string) string) (serveConfig, error) {
	c, r, err := readSettings("serve", serveSettings, serveUsage, args, out, getenv)
	cfg := *c
	cfg.reader = r
	if err != nil {
		return cfg, err
	}
	// The kit first: the rest of the checks depend on it.
	spec, ok := lookupKit(cfg.Kit)
	if !ok {
		return cfg, unknownKit(cfg.Kit, r.sourceOf("kit"))
	}
	cfg.Kit = spec.Name
	cfg.KitSettings = kitSettings(spec, getenv)
	if cfg.DataDir == "" {
		cfg.DataDir = defaultDataDir(getenv)
	}
	if cfg.InstanceID == "" {
		host, _ := os.Hostname()
		_, port, _ := net.SplitHostPort(cfg.Listen)
		cfg.InstanceID = cmp.Or(host, "deskbridge") + ":" + port
	}
	return cfg, cfg.validate(spec)
}

func (c serveConfig) validate(spec kitSpec) error {
	var errs []error
	from := c.reader.sourceOf
	if c.DeskURL == "" {
		if spec.NeedsDeskURL {
			errs = append(errs, fmt.Errorf("kit %s needs the desk's URL: set %s", spec.Name, c.reader.row("desk-url").howToSet()))
		}
	} else if u, err := url.Parse(c.DeskURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("desk URL %q (from %s): want http://host or https://host", c.DeskURL, from("desk-url")))
	}
	if err := checkKitSettings(spec, c.KitSettings, c.DeskURL); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q (from %s): want HOST:PORT, such as 0.0.0.0:8080", c.Listen, from("listen")))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public URL %q (from %s): want http://host or https://host", c.PublicURL, from("public-url")))
		}
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			errs = append(errs, fmt.Errorf(`allowed origins (from %s): "*" is not supported; list each page origin`, from("allowed-origins")))
		} else if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("allowed origin %q (from %s): want scheme://host[:port], such as https://shop.example.com", o, from("allowed-origins")))
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("log level %q (from %s): want debug, info, warn or error", c.LogLevel, from("log-level")))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("log format %q (from %s): want json or text", c.LogFormat, from("log-format")))
	}
	if _, err := parseStoreSpec(c.Store, c.DataDir); err != nil {
		errs = append(errs, fmt.Errorf("%w (from %s)", err, from("store")))
	}
	if strings.Contains(c.InstanceID, "|") {
		errs = append(errs, fmt.Errorf("instance id %q (from %s): may not contain '|'", c.InstanceID, from("instance-id")))
	}
	if c.LeaseTTL != 0 && time.Duration(c.LeaseTTL) < time.Second {
		errs = append(errs, fmt.Errorf("lease TTL %v (from %s): use at least 1s", time.Duration(c.LeaseTTL), from("lease-ttl")))
	}
	if _, err := redactor(c.Redact); err != nil {
		errs = append(errs, fmt.Errorf("%w (from %s)", err, from("redact")))
	}
	if err := c.Identity.check(); err != nil {
		errs = append(errs, err)
	}
	if c.TokenSecret != "" && len(c.TokenSecret) < 32 {
		errs = append(errs, errors.New("DESKBRIDGE_TOKEN_SECRET: use at least 32 characters (head -c 32 /dev/urandom | base64 makes one)"))
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
			log.Warn("deskbridge: DESKBRIDGE_TOKEN_SECRET is not set and sessions are kept in memory: session tokens die with the process")
		} else {
			secret, err := tokenSecretFile(cfg.DataDir, log)
			if err != nil {
				return err
			}
			path := filepath.Join(cfg.DataDir, "token-secret")
			cfg.TokenSecret = string(secret)
			if spec.kind == "redis" {
				log.Warn("deskbridge: DESKBRIDGE_TOKEN_SECRET is not set: this instance signs session tokens with its own secret, so they are not valid on other instances; give every instance the same DESKBRIDGE_TOKEN_SECRET", "path", path)
			} else {
				log.Warn("deskbridge: DESKBRIDGE_TOKEN_SECRET is not set: session tokens are signed with the secret kept in the data directory, and outlive a restart only as long as that file does (in a container, keep the data directory on a volume)", "path", path)
			}
		}
	}
	uploadDir, err := prepareUploadDir(filepath.Join(cfg.DataDir, "uploading"))
	if err != nil {
		log.Warn("deskbridge: uploads are received into the system's temporary directory", "err", err)
	}
	ids, err := cfg.Identity.verifier()
	if err != nil {
		return err
	}
	red, _ := redactor(cfg.Redact) // validated
	srv, err := startServer(serverConfig{
		Listen: cfg.Listen,
		Kit:    kitConfig{Name: cfg.Kit, DeskURL: cfg.DeskURL, PublicURL: cfg.PublicURL, Settings: cfg.KitSettings, Logger: log},
		Gateway: gateway.Options{
			AllowedOrigins: cfg.AllowedOrigins,
			TokenSecret:    []byte(cfg.TokenSecret),
			MaxFrameBytes:  cfg.Limits.MaxFrameBytes,
			RatePerSecond:  cfg.Limits.RatePerSecond,
			Burst:          cfg.Limits.Burst,
			MaxUploadBytes: cfg.Limits.MaxUploadBytes,
			UploadTypes:    cfg.Limits.UploadTypes,

			MaxConnsPerAddr:      cfg.Limits.MaxConnsPerAddr,
			NewSessionsPerMinute: cfg.Limits.NewSessionsPerMinute,
			TrustedProxies:       cfg.Limits.TrustedProxies,
			AllowedHosts:         cfg.Limits.AllowedHosts,
			StartChatsPerMinute:  cfg.Limits.StartChatsPerMinute,
			DeskOpsPerMinute:     cfg.Limits.DeskOpsPerMinute,
			MaxMessageBytes:      cfg.Limits.MaxMessageBytes,
			MaxChatUploadBytes:   cfg.Limits.MaxChatUploadBytes,
			MaxUploadBytesTotal:  cfg.Limits.MaxUploadBytesTotal,
			MaxUploadsInFlight:   cfg.Limits.MaxUploadsInFlight,
			UploadDir:            uploadDir,
			MaxHistoryBytes:      cfg.Limits.MaxHistoryBytes,
			TokenTTL:             time.Duration(cfg.Limits.TokenTTL),
			Identity:             ids,
			RequireIdentity:      cfg.Identity.Required == "true",
			EndedChatHistory:     time.Duration(cfg.Limits.EndedChatHistory),
		},
		Flow: flow.Options{Store: store, Logger: log.With("component", "flow"),
			MaxSessions: cfg.Limits.MaxSessions, MaxChatDuration: time.Duration(cfg.Limits.MaxChatDuration),
			Redactor: red, MaxTranscriptTurns: cfg.Limits.MaxTranscriptTurns, MaxTranscriptBytes: cfg.Limits.MaxTranscriptBytes},
		LeaseTTL: time.Duration(cfg.LeaseTTL),
		Logger:   log,
	})
	if err != nil {
		return err
	}
	if cfg.PprofListen != "" {
		stop, err := servePprof(cfg.PprofListen, log)
		if err != nil {
			_ = srv.shutdown(context.Background())
			return err
		}
		defer stop()
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
