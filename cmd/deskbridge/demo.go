package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/gateway"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// demoScenario is the mock desk of the demo: Ada and Grace are scripted
// agents; "You (console)" is a manual agent for a person at the console.
//
//go:embed demo-scenario.json
var demoScenario []byte

type demoConfig struct {
	Kit      string
	Port     int // the chat page and the gateway; 0: any free port
	DeskPort int // the mock desk and its console; 0: any free port
	// Desk overrides the embedded scenario (tests use manual agents).
	Desk   *mockdesk.Options
	Logger *slog.Logger
	// Gateway limits; zero values take the gateway's defaults.
	Gateway gateway.Options
	// Flow configures the engine (its Store: memory when nil).
	Flow flow.Options
	// CarbonDir, when set, holds the built @carbon/ai-chat page, served at
	// /carbon/ (deskbridge demo --carbon).
	CarbonDir string
}

// demo is the running demo: a mock desk on its own listener and the
// deskbridge server with the demo page.
type demo struct {
	desk    *mockdesk.Desk
	deskSrv *http.Server
	deskURL string
	srv     *server
}

func startDemo(cfg demoConfig) (*demo, error) {
	var opts mockdesk.Options
	if cfg.Desk != nil {
		opts = *cfg.Desk
	} else {
		o, err := mockdesk.ParseScenario(demoScenario)
		if err != nil {
			return nil, fmt.Errorf("demo scenario: %w", err)
		}
		opts = o
	}
	opts.Logger = cfg.Logger.With("component", "mock-desk")
	// The rest kit checks the desk's webhook signatures with this.
	secret := rand.Text()
	opts.WebhookSecret = []byte(secret)
	desk, err := mockdesk.New(opts)
	if err != nil {
		return nil, fmt.Errorf("mock desk: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.DeskPort)))
	if err != nil {
		_ = desk.Close()
		return nil, fmt.Errorf("mock desk: listen: %w", err)
	}
	d := &demo{desk: desk, deskURL: "http://" + ln.Addr().String()}
	face := deskHandler(cfg.Kit, desk)
	d.deskSrv = &http.Server{Handler: face, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = d.deskSrv.Serve(ln) }()

	srv, err := startServer(serverConfig{
		Listen:  net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)),
		Kit:     kitConfig{Name: cfg.Kit, DeskURL: d.deskURL, Settings: map[string]string{"DESKBRIDGE_WEBHOOK_SECRET": secret}, Logger: cfg.Logger},
		Gateway: cfg.Gateway,
		Flow:    cfg.Flow,
		Demo:    true,
		Carbon:  cfg.CarbonDir,
		Logger:  cfg.Logger,
	})
	if err != nil {
		_ = d.deskSrv.Close()
		_ = desk.Close()
		return nil, err
	}
	d.srv = srv
	// A face whose webhook is set in the vendor's console, not by the
	// kit's calls (Kustomer's outbound webhook), is pointed at the server.
	if hooked, ok := face.(interface{ SetWebhookURL(string) }); ok {
		hooked.SetWebhookURL(srv.url + webhookPath)
	}
	return d, nil
}

// close stops the server first (sockets drain), then the desk.
func (d *demo) close(ctx context.Context) error {
	err := d.srv.shutdown(ctx)
	if derr := d.deskSrv.Shutdown(ctx); derr != nil {
		err = errors.Join(err, derr)
	}
	if derr := d.desk.Close(); derr != nil {
		err = errors.Join(err, derr)
	}
	return err
}

// demoFlags are deskbridge demo's settings.
type demoFlags struct {
	Kit       string
	Port      int
	DeskPort  int
	LogLevel  string
	Carbon    bool
	CarbonDir string
}

var demoSettings = []setting[demoFlags]{
	{Flag: "kit", Arg: "NAME", Default: "websocket", Usage: "the kit between the gateway and the mock desk (the kits are listed below; the vendor kits talk to mock-desk's face of that vendor)",
		field: func(c *demoFlags) any { return &c.Kit }},
	{Flag: "port", Arg: "PORT", Default: "8080", Usage: "port of the chat page and the gateway on 127.0.0.1 (0: any free port)",
		field: func(c *demoFlags) any { return &c.Port }},
	{Flag: "desk-port", Arg: "PORT", Default: "8089", Usage: "port of the mock desk and its agent console on 127.0.0.1 (0: any free port)",
		field: func(c *demoFlags) any { return &c.DeskPort }},
	{Flag: "log-level", Arg: "LEVEL", Default: "warn", Usage: "debug, info, warn or error",
		field: func(c *demoFlags) any { return &c.LogLevel }},
	{Flag: "carbon", Arg: "", Usage: "also serve a page with the real @carbon/ai-chat at /carbon/, using /deskbridge.js (build it once with scripts/install-npm.sh, which needs npm)",
		field: func(c *demoFlags) any { return &c.Carbon }},
	{Flag: "carbon-dir", Arg: "DIR", Shown: "cmd/deskbridge/testdata/carbon", Usage: "where scripts/install-npm.sh built the @carbon/ai-chat page",
		field: func(c *demoFlags) any { return &c.CarbonDir }},
}

func demoUsage(w io.Writer) {
	fmt.Fprint(w, `usage: deskbridge demo [flags]

Runs a demo on loopback: a mock desk with scripted agents and its agent
console, the gateway, a demo bot and a chat page. It needs nothing but Go.

flags:
`)
	printSettings(w, demoSettings)
	fmt.Fprint(w, "\nkits (--kit):\n")
	for _, k := range kitRegistry {
		fmt.Fprintf(w, "  %-14s %s\n", k.Name, k.About)
	}
}

func runDemo(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	// The demo's settings are flags only: the environment is for serve.
	f, r, err := readSettings("demo", demoSettings, demoUsage, args, out, func(string) string { return "" })
	if err != nil {
		return err
	}
	spec, ok := lookupKit(f.Kit)
	if !ok {
		return unknownKit(f.Kit, r.sourceOf("kit"))
	}
	log, err := newLogger(out, f.LogLevel, "text")
	if err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", f.LogLevel)
	}
	var carbonDir string
	if f.Carbon {
		if carbonDir, err = findCarbonPage(f.CarbonDir); err != nil {
			return err
		}
	}
	d, err := startDemo(demoConfig{Kit: spec.Name, Port: f.Port, DeskPort: f.DeskPort, Logger: log, CarbonDir: carbonDir})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `deskbridge demo (kit %s) is running on loopback:

  chat page      %s/
  agent console  %s/console/
%s
In the chat, say "talk to a person". Ada, a scripted agent, takes the chat;
to be the agent yourself, pick the chat in the console as "You (console)"
(set Ada and Grace offline there first). Ctrl-C stops the demo.
`, spec.Name, d.srv.url, d.deskURL, carbonLine(carbonDir, d.srv.url))
	<-ctx.Done()
	fmt.Fprintln(out, "stopping…")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return d.close(sctx)
}

// carbonPageHint says how to build the @carbon/ai-chat page.
const carbonPageHint = "scripts/install-npm.sh builds it (it installs @carbon/ai-chat and its peers with npm, then bundles the page)"

// findCarbonPage returns the directory of the built @carbon/ai-chat page:
// dir, else cmd/deskbridge/testdata/carbon under the working directory,
// else beside this source file (go run from anywhere in the repository).
func findCarbonPage(dir string) (string, error) {
	candidates := []string{dir}
	if dir == "" {
		candidates = []string{filepath.Join("cmd", "deskbridge", "testdata", "carbon"), filepath.Join("testdata", "carbon")}
		if _, src, _, ok := runtime.Caller(0); ok {
			candidates = append(candidates, filepath.Join(filepath.Dir(src), "testdata", "carbon"))
		}
	}
	var looked []string
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "dist", "page.js")); err == nil {
			return c, nil
		}
		if abs, err := filepath.Abs(c); err == nil && !slices.Contains(looked, abs) {
			looked = append(looked, abs)
		}
	}
	candidates = looked
	return "", fmt.Errorf("--carbon: the @carbon/ai-chat page is not built (no dist/page.js in %s): %s; or run the demo without --carbon", strings.Join(candidates, ", "), carbonPageHint)
}

func carbonLine(dir, url string) string {
	if dir == "" {
		return ""
	}
	return fmt.Sprintf("  Carbon chat    %s/carbon/   (the real @carbon/ai-chat, with /deskbridge.js)\n", url)
}

// newLogger returns a slog logger writing text or JSON at level.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	o := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return slog.New(slog.NewTextHandler(w, o)), nil
}
