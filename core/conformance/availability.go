package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestAvailabilityOnline: with agents online, a kit that checks
// availability says online; one that cannot says unknown.
func TestAvailabilityOnline(t *testing.T, features Features, maker HarnessMaker) {
	newFixture(t, maker).availability(features, true)
}

// TestAvailabilityOffline: with no agent online, a kit that checks
// availability says offline; one that cannot says unknown.
func TestAvailabilityOffline(t *testing.T, features Features, maker HarnessMaker) {
	newFixture(t, maker).availability(features, false)
}

func (f *fixture) availability(features Features, online bool) {
	require.NoError(f.t, f.h.Desk.SetAgentsOnline(f.ctx, online), "set agents online")
	got, err := f.s.CheckAvailability(f.ctx, ConnectMessage())
	require.NoError(f.t, err, "check availability")
	want := servicedesk.OnlineUnknown
	if features.AvailabilityCheck {
		want = servicedesk.Offline
		if online {
			want = servicedesk.Online
		}
	}
	require.Equal(f.t, want, got, "availability with agents online=%v", online)
}

// TestAvailabilityUnknown: without agents set either way, a kit that
// checks availability still knows; one that cannot says unknown.
func TestAvailabilityUnknown(t *testing.T, features Features, maker HarnessMaker) {
	f := newFixture(t, maker)
	got, err := f.s.CheckAvailability(f.ctx, ConnectMessage())
	require.NoError(f.t, err, "check availability")
	if features.AvailabilityCheck {
		// A kit that can check must know: unknown would hide a broken check.
		require.NotEqual(f.t, servicedesk.OnlineUnknown, got, "AvailabilityCheck declared, yet the answer is unknown")
		return
	}
	require.Equal(f.t, servicedesk.OnlineUnknown, got, "availability without the capability")
}
