// Command deskbridge runs the deskbridge server: the browser gateway that
// hands an AI chat over to a human agent in a service desk.
//
//	deskbridge demo                  # everything on loopback: a mock desk with scripted agents,
//	                                 # the agent console, a demo bot and a chat page
//	deskbridge demo --kit polling    # the same through another kit (websocket, rest, polling,
//	                                 # amazonconnect, genesys: those two through mock-desk's vendor faces)
//	deskbridge serve --desk-url https://desk.example.com --allowed-origins https://shop.example.com
//
// The vendor kits need no desk URL. Amazon Connect: --kit amazonconnect with
// DESKBRIDGE_CONNECT_REGION, DESKBRIDGE_CONNECT_INSTANCE_ID and
// DESKBRIDGE_CONNECT_CONTACT_FLOW_ID; AWS credentials from the SDK's default
// chain only (AWS_ACCESS_KEY_ID…, AWS_PROFILE, SSO, a role). Genesys Cloud:
// --kit genesys with DESKBRIDGE_GENESYS_REGION (or DESKBRIDGE_GENESYS_DOMAIN),
// DESKBRIDGE_GENESYS_DEPLOYMENT_ID and, for deployments that restrict
// domains, DESKBRIDGE_GENESYS_ORIGIN. With --desk-url they talk to that
// mock-desk instead.
//
// serve reads flags, then DESKBRIDGE_* environment variables, then a JSON
// config file (--config); secrets come from the environment only.
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
  demo    run a demo on loopback: a mock desk with scripted agents and its
          console, the gateway, a demo bot and a chat page
  serve   run the gateway for a real desk
  help    show this

"deskbridge <command> -h" lists a command's flags.
`

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], out)
	case "serve":
		return runServe(ctx, args[1:], out, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	fmt.Fprint(out, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
