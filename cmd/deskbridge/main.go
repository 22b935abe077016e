package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "deskbridge:", err)
		os.Exit(1)
	}
}

const usage = `usage: deskbridge <command> [flags]

commands:
  demo          run a demo on loopback: a mock desk with scripted agents and its
                console, the gateway, a demo bot and a chat page
  serve         run the gateway for a real desk
  healthcheck   ask a running serve's /healthz; exit status 0 when it is healthy
                (for container health checks: the image has no shell or curl)
  help COMMAND  show a command's flags and settings

"deskbridge help COMMAND" and "deskbridge COMMAND -h" show the same help.
`

// commands are deskbridge's commands: how each runs and its help.
var commands = map[string]struct {
	run  func(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error
	help func(io.Writer)
}{
	"demo":        {runDemo, demoUsage},
	"serve":       {runServe, serveUsage},
	"healthcheck": {runHealthcheck, healthcheckUsage},
}

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprint(out, usage)
				return fmt.Errorf("no command %q: the commands are demo, serve and healthcheck", args[1])
			}
			c.help(out)
			return nil
		}
		fmt.Fprint(out, usage)
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprint(out, usage)
		return fmt.Errorf("unknown command %q: the commands are demo, serve and healthcheck", args[0])
	}
	return c.run(ctx, args[1:], out, getenv)
}
