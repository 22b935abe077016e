package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// setting is one setting of a command, named once for every place it can
// be given: its flag, its environment variable and its member of the JSON
// config file. The flags, the usage text, the config-file reader and the
// README's settings list are all made from these rows.
type setting[C any] struct {
	Flag   string // the flag without dashes ("desk-url"); "" for the environment only
	Env    string // DESKBRIDGE_DESK_URL; "" for a flag only
	Member string // the config-file member ("desk_url", "limits.burst"); "" when a file cannot set it
	Arg    string // the value's placeholder in the usage text (URL, N)
	// Default is applied when no source sets the setting, read like an
	// environment value. Shown says what applies otherwise (computed
	// defaults, the gateway's own).
	Default string
	Shown   string
	Usage   string
	// Secret settings come from the environment only.
	Secret bool
	// Required (kit settings) must be set unless the kit runs against a
	// mock-desk face (--desk-url).
	Required bool
	// field returns a pointer to the value in the command's config:
	// *string, *[]string, *int, *int64, *float64 or *duration.
	field func(c *C) any
}

// serveSettings is deskbridge serve's table of settings. A new setting is
// one row here and one field in serveConfig; kits' own settings are in
// their kitSpec.
var serveSettings = []setting[serveConfig]{
	{Flag: "config", Env: "DESKBRIDGE_CONFIG", Arg: "FILE", Usage: "a JSON file of settings (the members named here)",
		field: func(c *serveConfig) any { return &c.ConfigFile }},
	{Flag: "kit", Env: "DESKBRIDGE_KIT", Member: "kit", Arg: "NAME", Default: "websocket", Usage: "the desk kit (the kits are listed below)",
		field: func(c *serveConfig) any { return &c.Kit }},
	{Flag: "desk-url", Env: "DESKBRIDGE_DESK_URL", Member: "desk_url", Arg: "URL", Usage: "the desk's base URL (the websocket, rest and polling kits)",
		field: func(c *serveConfig) any { return &c.DeskURL }},
	{Flag: "listen", Env: "DESKBRIDGE_LISTEN", Member: "listen", Arg: "HOST:PORT", Default: "127.0.0.1:8080", Usage: "the address to listen on",
		field: func(c *serveConfig) any { return &c.Listen }},
	{Flag: "public-url", Env: "DESKBRIDGE_PUBLIC_URL", Member: "public_url", Arg: "URL", Shown: "http:// and the listen address", Usage: "this server's URL as the desk reaches it, for webhooks (rest kit)",
		field: func(c *serveConfig) any { return &c.PublicURL }},
	{Flag: "allowed-origins", Env: "DESKBRIDGE_ALLOWED_ORIGINS", Member: "allowed_origins", Arg: "ORIGINS", Shown: "only the server's own origin",
		Usage: "page origins allowed to connect, such as https://shop.example.com: comma-separated in the flag and the variable, a JSON array of strings in the file",
		field: func(c *serveConfig) any { return &c.AllowedOrigins }},
	{Flag: "log-level", Env: "DESKBRIDGE_LOG_LEVEL", Member: "log_level", Arg: "LEVEL", Default: "info", Usage: "debug, info, warn or error",
		field: func(c *serveConfig) any { return &c.LogLevel }},
	{Flag: "log-format", Env: "DESKBRIDGE_LOG_FORMAT", Member: "log_format", Arg: "FORMAT", Default: "json", Usage: "json or text",
		field: func(c *serveConfig) any { return &c.LogFormat }},
	{Flag: "store", Env: "DESKBRIDGE_STORE", Member: "store", Arg: "STORE", Shown: "file:DATA_DIR/deskbridge.db",
		Usage: "where sessions are kept: memory, file:PATH or redis://[user:password@]host:port[/db]",
		field: func(c *serveConfig) any { return &c.Store }},
	{Flag: "data-dir", Env: "DESKBRIDGE_DATA_DIR", Member: "data_dir", Arg: "DIR", Shown: "$XDG_STATE_HOME/deskbridge or ~/.local/state/deskbridge",
		Usage: "directory of the default store, its files and a generated token secret (created if missing)",
		field: func(c *serveConfig) any { return &c.DataDir }},
	{Flag: "instance-id", Env: "DESKBRIDGE_INSTANCE_ID", Member: "instance_id", Arg: "ID", Shown: "HOSTNAME:PORT",
		Usage: "this instance's name among those sharing a Redis store: unique, stable across restarts",
		field: func(c *serveConfig) any { return &c.InstanceID }},
	{Flag: "lease-ttl", Env: "DESKBRIDGE_LEASE_TTL", Member: "lease_ttl", Arg: "DURATION", Shown: "10s",
		Usage: "how long an instance owns a chat without renewing (Redis store): how soon another takes over the chats of one that died",
		field: func(c *serveConfig) any { return &c.LeaseTTL }},
	{Flag: "pprof-listen", Env: "DESKBRIDGE_PPROF_LISTEN", Member: "pprof_listen", Arg: "HOST:PORT", Shown: "off",
		Usage: "serve Go's profiles (/debug/pprof/) on this loopback address, apart from the chat server, to see where the CPU and memory go",
		field: func(c *serveConfig) any { return &c.PprofListen }},
	{Flag: "max-frame-bytes", Env: "DESKBRIDGE_MAX_FRAME_BYTES", Member: "limits.max_frame_bytes", Arg: "N", Shown: "65536", Usage: "largest browser frame",
		field: func(c *serveConfig) any { return &c.Limits.MaxFrameBytes }},
	{Flag: "rate", Env: "DESKBRIDGE_RATE", Member: "limits.rate_per_second", Arg: "N", Shown: "20", Usage: "frames a second per socket",
		field: func(c *serveConfig) any { return &c.Limits.RatePerSecond }},
	{Flag: "burst", Env: "DESKBRIDGE_BURST", Member: "limits.burst", Arg: "N", Shown: "40", Usage: "frame burst per socket",
		field: func(c *serveConfig) any { return &c.Limits.Burst }},
	{Flag: "max-upload-bytes", Env: "DESKBRIDGE_MAX_UPLOAD_BYTES", Member: "limits.max_upload_bytes", Arg: "N", Shown: "10485760, 10 MiB", Usage: "largest uploaded file",
		field: func(c *serveConfig) any { return &c.Limits.MaxUploadBytes }},
	{Flag: "upload-types", Env: "DESKBRIDGE_UPLOAD_TYPES", Member: "limits.upload_types", Arg: "TYPES", Shown: "image/*,.pdf,.txt", Usage: "allowed upload types, in HTML accept syntax",
		field: func(c *serveConfig) any { return &c.Limits.UploadTypes }},
	{Flag: "max-sessions", Env: "DESKBRIDGE_MAX_SESSIONS", Member: "limits.max_sessions", Arg: "N", Shown: "100000", Usage: "most live sessions",
		field: func(c *serveConfig) any { return &c.Limits.MaxSessions }},
	{Flag: "max-conns-per-addr", Env: "DESKBRIDGE_MAX_CONNS_PER_ADDR", Member: "limits.max_conns_per_addr", Arg: "N", Shown: "100",
		Usage: "most sockets open at once from one client address, an IPv4 address or IPv6 /64 (-1: no bound)",
		field: func(c *serveConfig) any { return &c.Limits.MaxConnsPerAddr }},
	{Flag: "new-sessions-per-minute", Env: "DESKBRIDGE_NEW_SESSIONS_PER_MINUTE", Member: "limits.new_sessions_per_minute", Arg: "N", Shown: "60",
		Usage: "most new sessions a minute from one client address (-1: no bound)",
		field: func(c *serveConfig) any { return &c.Limits.NewSessionsPerMinute }},
	{Flag: "start-chats-per-minute", Env: "DESKBRIDGE_START_CHATS_PER_MINUTE", Member: "limits.start_chats_per_minute", Arg: "N", Shown: "20",
		Usage: "most chats started a minute from one client address, a quarter as many per session (-1: no bound)",
		field: func(c *serveConfig) any { return &c.Limits.StartChatsPerMinute }},
	{Flag: "desk-ops-per-minute", Env: "DESKBRIDGE_DESK_OPS_PER_MINUTE", Member: "limits.desk_ops_per_minute", Arg: "N", Shown: "120",
		Usage: "most messages and other desk-bound requests a minute per session, ten times as many per client address (-1: no bound)",
		field: func(c *serveConfig) any { return &c.Limits.DeskOpsPerMinute }},
	{Flag: "max-chat-duration", Env: "DESKBRIDGE_MAX_CHAT_DURATION", Member: "limits.max_chat_duration", Arg: "DURATION", Shown: "8h",
		Usage: "a chat is ended this long after it started",
		field: func(c *serveConfig) any { return &c.Limits.MaxChatDuration }},
	{Flag: "max-message-bytes", Env: "DESKBRIDGE_MAX_MESSAGE_BYTES", Member: "limits.max_message_bytes", Arg: "N", Shown: "16384, 16 KiB",
		Usage: "longest text of one user message",
		field: func(c *serveConfig) any { return &c.Limits.MaxMessageBytes }},
	{Flag: "max-chat-upload-bytes", Env: "DESKBRIDGE_MAX_CHAT_UPLOAD_BYTES", Member: "limits.max_chat_upload_bytes", Arg: "N", Shown: "52428800, 50 MiB",
		Usage: "most bytes of one chat's uploads",
		field: func(c *serveConfig) any { return &c.Limits.MaxChatUploadBytes }},
	{Flag: "max-upload-bytes-total", Env: "DESKBRIDGE_MAX_UPLOAD_BYTES_TOTAL", Member: "limits.max_upload_bytes_total", Arg: "N", Shown: "536870912, 512 MiB",
		Usage: "most bytes of all uploads together, kept and being received",
		field: func(c *serveConfig) any { return &c.Limits.MaxUploadBytesTotal }},
	{Flag: "max-uploads-in-flight", Env: "DESKBRIDGE_MAX_UPLOADS_IN_FLIGHT", Member: "limits.max_uploads_in_flight", Arg: "N", Shown: "16",
		Usage: "most uploads being received at once (2 per session)",
		field: func(c *serveConfig) any { return &c.Limits.MaxUploadsInFlight }},
	{Flag: "max-history-bytes", Env: "DESKBRIDGE_MAX_HISTORY_BYTES", Member: "limits.max_history_bytes", Arg: "N", Shown: "1048576, 1 MiB",
		Usage: "most bytes of events one history answer or one resume replay is made of",
		field: func(c *serveConfig) any { return &c.Limits.MaxHistoryBytes }},
	{Flag: "token-ttl", Env: "DESKBRIDGE_TOKEN_TTL", Member: "limits.token_ttl", Arg: "DURATION", Shown: "24h",
		Usage: "how long a session token opens its session (renewed while the tab is open)",
		field: func(c *serveConfig) any { return &c.Limits.TokenTTL }},
	{Flag: "ended-chat-history", Env: "DESKBRIDGE_ENDED_CHAT_HISTORY", Member: "limits.ended_chat_history", Arg: "DURATION", Shown: "10m",
		Usage: "how long after a chat ended its token still reads its transcript (history, resume); never an earlier chat's (negative: nothing once it ended)",
		field: func(c *serveConfig) any { return &c.Limits.EndedChatHistory }},
	{Flag: "trusted-proxies", Env: "DESKBRIDGE_TRUSTED_PROXIES", Member: "limits.trusted_proxies", Arg: "ADDRS", Shown: "none",
		Usage: "proxy addresses or CIDR prefixes whose X-Forwarded-For names the client: comma-separated in the flag and the variable, a JSON array of strings in the file",
		field: func(c *serveConfig) any { return &c.Limits.TrustedProxies }},
	{Flag: "allowed-hosts", Env: "DESKBRIDGE_ALLOWED_HOSTS", Member: "limits.allowed_hosts", Arg: "HOSTS", Shown: "any",
		Usage: "host names this server is reached at; requests under another Host are refused (DNS rebinding): comma-separated in the flag and the variable, a JSON array of strings in the file",
		field: func(c *serveConfig) any { return &c.Limits.AllowedHosts }},
	{Flag: "redact", Env: "DESKBRIDGE_REDACT", Member: "redact", Arg: "RULES", Default: "cards",
		Usage: "what is taken out of the hand-off (summary, bot transcript, context) before the desk gets it: cards (Luhn-checked card numbers), emails, phones, or none: comma-separated in the flag and the variable, a JSON array of strings in the file",
		field: func(c *serveConfig) any { return &c.Redact }},
	{Flag: "max-transcript-turns", Env: "DESKBRIDGE_MAX_TRANSCRIPT_TURNS", Member: "limits.max_transcript_turns", Arg: "N", Shown: "50",
		Usage: "most turns of the bot transcript handed to the desk, the newest (-1: no bound)",
		field: func(c *serveConfig) any { return &c.Limits.MaxTranscriptTurns }},
	{Flag: "max-transcript-bytes", Env: "DESKBRIDGE_MAX_TRANSCRIPT_BYTES", Member: "limits.max_transcript_bytes", Arg: "N", Shown: "32768, 32 KiB",
		Usage: "most bytes of text of the bot transcript handed to the desk (each turn cut at 2 KiB; -1: no bound)",
		field: func(c *serveConfig) any { return &c.Limits.MaxTranscriptBytes }},
	{Flag: "identity-jwks-url", Env: "DESKBRIDGE_IDENTITY_JWKS_URL", Member: "identity.jwks_url", Arg: "URL", Shown: "none",
		Usage: "where the site publishes the RS256/ES256 keys that sign users' identity tokens (JWKS; fetched, cached 10 min, fetched again for a new key id)",
		field: func(c *serveConfig) any { return &c.Identity.JWKSURL }},
	{Flag: "identity-issuer", Env: "DESKBRIDGE_IDENTITY_ISSUER", Member: "identity.issuer", Arg: "ISS",
		Usage: "the iss every identity token must carry (required with identity tokens)",
		field: func(c *serveConfig) any { return &c.Identity.Issuer }},
	{Flag: "identity-audience", Env: "DESKBRIDGE_IDENTITY_AUDIENCE", Member: "identity.audience", Arg: "AUD",
		Usage: "the aud every identity token must carry (required with identity tokens)",
		field: func(c *serveConfig) any { return &c.Identity.Audience }},
	{Flag: "identity-leeway", Env: "DESKBRIDGE_IDENTITY_LEEWAY", Member: "identity.leeway", Arg: "DURATION", Shown: "1m",
		Usage: "clock skew allowed on an identity token's exp, nbf and iat",
		field: func(c *serveConfig) any { return &c.Identity.Leeway }},
	{Flag: "identity-claims", Env: "DESKBRIDGE_IDENTITY_CLAIMS", Member: "identity.claims", Arg: "CLAIMS", Shown: "none",
		Usage: "further identity token claims to hand to the desk as the customer's, each CLAIM or CLAIM=NAME: comma-separated in the flag and the variable, a JSON array of strings in the file",
		field: func(c *serveConfig) any { return &c.Identity.Claims }},
	{Flag: "identity-required", Env: "DESKBRIDGE_IDENTITY_REQUIRED", Member: "identity.required", Arg: "BOOL", Default: "false",
		Usage: "refuse browsers that bring no identity token (true or false)",
		field: func(c *serveConfig) any { return &c.Identity.Required }},
	{Env: "DESKBRIDGE_IDENTITY_SECRET", Secret: true, Shown: "none",
		Usage: "the HS256 key shared with the site that signs users' identity tokens, at least 32 characters (or use a JWKS URL)",
		field: func(c *serveConfig) any { return &c.Identity.Secret }},
	{Env: "DESKBRIDGE_TOKEN_SECRET", Secret: true, Shown: "a secret made once in DATA_DIR/token-secret (file store)",
		Usage: "keys browsers' session tokens, at least 32 characters; the same on every instance sharing a Redis store",
		field: func(c *serveConfig) any { return &c.TokenSecret }},
}

// source says where a setting's value came from, as the operator wrote it.
func (s setting[C]) source(from string) string {
	switch from {
	case "flag":
		return "--" + s.Flag
	case "env":
		return s.Env
	case "default":
		return "the default of --" + s.Flag
	}
	return fmt.Sprintf("member %q of %s", s.Member, from)
}

// howToSet names every place the operator can set s.
func (s setting[C]) howToSet() string {
	var ways []string
	if s.Flag != "" && !s.Secret {
		ways = append(ways, "--"+s.Flag)
	}
	if s.Env != "" {
		ways = append(ways, s.Env)
	}
	if s.Member != "" {
		ways = append(ways, fmt.Sprintf("the config-file member %q", s.Member))
	}
	if len(ways) == 1 {
		return ways[0]
	}
	return strings.Join(ways[:len(ways)-1], ", ") + " or " + ways[len(ways)-1]
}

// shown is what applies when nothing sets the setting.
func (s setting[C]) shown() string { return cmp.Or(s.Default, s.Shown) }

// parseValue reads a flag's or variable's text into the field p.
func parseValue(p any, v string) error {
	switch p := p.(type) {
	case *string:
		*p = v
	case *[]string:
		*p = splitList(v)
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return errors.New("want a whole number")
		}
		*p = n
	case *int64:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return errors.New("want a whole number")
		}
		*p = n
	case *float64:
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return errors.New("want a number")
		}
		*p = n
	case *duration:
		return p.Set(v)
	case *bool:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return errors.New("want true or false")
		}
		*p = b
	default:
		panic(fmt.Sprintf("setting of type %T", p))
	}
	return nil
}

// wantJSON says what a config-file member of field p must hold.
func wantJSON(p any) string {
	switch p.(type) {
	case *string:
		return "a string"
	case *[]string:
		return `a JSON array of strings, such as ["https://shop.example.com"]`
	case *int, *int64:
		return "a whole number"
	case *float64:
		return "a number"
	case *duration:
		return `a duration string, such as "10s"`
	case *bool:
		return "true or false"
	}
	return "a value"
}

// settingsReader collects a command's settings from its sources: defaults,
// the config file, the environment, flags, later ones winning.
type settingsReader[C any] struct {
	rows  []setting[C]
	flags map[string]string // flag name → text, as given
	order []string          // flags in the order given
	from  map[string]string // env var or flag name → where its value came from
}

// flagSet registers every row's flag; values are applied later, so that
// an error can name the flag the operator typed.
func (r *settingsReader[C]) flagSet(name string, out io.Writer, usage func(io.Writer)) *flag.FlagSet {
	r.flags = map[string]string{}
	r.from = map[string]string{}
	set := flag.NewFlagSet(name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	set.Usage = func() { usage(out) }
	for _, s := range r.rows {
		if s.Flag == "" || s.Secret {
			continue
		}
		record := func(v string) error {
			if _, again := r.flags[s.Flag]; !again {
				r.order = append(r.order, s.Flag)
			}
			r.flags[s.Flag] = v
			return nil
		}
		var zero C
		if _, isBool := s.field(&zero).(*bool); isBool {
			set.BoolFunc(s.Flag, s.Usage, record) // --carbon, --carbon=false
		} else {
			set.Func(s.Flag, s.Usage, record)
		}
	}
	return set
}

// readSettings parses a command's flags and reads its settings from every
// source into a new config.
func readSettings[C any](cmd string, rows []setting[C], usage func(io.Writer), args []string, out io.Writer, getenv func(string) string) (*C, *settingsReader[C], error) {
	r := &settingsReader[C]{rows: rows}
	set := r.flagSet("deskbridge "+cmd, out, usage)
	c := new(C)
	if err := r.parseFlags(set, cmd, args); err != nil {
		return c, r, err
	}
	return c, r, r.apply(c, getenv)
}

// parseFlags parses args, and words flag errors for a person.
func (r *settingsReader[C]) parseFlags(fs *flag.FlagSet, cmd string, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		msg := strings.Replace(err.Error(), "flag provided but not defined: -", "unknown flag --", 1)
		return fmt.Errorf("%s: %s (deskbridge help %s lists the flags)", cmd, msg, cmd)
	case fs.NArg() > 0:
		return fmt.Errorf("%s: unexpected argument %q: every setting is a flag (deskbridge help %s lists them)", cmd, fs.Arg(0), cmd)
	}
	return nil
}

func (r *settingsReader[C]) row(key string) setting[C] {
	for _, s := range r.rows {
		if s.Flag == key || s.Env == key {
			return s
		}
	}
	panic("no setting " + key)
}

func key[C any](s setting[C]) string { return cmp.Or(s.Flag, s.Env) }

// sourceOf says where the setting named by its flag (or variable) was set.
func (r *settingsReader[C]) sourceOf(name string) string {
	s := r.row(name)
	return s.source(cmp.Or(r.from[key(s)], "default"))
}

// apply fills c from defaults, the file, the environment and the flags.
func (r *settingsReader[C]) apply(c *C, getenv func(string) string) error {
	var errs []error
	for _, s := range r.rows {
		if s.Default != "" {
			if err := parseValue(s.field(c), s.Default); err != nil {
				panic(fmt.Sprintf("default of %s: %v", key(s), err))
			}
		}
	}
	// The config file, when the command has one, is named by its flag or
	// variable, and read first.
	if i := slices.IndexFunc(r.rows, func(s setting[C]) bool { return s.Flag == "config" }); i >= 0 {
		path := r.rows[i].field(c).(*string)
		if v, ok := r.flags["config"]; ok {
			*path, r.from["config"] = v, "flag"
		} else if v := getenv(r.rows[i].Env); v != "" {
			*path, r.from["config"] = v, "env"
		}
		if *path != "" {
			if err := r.applyFile(c, *path); err != nil {
				return err // a file that cannot be read says so alone
			}
		}
	}
	for _, s := range r.rows {
		if s.Env == "" || s.Flag == "config" {
			continue
		}
		if v := getenv(s.Env); v != "" {
			if err := parseValue(s.field(c), v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", s.Env, v, err))
			}
			r.from[key(s)] = "env"
		}
	}
	for _, name := range r.order {
		if name == "config" {
			continue
		}
		s, v := r.row(name), r.flags[name]
		if err := parseValue(s.field(c), v); err != nil {
			errs = append(errs, fmt.Errorf("--%s %q: %w", name, v, err))
		}
		r.from[name] = "flag"
	}
	return errors.Join(errs...)
}

// applyFile reads the JSON config file: every member must be a setting's,
// secrets are refused, and each error names the member.
func (r *settingsReader[C]) applyFile(c *C, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("config file %s (from %s) does not exist", path, r.sourceOf("config"))
		}
		return fmt.Errorf("config file %s (from %s): %w", path, r.sourceOf("config"), err)
	}
	members := map[string]setting[C]{}
	groups := map[string]bool{}
	var known []string
	for _, s := range r.rows {
		if s.Member == "" {
			continue
		}
		members[s.Member] = s
		known = append(known, s.Member)
		if g, _, ok := strings.Cut(s.Member, "."); ok {
			groups[g] = true
		}
	}
	var top map[string]json.RawMessage
	if err := decodeObject(b, &top); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	var errs []error
	var set func(name string, raw json.RawMessage)
	set = func(name string, raw json.RawMessage) {
		if groups[name] {
			var sub map[string]json.RawMessage
			if err := json.Unmarshal(raw, &sub); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: member %q: want an object of %s.* members", path, name, name))
				return
			}
			for _, k := range sortedKeys(sub) {
				set(name+"."+k, sub[k])
			}
			return
		}
		s, ok := members[name]
		if !ok {
			if sec := r.secretNamed(name); sec != "" {
				errs = append(errs, fmt.Errorf("config file %s: member %q: secrets are read from the environment only (%s)", path, name, sec))
			} else {
				errs = append(errs, fmt.Errorf("config file %s: unknown member %q; known: %s", path, name, strings.Join(known, ", ")))
			}
			return
		}
		p := s.field(c)
		if err := json.Unmarshal(raw, p); err != nil {
			errs = append(errs, fmt.Errorf("config file %s: member %q: want %s, not %s", path, name, wantJSON(p), raw))
			return
		}
		r.from[key(s)] = path
	}
	for _, k := range sortedKeys(top) {
		set(k, top[k])
	}
	return errors.Join(errs...)
}

// secretNamed returns the variable of a secret a config-file member names
// ("token_secret"), or "".
func (r *settingsReader[C]) secretNamed(member string) string {
	m := strings.ToUpper(strings.ReplaceAll(member, ".", "_"))
	for _, s := range r.rows {
		if s.Secret && (strings.HasSuffix(s.Env, "_"+m) || s.Env == m) {
			return s.Env
		}
	}
	if strings.Contains(m, "SECRET") || strings.Contains(m, "PASSWORD") || strings.Contains(m, "TOKEN") {
		return "DESKBRIDGE_* variables"
	}
	return ""
}

// decodeObject reads one JSON object, with the line and column of a
// syntax error and a word for a truncated file.
func decodeObject(b []byte, v *map[string]json.RawMessage) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("the file is empty; want a JSON object such as {\"kit\": \"websocket\"}")
	}
	err := json.Unmarshal(b, v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syn) && syn.Offset >= int64(len(bytes.TrimRight(b, " \t\r\n"))):
		return errors.New("the JSON ends too early (is the file cut off?)")
	case errors.As(err, &syn):
		line, col := lineCol(b, syn.Offset)
		return fmt.Errorf("line %d, column %d: %v", line, col, syn)
	case errors.As(err, &typ):
		return errors.New("want a JSON object of settings, such as {\"kit\": \"websocket\"}")
	}
	return err
}

func lineCol(b []byte, off int64) (line, col int) {
	line, col = 1, 1
	for _, c := range b[:min(int(off), len(b))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, max(col-1, 1)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// printSettings writes the flags part of a usage text.
func printSettings[C any](w io.Writer, rows []setting[C]) {
	for _, s := range rows {
		if s.Flag == "" || s.Secret {
			continue
		}
		var where []string
		if s.Env != "" {
			where = append(where, s.Env)
		}
		if s.Member != "" {
			where = append(where, fmt.Sprintf("file member %q", s.Member))
		}
		if d := s.shown(); d != "" {
			where = append(where, "default "+d)
		}
		text := s.Usage
		if len(where) > 0 {
			text += " (" + strings.Join(where, "; ") + ")"
		}
		fmt.Fprintln(w, "  --"+strings.TrimSpace(s.Flag+" "+s.Arg))
		wrap(w, "      ", text)
	}
}

// printEnvOnly writes the settings read from the environment only.
func printEnvOnly[C any](w io.Writer, rows []setting[C], indent string) {
	for _, s := range rows {
		if s.Flag != "" && !s.Secret {
			continue
		}
		text := s.Usage
		if s.Required {
			text += " (required)"
		} else if d := s.shown(); d != "" {
			text += " (when unset: " + d + ")"
		}
		fmt.Fprintf(w, "%s%s\n", indent, s.Env)
		wrap(w, indent+"    ", text)
	}
}

// wrap writes text in lines of at most 80 columns, each indented.
func wrap(w io.Writer, indent, text string) {
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > 80 {
			fmt.Fprintln(w, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}

// envSetting is a setting read from the environment only (a kit's).
type envSetting = setting[struct{}]
