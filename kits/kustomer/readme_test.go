package kustomer_test

import (
	"testing"

	"github.com/deskbridge/deskbridge/core/conformance"
)

// Features is what the kit declares to the conformance suite; the
// README's capability table is checked against it. Kustomer's server chat
// API and webhooks carry no typing, reads, availability, queue or screen
// share (README: what Kustomer does not offer).
var Features = conformance.Features{
	FileUpload: true,
	Transfer:   true,
	Reconnect:  true,
}

// TestREADMECapabilities keeps the README's capability table in step with
// what the kit declares.
func TestREADMECapabilities(t *testing.T) {
	conformance.CheckREADME(t, "README.md", Features)
}
