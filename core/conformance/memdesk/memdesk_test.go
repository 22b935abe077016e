package memdesk_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/conformance/memdesk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The reference desk passes every scenario it can run without a network.
func TestConformance(t *testing.T) {
	conformance.Run(t, memdesk.Features, func(t *testing.T) *conformance.Harness {
		d := memdesk.New()
		return &conformance.Harness{Factory: d.Factory(), Desk: d}
	})
}
