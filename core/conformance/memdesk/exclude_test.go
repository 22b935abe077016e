package memdesk_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/conformance/memdesk"
)

// TestRunExcluding: an excluded scenario is skipped before its harness is
// made; the others run.
func TestRunExcluding(t *testing.T) {
	var mu sync.Mutex
	made := map[string]bool{}
	excluded := map[string]string{"chat/agent_leaves_then_another_joins": "the desk's guests never see an agent leave"}
	conformance.RunExcluding(t, memdesk.Capabilities, excluded, func(t *testing.T) *conformance.Harness {
		name := t.Name()[strings.Index(t.Name(), "/")+1:]
		mu.Lock()
		made[name] = true
		mu.Unlock()
		d := memdesk.New()
		return &conformance.Harness{Factory: d.Factory(), Desk: d}
	})
	if made["chat/agent_leaves_then_another_joins"] {
		t.Error("the excluded scenario ran")
	}
	if !made["chat/transfer"] || !made["chat/full_conversation"] {
		t.Errorf("scenarios that are not excluded did not run: %v", made)
	}
}
