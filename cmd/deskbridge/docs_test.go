package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository, from cmd/deskbridge.
const repoRoot = "../.."

// readmeAndDocs are the pages a newcomer reads: README.md and docs/*.md.
func readmeAndDocs(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{}
	for _, p := range append(paths, filepath.Join(repoRoot, "README.md")) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pages[p] = string(b)
	}
	return pages
}

var (
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// References a reader of the repository cannot follow.
	unfollowable = regexp.MustCompile(`(?i)\b(issue|bug|ticket)s? #?\d+|§\s*\d+`)
	shellBlock   = regexp.MustCompile("(?s)```(?:sh|bash|console)\n(.*?)```")
)

// shellCommands are the programs docs may tell a reader to run besides the
// repository's own scripts: Go, the shell's, the system's and those the
// deploy docs install.
var shellCommands = map[string]bool{
	"go": true, "export": true, "cd": true, "(cd": true, "deskbridge": true, "./deskbridge": true,
	"podman": true, "buildah": true, "docker": true, "systemctl": true, "journalctl": true,
	"curl": true, "redis-server": true, "redis-cli": true, "sudo": true, "install": true,
	"useradd": true, "mkdir": true, "cp": true, "head": true, "CGO_ENABLED=0": true,
}

// TestDocsStandAlone: README.md and docs/ link only to files in the
// repository, cite no numbered issue or section a reader cannot open, and
// tell the reader to run only what the repository ships or a system has.
func TestDocsStandAlone(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for path, text := range readmeAndDocs(t) {
		name, _ := filepath.Rel(root, must1(filepath.Abs(path)))
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "...") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			abs := filepath.Join(filepath.Dir(must1(filepath.Abs(path))), target)
			if rel, err := filepath.Rel(root, abs); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links outside the repository: %s", name, m[1])
			} else if _, err := os.Stat(abs); err != nil {
				t.Errorf("%s links to a file that is not in the repository: %s", name, m[1])
			}
		}
		for _, m := range unfollowable.FindAllString(text, -1) {
			t.Errorf("%s cites %q, which a reader cannot look up", name, m)
		}
		for _, block := range shellBlock.FindAllStringSubmatch(text, -1) {
			cont := false
			for _, line := range strings.Split(block[1], "\n") {
				line = strings.TrimSpace(line)
				wasCont := cont
				cont = strings.HasSuffix(line, "\\")
				if wasCont || line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				cmd := strings.Fields(line)[0]
				switch {
				case strings.HasPrefix(cmd, "scripts/") || strings.HasPrefix(cmd, "./scripts/"):
					if _, err := os.Stat(filepath.Join(root, strings.TrimPrefix(cmd, "./"))); err != nil {
						t.Errorf("%s runs %s, which the repository does not ship", name, cmd)
					}
				case !shellCommands[cmd]:
					t.Errorf("%s runs %q (%s), which the repository does not ship nor a system has", name, cmd, line)
				}
			}
		}
	}
}

func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
