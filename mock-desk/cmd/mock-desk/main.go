package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	chatwootface "github.com/deskbridge/deskbridge/mock-desk/faces/chatwoot"
	connectface "github.com/deskbridge/deskbridge/mock-desk/faces/connect"
	egainface "github.com/deskbridge/deskbridge/mock-desk/faces/egain"
	genesysface "github.com/deskbridge/deskbridge/mock-desk/faces/genesys"
	kustomerface "github.com/deskbridge/deskbridge/mock-desk/faces/kustomer"
	livechatface "github.com/deskbridge/deskbridge/mock-desk/faces/livechat"
	niceface "github.com/deskbridge/deskbridge/mock-desk/faces/nice"
	oracleface "github.com/deskbridge/deskbridge/mock-desk/faces/oracle"
	salesforceface "github.com/deskbridge/deskbridge/mock-desk/faces/salesforce"
	twilioface "github.com/deskbridge/deskbridge/mock-desk/faces/twilio"
	zendeskface "github.com/deskbridge/deskbridge/mock-desk/faces/zendesk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "mock-desk:", err)
		os.Exit(1)
	}
}

// run starts the desk and serves until ctx is done, then shuts down.
func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("mock-desk", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1", "address to listen on (loopback by default)")
	port := fs.Int("port", 8089, "port to listen on (0: any free port)")
	agents := fs.String("agents", "", `manual agents: a count ("3") or nicknames ("Ada,Grace"); ignored with -scenario`)
	echo := fs.Bool("echo", false, "make the -agents scripted echo bots instead of manual agents")
	scenario := fs.String("scenario", "", "scenario file (JSON Options: agents with scripts, capabilities, faults)")
	webhookURL := fs.String("webhook-url", "", "default webhook URL for chats that register none")
	secretFlag := fs.String("webhook-secret", "", "webhook signing secret (prefer the MOCKDESK_WEBHOOK_SECRET environment variable)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	controlHosts := fs.String("control-hosts", "", "comma-separated host names the control API and console answer under, besides IP addresses and localhost")
	face := fs.String("face", "desk", "wire format for customers: desk (the desk protocol), chatwoot (Chatwoot's public client API: inbox mock_inbox, MOCKDESK_CHATWOOT_HMAC_TOKEN for identity validation), connect (Amazon Connect), egain (eGain chat as the starter kit's relay drives it: entry point 1000, any customer id), genesys (Genesys Web Messaging), kustomer (Kustomer's server-side chat API: API key MOCKDESK_KUSTOMER_API_KEY or mock-kustomer-api-key, webhooks to -webhook-url signed with MOCKDESK_WEBHOOK_SECRET as the token), livechat (LiveChat Customer Chat API v3.6: any organization, client and agent token), nice (NICE CXone Digital chat: any brand and channel, any OAuth code), oracle (Oracle B2C Service chat: site mock_site, chat API user mock_chat_api with MOCKDESK_ORACLE_PASSWORD), salesforce (Salesforce Messaging for In-App and Web: org 00D000000000001, deployment mock_deployment), twilio (Twilio Conversations and Flex; MOCKDESK_TWILIO_AUTH_TOKEN), zendesk (Sunshine Conversations: app 5ebee0975ac5304b664a12fa, key app_mock/mock-key-secret, webhooks to -webhook-url with MOCKDESK_WEBHOOK_SECRET as X-API-Key)")
	var f mockdesk.Faults
	fs.Uint64Var(&f.Seed, "fault-seed", 1, "seed of the fault decisions")
	latency := fs.Duration("fault-latency", 0, "latency added to REST, poll, WebSocket frames and webhooks")
	fs.Float64Var(&f.REST.Rate5xx, "fault-5xx", 0, "rate of REST and poll requests answered 503")
	fs.Float64Var(&f.REST.Rate429, "fault-429", 0, "rate of REST and poll requests answered 429")
	retryAfter := fs.Duration("fault-retry-after", time.Second, "Retry-After of injected 429/503")
	fs.IntVar(&f.WS.DropAfterFrames, "fault-ws-drop-after", 0, "drop each WebSocket after this many frames (0: never)")
	fs.Float64Var(&f.WS.DropRate, "fault-ws-drop", 0, "rate of WebSocket frames after which the connection drops")
	fs.Float64Var(&f.Poll.StallRate, "fault-poll-stall", 0, "rate of long polls that stall for their whole wait")
	fs.Float64Var(&f.Webhook.DuplicateRate, "fault-webhook-dup", 0, "rate of webhook deliveries sent twice")
	fs.Float64Var(&f.Webhook.ReorderRate, "fault-webhook-reorder", 0, "rate of webhook deliveries swapped with the next")
	fs.Float64Var(&f.Webhook.UnreachableRate, "fault-webhook-unreachable", 0, "rate of webhook attempts failed as unreachable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))

	var opts mockdesk.Options
	if *scenario != "" {
		o, err := mockdesk.LoadScenario(*scenario)
		if err != nil {
			return err
		}
		opts = o
	} else {
		roster, err := parseAgents(*agents, *echo)
		if err != nil {
			return err
		}
		opts.Agents = roster
	}
	if flagSet(fs, "fault-") || *scenario == "" {
		f.Poll.HTTPFaults = mockdesk.HTTPFaults{Rate5xx: f.REST.Rate5xx, Rate429: f.REST.Rate429}
		for _, h := range []*mockdesk.HTTPFaults{&f.REST, &f.Poll.HTTPFaults} {
			h.Latency = mockdesk.Duration(*latency)
			h.RetryAfter = mockdesk.Duration(*retryAfter)
		}
		f.WS.Latency, f.Webhook.Latency = mockdesk.Duration(*latency), mockdesk.Duration(*latency)
		opts.Faults = f
	}
	if *webhookURL != "" {
		opts.WebhookURL = *webhookURL
	}
	secret := getenv("MOCKDESK_WEBHOOK_SECRET")
	if secret == "" && *secretFlag != "" {
		secret = *secretFlag
		log.Warn("webhook secret given on the command line; prefer MOCKDESK_WEBHOOK_SECRET")
	}
	opts.WebhookSecret = []byte(secret)
	opts.Logger = log
	// The control API drives agents and faults: never open. A token given
	// is used, else one is made and printed for the operator's programs
	// (the console gets it when it loads).
	opts.ControlToken = cmp.Or(getenv("MOCKDESK_CONTROL_TOKEN"), rand.Text())
	if *controlHosts != "" {
		opts.ControlHosts = strings.Split(*controlHosts, ",")
	}

	desk, err := mockdesk.New(opts)
	if err != nil {
		return err
	}
	var handler http.Handler = desk
	switch *face {
	case "desk":
	case "chatwoot":
		handler = chatwootface.New(desk, chatwootface.Options{InboxIdentifier: "mock_inbox", HMACToken: getenv("MOCKDESK_CHATWOOT_HMAC_TOKEN")})
	case "connect":
		handler = connectface.New(desk, connectface.Options{})
	case "egain":
		handler = egainface.New(desk, egainface.Options{})
	case "genesys":
		handler = genesysface.New(desk, genesysface.Options{})
	case "kustomer":
		handler = kustomerface.New(desk, kustomerface.Options{APIKey: getenv("MOCKDESK_KUSTOMER_API_KEY"), WebhookURL: *webhookURL, WebhookToken: secret})
	case "livechat":
		handler = livechatface.New(desk, livechatface.Options{})
	case "nice":
		handler = niceface.New(desk, niceface.Options{})
	case "oracle":
		handler = oracleface.New(desk, oracleface.Options{User: "mock_chat_api", Password: getenv("MOCKDESK_ORACLE_PASSWORD")})
	case "salesforce":
		handler = salesforceface.New(desk, salesforceface.Options{OrgID: "00D000000000001", DeveloperName: "mock_deployment"})
	case "twilio":
		handler = twilioface.New(desk, twilioface.Options{AuthToken: getenv("MOCKDESK_TWILIO_AUTH_TOKEN")})
	case "zendesk":
		handler = zendeskface.New(desk, zendeskface.Options{WebhookURL: *webhookURL, WebhookSecret: secret})
	default:
		_ = desk.Close()
		return fmt.Errorf("-face %q: want desk, chatwoot, connect, egain, genesys, kustomer, livechat, nice, oracle, salesforce, twilio or zendesk", *face)
	}
	if secret == "" {
		log.Warn("no MOCKDESK_WEBHOOK_SECRET: webhooks are signed with a random secret", "secret", string(desk.WebhookSecret()))
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*addr, strconv.Itoa(*port)))
	if err != nil {
		_ = desk.Close()
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "mock-desk listening on %s\nagent console: %s/console/\ncontrol API token (Authorization: Bearer …; set it with MOCKDESK_CONTROL_TOKEN): %s\n", base, base, opts.ControlToken)
	log.Info("started", "addr", base, "agents", len(opts.Agents))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		_ = desk.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	// The desk first: it ends long polls and WebSockets, which Shutdown
	// would otherwise wait for (or, for hijacked sockets, not see at all).
	_ = desk.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// parseAgents reads -agents: a count or a list of nicknames.
func parseAgents(s string, echo bool) ([]mockdesk.AgentConfig, error) {
	var names []string
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 1000 {
			return nil, fmt.Errorf("-agents %d: want 1 to 1000", n)
		}
		for i := range n {
			names = append(names, fmt.Sprintf("Agent %d", i+1))
		}
	} else if s != "" {
		for _, name := range strings.Split(s, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		names = []string{"Ada"}
	}
	out := make([]mockdesk.AgentConfig, len(names))
	for i, name := range names {
		out[i] = mockdesk.AgentConfig{
			Profile:  servicedesk.AgentProfile{ID: fmt.Sprintf("agent-%d", i+1), Nickname: name, UserType: servicedesk.UserHuman},
			Online:   true,
			Capacity: 5,
		}
		if echo {
			out[i].Capacity = 1000
			out[i].Script = mockdesk.Script{mockdesk.Say("Hi, I am " + name + ". I repeat what you say."), mockdesk.Echo(0)}
		}
	}
	return out, nil
}

func flagSet(fs *flag.FlagSet, prefix string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, prefix) {
			set = true
		}
	})
	return set
}
