package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	capabilitiesBegin = "<!-- capabilities: made from each kit's README by `go test ./cmd/deskbridge -run TestREADMECapabilities -update-readme`; do not edit -->"
	capabilitiesEnd   = "<!-- end of capabilities -->"
)

// genericKits come first in the matrix; the vendor kits follow by name.
var genericKits = []string{"websocket", "rest", "polling"}

var capabilityRow = regexp.MustCompile(`(?m)^\|\s*` + "`?" + `([A-Za-z]+)` + "`?" + `\s*\|\s*(yes|no)\s*\|`)

// capabilitiesMarkdown is the project README's matrix of what each kit
// supports, read from the capability tables of the kits' READMEs (which
// conformance.CheckREADME holds to what each kit declares).
func capabilitiesMarkdown(t *testing.T) string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "..", "kits", "*", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var kits []string
	for _, d := range dirs {
		kits = append(kits, filepath.Base(filepath.Dir(d)))
	}
	slices.SortStableFunc(kits, func(a, b string) int {
		ia, ib := slices.Index(genericKits, a), slices.Index(genericKits, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return strings.Compare(a, b)
	})
	var capabilities []string
	table := map[string]map[string]string{}
	for _, k := range kits {
		b, err := os.ReadFile(filepath.Join("..", "..", "kits", k, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		rows := capabilityRow.FindAllStringSubmatch(string(b), -1)
		if len(rows) == 0 {
			t.Fatalf("kits/%s/README.md has no capability table", k)
		}
		table[k] = map[string]string{}
		for _, r := range rows {
			if !slices.Contains(capabilities, r[1]) {
				capabilities = append(capabilities, r[1])
			}
			table[k][r[1]] = r[2]
		}
	}
	var b strings.Builder
	b.WriteString("| capability | " + strings.Join(kits, " | ") + " |\n|" + strings.Repeat(" --- |", len(kits)+1) + "\n")
	for _, c := range capabilities {
		b.WriteString("| " + c + " |")
		for _, k := range kits {
			v, ok := table[k][c]
			if !ok {
				t.Errorf("kits/%s/README.md: the capability table has no row for %s", k, c)
			}
			fmt.Fprintf(&b, " %s |", v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestREADMECapabilities: the project README's matrix is the kits' own
// capability tables, so it cannot drift from what each kit declares.
func TestREADMECapabilities(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i, j := strings.Index(text, capabilitiesBegin), strings.Index(text, capabilitiesEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the capability markers:\n%s\n%s", capabilitiesBegin, capabilitiesEnd)
	}
	want := capabilitiesBegin + "\n" + capabilitiesMarkdown(t) + capabilitiesEnd
	got := text[i : j+len(capabilitiesEnd)]
	if got == want {
		return
	}
	if *updateREADME {
		if err := os.WriteFile(path, []byte(text[:i]+want+text[j+len(capabilitiesEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md: capability matrix rewritten")
		return
	}
	t.Errorf("README.md's capability matrix is not the kits'; run: go test ./cmd/deskbridge -run TestREADMECapabilities -update-readme\n got:\n%s\nwant:\n%s", got, want)
}
