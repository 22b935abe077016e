package conformance

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestDeclarations: the optional methods a kit has are exactly those it
// declares, and an undeclared one answers errors.ErrUnsupported; the desk's
// name keeps Carbon's getName rule.
func TestDeclarations(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	c := servicedesk.NewController(f.deskFor("declarations"))
	got := c.Supports()
	for _, check := range []struct {
		name     string
		declared bool
		has      bool
	}{
		{"AvailabilityCheck / AreAnyAgentsOnline", features.AvailabilityCheck, got.AvailabilityCheck},
		{"UserTyping / UserTyping", features.UserTyping, got.UserTyping},
		{"UserRead / UserReadMessages", features.UserRead, got.UserReadMessages},
		{"ScreenShare / ScreenShareStop", features.ScreenShare, got.ScreenShareStop},
		{"Reconnect / Reconnect", features.Reconnect, got.Reconnect},
	} {
		assert.Equal(f.t, check.declared, check.has, "%s: implemented (want as declared)", check.name)
	}
	ctx := f.ctx
	if !features.UserTyping {
		expectUnsupported(f.t, "UserTyping", c.UserTyping(ctx, true))
	}
	if !features.UserRead {
		expectUnsupported(f.t, "UserReadMessages", c.UserReadMessages(ctx))
	}
	if !features.ScreenShare {
		expectUnsupported(f.t, "ScreenShareStop", c.ScreenShareStop(ctx))
	}
	if !features.Reconnect {
		_, err := c.Reconnect(ctx)
		expectUnsupported(f.t, "Reconnect", err)
	}
	if !features.AvailabilityCheck {
		_, err := c.AreAnyAgentsOnline(ctx, ConnectMessage())
		expectUnsupported(f.t, "AreAnyAgentsOnline", err)
	}
	if name := f.deskFor("name").Name(); name == "" || len(name) > 40 {
		f.t.Errorf("Name() = %q: want 1 to 40 characters (Carbon's getName rule)", name)
	}
}

func expectUnsupported(t *testing.T, what string, err error) {
	t.Helper()
	assert.ErrorIs(t, err, errors.ErrUnsupported, "%s is not declared, so it must answer errors.ErrUnsupported", what)
}
