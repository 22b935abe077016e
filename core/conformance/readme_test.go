package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// errRecorder is a testing.TB that keeps the errors instead of failing.
type errRecorder struct {
	testing.TB
	errs []string
}

func (r *errRecorder) Helper() {}
func (r *errRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheckREADME(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	table := "| capability | supported | how |\n| --- | --- | --- |\n"
	for _, name := range []string{"AvailabilityCheck", "QueuePosition", "WaitTime", "UserTyping", "AgentTyping", "UserRead", "AgentRead", "FileUpload", "Transfer", "ScreenShare"} {
		table += "| " + name + " | yes | x |\n"
	}
	table += "| `Reconnect` | no | not yet |\n"
	if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	all := Features{true, true, true, true, true, true, true, true, true, true, true}
	r := &errRecorder{TB: t}
	CheckREADME(r, path, all)
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "Reconnect is no") {
		t.Fatalf("errors %q, want one about Reconnect", r.errs)
	}
	all.Reconnect = false
	r = &errRecorder{TB: t}
	CheckREADME(r, path, all)
	if len(r.errs) != 0 {
		t.Fatalf("errors %q for a matching table", r.errs)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(table, "| WaitTime | yes | x |\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = &errRecorder{TB: t}
	CheckREADME(r, path, all)
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "no row for WaitTime") {
		t.Fatalf("errors %q, want a missing row", r.errs)
	}
}
