package polling_test

import (
	"testing"

	"github.com/deskbridge/deskbridge/core/conformance"
)

func TestREADME(t *testing.T) { conformance.CheckREADME(t, "README.md", declared) }
