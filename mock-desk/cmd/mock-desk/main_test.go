package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunServesAndShutsDown starts the binary's run on a free port, checks
// the console and the protocol answer, and stops it as SIGINT would.
func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	env := map[string]string{"MOCKDESK_WEBHOOK_SECRET": "test"}
	go func() {
		done <- run(ctx, []string{"-port", "0", "-agents", "Ada,Grace", "-echo", "-fault-seed", "3", "-log-level", "warn"}, pw, func(k string) string { return env[k] })
		_ = pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var console string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "agent console: "); ok {
			console = u
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if console == "" {
		t.Fatal("no console URL printed")
	}
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for _, u := range []string{console, strings.TrimSuffix(console, "/console/") + "/v1/availability"} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, resp.StatusCode, b)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
}

func TestParseAgents(t *testing.T) {
	if a, err := parseAgents("3", false); err != nil || len(a) != 3 || a[2].Profile.Nickname != "Agent 3" {
		t.Fatal(a, err)
	}
	if a, _ := parseAgents("Ada, Grace", true); len(a) != 2 || a[1].Script == nil {
		t.Fatal(a)
	}
	if _, err := parseAgents("0", false); err == nil {
		t.Fatal("0 agents accepted")
	}
	if err := run(context.Background(), []string{"-scenario", "testdata/nope.json"}, io.Discard, func(string) string { return "" }); err == nil {
		t.Fatal("missing scenario accepted")
	}
}
