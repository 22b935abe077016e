package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// healthcheckFlags are deskbridge healthcheck's settings.
type healthcheckFlags struct {
	URL     string
	Timeout duration
}

var healthcheckSettings = []setting[healthcheckFlags]{
	{Flag: "url", Arg: "URL", Shown: "http://127.0.0.1:PORT/healthz, PORT from DESKBRIDGE_LISTEN (else 8080)", Usage: "the health endpoint to ask",
		field: func(c *healthcheckFlags) any { return &c.URL }},
	{Flag: "timeout", Arg: "DURATION", Default: "5s", Usage: "how long to wait for the answer",
		field: func(c *healthcheckFlags) any { return &c.Timeout }},
}

func healthcheckUsage(w io.Writer) {
	fmt.Fprint(w, `usage: deskbridge healthcheck [flags]

Asks a running deskbridge serve's /healthz and exits with status 0 when it
answers 200 (serving), 1 otherwise (draining, store unreachable, down). It is
the container image's HEALTHCHECK: the image holds no shell and no curl.

flags:
`)
	printSettings(w, healthcheckSettings)
}

func runHealthcheck(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	f, _, err := readSettings("healthcheck", healthcheckSettings, healthcheckUsage, args, out, getenv)
	if err != nil {
		return err
	}
	if f.URL == "" {
		f.URL = localHealthURL(getenv("DESKBRIDGE_LISTEN"))
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(f.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: --url %q: %w", f.URL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if uerr := (*url.Error)(nil); errors.As(err, &uerr) {
		err = uerr.Err
	}
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", f.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: %s: %s", f.URL, resp.Status, body)
	}
	fmt.Fprintf(out, "%s", body)
	return nil
}

// localHealthURL is /healthz on loopback at the port serve listens on.
func localHealthURL(listen string) string {
	host, port := "127.0.0.1", "8080"
	if h, p, err := net.SplitHostPort(listen); err == nil {
		if ip := net.ParseIP(h); h != "" && (ip == nil || !ip.IsUnspecified()) {
			host = h
		}
		port = cmp.Or(p, port)
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}
