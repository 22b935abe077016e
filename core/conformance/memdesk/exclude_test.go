package memdesk_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/conformance/memdesk"
)

// TestRunExcluding: an excluded scenario is skipped before its harness is
// made; the others run.
func TestRunExcluding(t *testing.T) {
	var mu sync.Mutex
	made := map[string]bool{}
	excluded := map[string]string{"chat/agent_leaves_then_another_joins": "the desk's guests never see an agent leave"}
	// The scenarios run in parallel, after RunExcluding returns: check what
	// they did once they all ended.
	t.Cleanup(func() {
		assert.False(t, made["chat/agent_leaves_then_another_joins"], "the excluded scenario ran")
		assert.True(t, made["chat/transfer"] && made["chat/full_conversation"], "scenarios that are not excluded did not run: %v", made)
	})
	conformance.RunExcluding(t, memdesk.Features, excluded, func(t *testing.T) *conformance.Harness {
		name := t.Name()[strings.Index(t.Name(), "/")+1:]
		mu.Lock()
		made[name] = true
		mu.Unlock()
		d := memdesk.New()
		return &conformance.Harness{Factory: d.Factory(), Desk: d}
	})
}
