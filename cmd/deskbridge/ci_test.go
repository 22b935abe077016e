package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeTestCommand is the command of the README's "# test:" line.
func readmeTestCommand(t *testing.T) string {
	t.Helper()
	for _, line := range strings.Split(readRepoFile(t, "README.md"), "\n") {
		if cmd, comment, ok := strings.Cut(line, "#"); ok && strings.HasPrefix(strings.TrimSpace(comment), "test:") {
			return strings.TrimSpace(cmd)
		}
	}
	t.Fatal("README.md has no line with a \"# test:\" comment")
	return ""
}

var yamlValue = regexp.MustCompile(`(?m)^\s*-?\s*(run|uses|runs-on|directory|package-ecosystem):\s*(.+?)\s*$`)

// yamlValues lists the values of key in a YAML file, in order (the files
// here keep each on one line).
func yamlValues(text, key string) []string {
	var out []string
	for _, m := range yamlValue.FindAllStringSubmatch(text, -1) {
		if m[1] == key {
			out = append(out, strings.Trim(m[2], `"'`))
		}
	}
	return out
}

// TestWorkflowRunsTheREADMECommand: the GitHub workflow runs exactly the
// README's test command, on a hosted Ubuntu runner, with nothing set up by
// hand but Go; .ci/run runs it too.
func TestWorkflowRunsTheREADMECommand(t *testing.T) {
	want := readmeTestCommand(t)
	if want != "./scripts/test.sh" {
		t.Errorf("the README's test command is %q", want)
	}
	wf := readRepoFile(t, ".github/workflows/ci.yml")
	if runs := yamlValues(wf, "run"); !slices.Equal(runs, []string{want}) {
		t.Errorf("the workflow runs %q, want only the README's %q", runs, want)
	}
	if on := yamlValues(wf, "runs-on"); !slices.Equal(on, []string{"ubuntu-latest"}) {
		t.Errorf("the workflow runs on %q", on)
	}
	for _, u := range yamlValues(wf, "uses") {
		if name, _, _ := strings.Cut(u, "@"); name != "actions/checkout" && name != "actions/setup-go" {
			t.Errorf("the workflow uses %s: only checkout and setup-go, the test command installs the rest", u)
		}
	}
	if ci := readRepoFile(t, ".ci/run"); !strings.Contains(ci, "exec "+want+"\n") {
		t.Errorf(".ci/run does not exec %s:\n%s", want, ci)
	}
}

// TestDependabotCoversEveryModule: dependabot watches every module go.work
// lists, the npm packages of the @carbon/ai-chat page, and the actions.
func TestDependabotCoversEveryModule(t *testing.T) {
	var mods []string
	for _, line := range strings.Split(readRepoFile(t, "go.work"), "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "./") {
			mods = append(mods, "gomod /"+strings.TrimPrefix(l, "./"))
		}
	}
	if len(mods) < 5 {
		t.Fatalf("go.work lists %v", mods)
	}
	want := append(mods, "npm /cmd/deskbridge/testdata/carbon", "github-actions /")
	cfg := readRepoFile(t, ".github/dependabot.yml")
	eco, dirs := yamlValues(cfg, "package-ecosystem"), yamlValues(cfg, "directory")
	if len(eco) != len(dirs) {
		t.Fatalf("dependabot.yml: %d ecosystems, %d directories", len(eco), len(dirs))
	}
	var got []string
	for i := range eco {
		got = append(got, eco[i]+" "+dirs[i])
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("dependabot.yml covers\n%v\nwant\n%v", got, want)
	}
}
