package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/gateway"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/gorilla/websocket"
)

// quietLog is the servers' logger in tests: silent, or every record down
// to debug on stderr with DESKBRIDGE_TEST_LOG=1 (to see why a test failed).
func quietLog() *slog.Logger {
	if os.Getenv("DESKBRIDGE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startTestDemo starts the demo on free ports with the embedded scenario
// (or opts) and stops it at the end of the test.
func startTestDemo(t *testing.T, cfg demoConfig) *demo {
	t.Helper()
	cfg.Logger = quietLog()
	d, err := startDemo(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.close(ctx); err != nil {
			t.Errorf("demo close: %v", err)
		}
	})
	return d
}

// TestDemoEachKit: through every kit, a gateway client asks the bot, starts
// a chat, and scripted Ada joins and answers.
func TestDemoEachKit(t *testing.T) {
	for _, kit := range kitNames() {
		t.Run(kit, func(t *testing.T) {
			d := startTestDemo(t, demoConfig{Kit: kit})
			resp, err := http.Post(d.srv.url+"/demo/bot", "application/json", strings.NewReader(`{"text":"talk to a person"}`))
			if err != nil {
				t.Fatal(err)
			}
			var m servicedesk.MessageResponse
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if _, ok := m.ConnectToAgent(); !ok {
				t.Fatalf("bot did not escalate: %+v", m)
			}
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(d.srv.url, "http")+"/ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
			send := func(v any) {
				if err := ws.WriteJSON(v); err != nil {
					t.Fatal(err)
				}
			}
			send(map[string]any{"op": "hello", "id": "h", "mode": "flow"})
			send(map[string]any{"op": "startChat", "id": "s", "args": map[string]any{"connectMessage": m}})
			var saw []string
			for {
				var f struct {
					Type  string `json:"type"`
					Error any    `json:"error"`
					Event struct {
						Type    string                       `json:"type"`
						Message *servicedesk.MessageResponse `json:"message"`
					} `json:"event"`
				}
				if err := ws.ReadJSON(&f); err != nil {
					t.Fatalf("after %v: %v", saw, err)
				}
				if f.Type == "error" {
					t.Fatalf("error frame %v", f.Error)
				}
				if f.Type == "event" {
					saw = append(saw, f.Event.Type)
					if f.Event.Type == "agent_message" && strings.Contains(f.Event.Message.PlainText(), "Ada") {
						return
					}
				}
			}
		})
	}
}

func TestHealthAndMetrics(t *testing.T) {
	d := startTestDemo(t, demoConfig{})
	for path, want := range map[string]string{"/healthz": `"status":"ok"`, "/metrics": "deskbridge_gateway_sessions", "/deskbridge.js": "serviceDeskFactory", "/": "<title>deskbridge demo chat</title>"} {
		resp, err := http.Get(d.srv.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, body lacks %q", path, resp.StatusCode, want)
		}
		if path == "/" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("demo page without CSP: %v", resp.Header)
		}
	}
}

func TestServeConfigSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "deskbridge.json")
	if err := os.WriteFile(file, []byte(`{"kit":"polling","desk_url":"http://desk.internal:9000","listen":"127.0.0.1:0","allowed_origins":["https://a.example"],"limits":{"burst":7,"rate_per_second":3}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DESKBRIDGE_CONFIG":          file,
		"DESKBRIDGE_ALLOWED_ORIGINS": "https://b.example, https://c.example",
		"DESKBRIDGE_BURST":           "9",
		"DESKBRIDGE_TOKEN_SECRET":    strings.Repeat("s", 40),
	}
	cfg, err := loadServeConfig([]string{"--burst", "11"}, io.Discard, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Kit != "polling" || cfg.DeskURL != "http://desk.internal:9000" || cfg.Limits.RatePerSecond != 3 {
		t.Errorf("file not applied: %+v", cfg)
	}
	if strings.Join(cfg.AllowedOrigins, " ") != "https://b.example https://c.example" {
		t.Errorf("environment not applied: %v", cfg.AllowedOrigins)
	}
	if cfg.Limits.Burst != 11 || cfg.TokenSecret == "" {
		t.Errorf("flags must win: burst %d", cfg.Limits.Burst)
	}

	// Secrets in the file are refused; so are wildcards and missing URLs.
	if err := os.WriteFile(file, []byte(`{"desk_url":"http://d","token_secret":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadServeConfig(nil, io.Discard, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "environment") {
		t.Errorf("secret in the config file: %v", err)
	}
	for _, args := range [][]string{{"--desk-url", "http://d", "--allowed-origins", "*"}, {}, {"--desk-url", "ftp://x"}} {
		if _, err := loadServeConfig(args, io.Discard, func(string) string { return "" }); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// TestServeRuns: serve starts against a desk, answers health, and stops
// cleanly on cancel.
func TestServeRuns(t *testing.T) {
	d := startTestDemo(t, demoConfig{})
	dataDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--desk-url", d.deskURL, "--listen", "127.0.0.1:0", "--log-level", "warn", "--data-dir", dataDir}, &out, func(string) string { return "" })
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v (%s)", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if err := run(context.Background(), []string{"nope"}, io.Discard, nil); err == nil {
		t.Error("unknown command accepted")
	}
	// Without DESKBRIDGE_TOKEN_SECRET the operator is told where the
	// tokens' secret lives, and that tokens live only as long as that file.
	if !strings.Contains(out.String(), "DESKBRIDGE_TOKEN_SECRET is not set: session tokens are signed with the secret kept in the data directory") || !strings.Contains(out.String(), filepath.Join(dataDir, "token-secret")) {
		t.Errorf("no warning about the token secret:\n%s", out.String())
	}
	// The default store is a file in the data directory, with a token
	// secret made there so that tokens outlive the process.
	for _, name := range []string{"deskbridge.db", "token-secret", "uploading"} {
		if _, err := os.Stat(filepath.Join(dataDir, name)); err != nil {
			t.Errorf("data directory after serve: %v", err)
		}
	}
}

func TestServeStoreSpec(t *testing.T) {
	dir := t.TempDir()
	for spec, want := range map[string]string{
		"":                           "file:" + filepath.Join(dir, "deskbridge.db"),
		"memory":                     "memory",
		"file:/srv/db/d.db":          "file:/srv/db/d.db",
		"redis://:pw@127.0.0.1:6379": "redis://:xxxxx@127.0.0.1:6379",
	} {
		got, err := parseStoreSpec(spec, dir)
		if err != nil || got.String() != want {
			t.Errorf("store %q: %v, %v; want %s", spec, got, err, want)
		}
	}
	for spec, want := range map[string]string{
		"postgres://x":          "want memory, file:PATH or redis://",
		"file:":                 "give the database file",
		"redis://":              "want redis://",
		"mysql://u:secret@h/db": "xxxxx", // the password never shows
	} {
		_, err := parseStoreSpec(spec, dir)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("store %q: %v; want an error with %q", spec, err, want)
		}
	}
	// From the environment and the config file too, validated before start.
	env := map[string]string{"DESKBRIDGE_STORE": "nope"}
	if _, err := loadServeConfig([]string{"--desk-url", "http://d"}, io.Discard, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), `store "nope"`) {
		t.Errorf("DESKBRIDGE_STORE=nope: %v", err)
	}
	cfg, err := loadServeConfig([]string{"--desk-url", "http://d", "--store", "memory", "--data-dir", dir}, io.Discard, func(k string) string { return env[k] })
	if err != nil || cfg.Store != "memory" || cfg.DataDir != dir {
		t.Errorf("flags over the environment: %+v, %v", cfg, err)
	}
}

func TestBotReplies(t *testing.T) {
	if _, ok := botReply("Can I talk to a person?").ConnectToAgent(); !ok {
		t.Error("no escalation")
	}
	if _, ok := botReply("what is the weather").ConnectToAgent(); ok {
		t.Error("escalated without being asked")
	}
}

// TestLimitMetrics: a limit that bites shows in /metrics by name.
func TestLimitMetrics(t *testing.T) {
	d := startTestDemo(t, demoConfig{Gateway: gateway.Options{NewSessionsPerMinute: 1}})
	url := "ws" + strings.TrimPrefix(d.srv.url, "http") + "/ws"
	for range 3 {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = ws.WriteJSON(map[string]any{"op": "hello", "id": "h"})
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		var f map[string]any
		_ = ws.ReadJSON(&f)
		ws.Close()
	}
	resp, err := http.Get(d.srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `deskbridge_gateway_limited_total{limit="new_sessions_per_addr"} 2`; !strings.Contains(string(b), want) {
		t.Errorf("/metrics lacks %q", want)
	}
}
