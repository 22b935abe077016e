package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's settings list from serveSettings and the kits")

const (
	settingsBegin = "<!-- serve settings: made from cmd/deskbridge/settings.go by `go test ./cmd/deskbridge -run TestREADMESettings -update-readme`; do not edit -->"
	settingsEnd   = "<!-- end of serve settings -->"
)

// settingsMarkdown is the README's list of serve's settings and kits.
func settingsMarkdown() string {
	var b strings.Builder
	code := func(s string) string {
		if s == "" {
			return ""
		}
		return "`" + s + "`"
	}
	b.WriteString("| flag | environment variable | config-file member | default | what it sets |\n| --- | --- | --- | --- | --- |\n")
	for _, s := range serveSettings {
		flagText := ""
		if s.Flag != "" && !s.Secret {
			flagText = code("--" + s.Flag + " " + s.Arg)
		}
		member := code(s.Member)
		if s.Secret {
			member = "*(environment only)*"
		}
		def := code(s.Default)
		if def == "" && !strings.Contains(s.Shown, " ") {
			def = code(s.Shown)
		} else if def == "" {
			def = s.Shown
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", flagText, code(s.Env), member, def, s.Usage)
	}
	b.WriteString("\n| `--kit` | what it is | its own settings (environment only) |\n| --- | --- | --- |\n")
	for _, k := range kitRegistry {
		var own []string
		for _, s := range k.Settings {
			t := code(s.Env) + ": " + s.Usage
			if s.Required {
				t += " (required)"
			} else if s.Default != "" {
				t += " (default " + code(s.Default) + ")"
			}
			own = append(own, t)
		}
		about := k.About
		if k.NeedsDeskURL {
			about += "; needs `--desk-url`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.Name, about, strings.Join(own, "<br>"))
	}
	return b.String()
}

// TestREADMESettings: the README's settings list is the table's, so the two
// cannot drift.
func TestREADMESettings(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i, j := strings.Index(text, settingsBegin), strings.Index(text, settingsEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the settings markers:\n%s\n%s", settingsBegin, settingsEnd)
	}
	want := settingsBegin + "\n" + settingsMarkdown() + settingsEnd
	got := text[i : j+len(settingsEnd)]
	if got == want {
		return
	}
	if *updateREADME {
		if err := os.WriteFile(path, []byte(text[:i]+want+text[j+len(settingsEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md: settings list rewritten")
		return
	}
	t.Errorf("README.md's settings list is not serveSettings'; run: go test ./cmd/deskbridge -run TestREADMESettings -update-readme\n got:\n%s\nwant:\n%s", got, want)
}

// TestServeErrorsNameWhatWasSet: each error names the flag, variable or
// file member the operator set, and says what is wanted.
func TestServeErrorsNameWhatWasSet(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	typo := file("typo.json", `{"kitt": "rest"}`)
	cut := file("cut.json", "{\"kit\": \"rest\",\n \"desk_url\": \"http://d\"")
	bad := file("bad.json", "{\"kit\": \"rest\",\n \"desk_url\": http://d}")
	secret := file("secret.json", `{"desk_url": "http://d", "token_secret": "x"}`)
	origins := file("origins.json", `{"desk_url": "http://d", "allowed_origins": "https://a.example"}`)
	zen := file("zen.json", `{"kit": "nosuchkit"}`)
	burst := file("burst.json", `{"desk_url": "http://d", "limits": {"burst": "7"}}`)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"unknown kit flag", []string{"--kit", "nosuchkit"}, nil, []string{`unknown kit "nosuchkit" (from --kit); known: websocket, rest, polling, amazonconnect, genesys`}},
		{"unknown kit variable", nil, map[string]string{"DESKBRIDGE_KIT": "nosuchkit"}, []string{`unknown kit "nosuchkit" (from DESKBRIDGE_KIT)`}},
		{"unknown kit in the file", []string{"--config", zen}, nil, []string{`unknown kit "nosuchkit" (from member "kit" of ` + zen + `)`}},
		{"no desk URL", nil, nil, []string{"kit websocket needs the desk's URL: set --desk-url, DESKBRIDGE_DESK_URL or the config-file member \"desk_url\""}},
		{"connect settings", []string{"--kit", "amazonconnect"}, nil, []string{"kit amazonconnect: set DESKBRIDGE_CONNECT_INSTANCE_ID", "DESKBRIDGE_CONNECT_CONTACT_FLOW_ID"}},
		{"genesys settings", []string{"--kit", "genesys"}, nil, []string{"kit genesys: set DESKBRIDGE_GENESYS_DEPLOYMENT_ID"}},
		{"rest secret", []string{"--kit", "rest", "--desk-url", "http://d"}, nil, []string{"kit rest: set DESKBRIDGE_WEBHOOK_SECRET"}},
		{"bad number flag", []string{"--burst", "many"}, nil, []string{`--burst "many": want a whole number`}},
		{"bad number variable", nil, map[string]string{"DESKBRIDGE_RATE": "fast"}, []string{`DESKBRIDGE_RATE="fast": want a number`}},
		{"bad duration", []string{"--lease-ttl", "10"}, nil, []string{`--lease-ttl "10": want a duration such as 10s`}},
		{"unknown flag", []string{"--kitt", "rest"}, nil, []string{"unknown flag --kitt", "deskbridge help serve"}},
		{"desk URL", []string{"--desk-url", "ftp://x"}, nil, []string{`desk URL "ftp://x" (from --desk-url): want http://host or https://host`}},
		{"origin wildcard", []string{"--desk-url", "http://d"}, map[string]string{"DESKBRIDGE_ALLOWED_ORIGINS": "*"}, []string{`(from DESKBRIDGE_ALLOWED_ORIGINS): "*" is not supported`}},
		{"log level", []string{"--desk-url", "http://d", "--log-level", "loud"}, nil, []string{`log level "loud" (from --log-level): want debug, info, warn or error`}},
		{"store", []string{"--desk-url", "http://d"}, map[string]string{"DESKBRIDGE_STORE": "nope"}, []string{`store "nope"`, "(from DESKBRIDGE_STORE)"}},
		{"typo in the file", []string{"--config", typo}, nil, []string{`config file ` + typo + `: unknown member "kitt"; known: kit, desk_url`}},
		{"cut-off file", nil, map[string]string{"DESKBRIDGE_CONFIG": cut}, []string{"config file " + cut + ": the JSON ends too early"}},
		{"bad JSON", []string{"--config", bad}, nil, []string{"config file " + bad + ": line 2, column 14: invalid character"}},
		{"missing file", []string{"--config", filepath.Join(dir, "none.json")}, nil, []string{"none.json (from --config) does not exist"}},
		{"secret in the file", []string{"--config", secret}, nil, []string{`member "token_secret": secrets are read from the environment only (DESKBRIDGE_TOKEN_SECRET)`}},
		{"origins not an array", []string{"--config", origins}, nil, []string{`member "allowed_origins": want a JSON array of strings`}},
		{"number as a string", []string{"--config", burst}, nil, []string{`member "limits.burst": want a whole number, not "7"`}},
		{"short token secret", []string{"--desk-url", "http://d"}, map[string]string{"DESKBRIDGE_TOKEN_SECRET": "short"}, []string{"DESKBRIDGE_TOKEN_SECRET: use at least 32 characters"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadServeConfig(tc.args, io.Discard, func(k string) string { return tc.env[k] })
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secrets belong") || strings.Contains(err.Error(), "Config.") {
				t.Errorf("error %q names Go fields or blames secrets", err)
			}
		})
	}
	// The kit is checked first: an unknown kit is the only error.
	_, err := loadServeConfig([]string{"--kit", "nosuchkit", "--desk-url", "ftp://x"}, io.Discard, func(string) string { return "" })
	if err == nil || strings.Contains(err.Error(), "desk URL") {
		t.Errorf("unknown kit with a bad URL: %v", err)
	}
	// A kit's own error at start names the variable, with one "kit" prefix.
	_, err = newKit(kitConfig{Name: "genesys", Settings: map[string]string{"DESKBRIDGE_GENESYS_DEPLOYMENT_ID": "d-1", "DESKBRIDGE_GENESYS_REGION": "mars-1"}, Logger: quietLog()})
	if err == nil || !strings.HasPrefix(err.Error(), `kit genesys: DESKBRIDGE_GENESYS_REGION="mars-1": unknown region; known: `) {
		t.Errorf("unknown Genesys region: %v", err)
	}
	// Mock-desk faces need no vendor ids.
	if _, err := loadServeConfig([]string{"--kit", "connect", "--desk-url", "http://127.0.0.1:1", "--data-dir", dir}, io.Discard, func(string) string { return "" }); err != nil {
		t.Errorf("amazonconnect against a mock-desk face: %v", err)
	}
}

// TestHelp: "help serve" and "serve -h" print serve's help, made from the
// table: every flag, variable, member and kit is in it.
func TestHelp(t *testing.T) {
	help := func(args ...string) string {
		var out bytes.Buffer
		err := run(context.Background(), args, &out, func(string) string { return "" })
		if err != nil && err != flag.ErrHelp {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	serve := help("help", "serve")
	if dash := help("serve", "-h"); dash != serve {
		t.Errorf("serve -h and help serve differ:\n%s\n---\n%s", dash, serve)
	}
	if !strings.HasPrefix(serve, "usage: deskbridge serve [flags]") {
		t.Errorf("help serve:\n%s", serve)
	}
	for _, s := range serveSettings {
		for _, want := range []string{s.Env, s.Member} {
			if want != "" && !strings.Contains(serve, want) {
				t.Errorf("help serve lacks %s", want)
			}
		}
		if s.Flag != "" && !s.Secret && !strings.Contains(serve, "--"+s.Flag+" ") {
			t.Errorf("help serve lacks --%s", s.Flag)
		}
	}
	for _, k := range kitRegistry {
		if !strings.Contains(serve, "\n  "+k.Name+"\n") {
			t.Errorf("help serve lacks the kit %s", k.Name)
		}
		for _, s := range k.Settings {
			if !strings.Contains(serve, s.Env) {
				t.Errorf("help serve lacks %s", s.Env)
			}
		}
	}
	demo := help("help", "demo")
	if dash := help("demo", "--help"); dash != demo || !strings.HasPrefix(demo, "usage: deskbridge demo [flags]") || !strings.Contains(demo, "--desk-port PORT") {
		t.Errorf("demo help:\n%s\n---\n%s", demo, dash)
	}
	if hc := help("help", "healthcheck"); !strings.HasPrefix(hc, "usage: deskbridge healthcheck [flags]") {
		t.Errorf("help healthcheck:\n%s", hc)
	}
	if err := run(context.Background(), []string{"help", "nope"}, io.Discard, nil); err == nil {
		t.Error("help for an unknown command")
	}
}
