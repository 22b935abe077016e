// Command soak runs deskbridge serve instances on one Redis behind a TCP
// load balancer, with browser-like clients, mock-desk's echo agents and
// faults, and checks that nothing was lost, duplicated or reordered. See
// docs/soak.md; scripts/soak.sh builds the binaries and runs it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/deskbridge/deskbridge/mock-desk/soak"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args[1:], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
	}
	os.Exit(code)
}

// run parses flags, runs the soak and prints its summary: 0 when it
// passed, 1 when it failed, 2 when it could not run.
func run(ctx context.Context, args []string, out io.Writer) (int, error) {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(out)
	var cfg soak.Config
	fs.StringVar(&cfg.Deskbridge, "deskbridge", "", "the deskbridge binary (required)")
	fs.StringVar(&cfg.MockDesk, "mock-desk", "", "the mock-desk binary (required)")
	fs.StringVar(&cfg.Redis, "redis-server", "redis-server", "the redis-server binary")
	fs.StringVar(&cfg.Dir, "dir", "", "directory for data and logs (default: a new temporary one, kept)")
	quick := fs.Bool("quick", false, "a short run: 50 clients, 1500 messages, 10 faults, 170 s at most")
	fs.IntVar(&cfg.Instances, "instances", 1, "deskbridge serve instances behind the balancer")
	fs.IntVar(&cfg.Clients, "clients", 500, "browser clients")
	fs.IntVar(&cfg.Messages, "messages", 10000, "user messages to acknowledge (and echoes to receive), at least")
	fs.IntVar(&cfg.Faults, "faults", 50, "faults to inject (every kind at least once when this is at least the number of kinds)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the fault plan, its targets and mock-desk's fault streams")
	fs.StringVar(&cfg.Kit, "kit", "websocket", "deskbridge kit: websocket or rest")
	fs.IntVar(&cfg.Agents, "agents", 4, "mock-desk echo agents")
	fs.DurationVar(&cfg.Think, "think", 200*time.Millisecond, "mean pause between a client's messages")
	fs.DurationVar(&cfg.Deadline, "deadline", 9*time.Minute, "bound on the whole run")
	fs.DurationVar(&cfg.RestartDelay, "restart-delay", 500*time.Millisecond, "how long a killed process stays down")
	fs.DurationVar(&cfg.RecoveryBound, "recovery-bound", 60*time.Second, "a process fault not recovered from by then fails the run")
	fs.Float64Var(&cfg.BrowserFaultShare, "browser-fault-share", 0.05, "share of the clients one browser fault hits")
	fs.DurationVar(&cfg.Client.EchoTimeout, "echo-timeout", 45*time.Second, "a message's echo not received by then is given up")
	fs.DurationVar(&cfg.Client.CallTimeout, "call-timeout", 40*time.Second, "an op unanswered by then closes the socket")
	fs.DurationVar(&cfg.Client.MaxBackoff, "max-backoff", 10*time.Second, "longest reconnect backoff (as /deskbridge.js)")
	fs.DurationVar(&cfg.FaultGap, "fault-gap", 2*time.Second, "least time between the end of one fault and the next")
	plan := fs.String("plan", "", "comma-separated fault kinds to inject in this order instead of a seeded plan")
	summaryPath := fs.String("summary", "", "also write the JSON summary to this file")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *quick {
		// Only what the command line did not set.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("clients", func() { cfg.Clients = 50 })
		def("messages", func() { cfg.Messages = 1500 })
		def("faults", func() { cfg.Faults = 10 })
		def("deadline", func() { cfg.Deadline = 170 * time.Second })
		def("recovery-bound", func() { cfg.RecoveryBound = 30 * time.Second })
		def("browser-fault-share", func() { cfg.BrowserFaultShare = 0.1 })
		def("fault-gap", func() { cfg.FaultGap = time.Second })
	}
	if cfg.Deskbridge == "" || cfg.MockDesk == "" {
		return 2, errors.New("-deskbridge and -mock-desk are required (scripts/soak.sh builds them)")
	}
	if cfg.Kit != "websocket" && cfg.Kit != "rest" {
		return 2, fmt.Errorf("-kit %q: want websocket or rest", cfg.Kit)
	}
	if *plan != "" {
		kinds := soak.FaultKindsFor(cfg.Kit)
		for _, k := range strings.Split(*plan, ",") {
			if !slices.Contains(kinds, k) {
				return 2, fmt.Errorf("-plan: %q is not a fault of kit %s (%s)", k, cfg.Kit, strings.Join(kinds, ", "))
			}
			cfg.Plan = append(cfg.Plan, k)
		}
		cfg.Faults = len(cfg.Plan)
	}
	if cfg.Instances < 1 || cfg.Clients < 1 || cfg.Messages < 1 || cfg.Faults < 0 {
		return 2, errors.New("-instances, -clients and -messages must be at least 1, -faults at least 0")
	}
	redis, err := exec.LookPath(cfg.Redis)
	if err != nil {
		return 2, fmt.Errorf("redis-server: %w (scripts/install-deps.sh installs it)", err)
	}
	cfg.Redis = redis
	// The children run in their own directories.
	for _, p := range []*string{&cfg.Deskbridge, &cfg.MockDesk} {
		if *p, err = filepath.Abs(*p); err != nil {
			return 2, err
		}
	}
	if cfg.Dir == "" {
		if cfg.Dir, err = os.MkdirTemp("", "deskbridge-soak-"); err != nil {
			return 2, err
		}
	}
	cfg.Log = out
	sum, err := soak.Run(ctx, cfg)
	if err != nil {
		return 2, fmt.Errorf("%w (logs in %s)", err, cfg.Dir)
	}
	sum.Print(out)
	if *summaryPath != "" {
		b, _ := json.MarshalIndent(sum, "", "  ")
		if err := os.WriteFile(*summaryPath, append(b, '\n'), 0o644); err != nil {
			return 2, fmt.Errorf("-summary: %w", err)
		}
	}
	if !sum.OK {
		return 1, nil
	}
	return 0, nil
}
