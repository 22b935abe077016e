package amazonconnect

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

var connectKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func attrBytes(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// TestHandoffAsConnectShows: the verified customer is the participant's
// display name and contact attributes, the routing attributes route, the
// user's claims are marked unverified, the transcript is an attribute;
// every key is one Connect takes, and the whole fits its 32 KiB.
func TestHandoffAsConnectShows(t *testing.T) {
	cfg := Config{DisplayName: "Customer", SummaryAttribute: "summary", Attributes: map[string]string{"brand": "shop"}}
	h := servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace", Email: "ada@example.com", Claims: map[string]string{"tier": "gold"}},
		Unverified: map[string]string{"order id": "42"},
		Attributes: map[string]string{"queue": "billing"},
		Summary:    "Card declined.",
		Transcript: []servicedesk.Turn{{From: servicedesk.TurnUser, Text: "my card\nwas declined"}, {From: servicedesk.TurnBot, Text: "Let me get you a person."}},
	}
	require.Equal(t, "Ada Lovelace", displayName(cfg, h))
	require.Equal(t, "Customer", displayName(cfg, servicedesk.Handoff{}))
	long := displayName(cfg, servicedesk.Handoff{Customer: &servicedesk.Customer{ID: "x", Name: strings.Repeat("é", 200)}})
	require.LessOrEqual(t, len(long), maxDisplayNameBytes)
	require.True(t, utf8.ValidString(long) && strings.HasSuffix(long, servicedesk.TruncatedMarker), long)

	attrs, dropped := contactAttributes(cfg, h, "")
	require.Zero(t, dropped)
	require.Equal(t, map[string]string{
		"brand": "shop", "queue": "billing",
		"customer_id": "c-42", "customer_verified": "true", "customer_name": "Ada Lovelace", "customer_email": "ada@example.com", "customer_tier": "gold",
		"summary":             "Card declined.",
		"unverified_order_id": "42",
		"bot_transcript":      "user: my card was declined\nbot: Let me get you a person.",
	}, attrs)
	for k := range attrs {
		require.Regexp(t, connectKey, k)
	}
	anon, _ := contactAttributes(cfg, servicedesk.Handoff{Unverified: map[string]string{"customer_id": "c-1"}}, "")
	require.NotContains(t, anon, "customer_id", "a browser's claim is never the customer id")
	require.Equal(t, "c-1", anon["unverified_customer_id"])
}

// TestHandoffWithinConnectLimits: a transcript and attributes past 32 KiB
// are cut with a marker, the newest turns kept; the start goes on.
func TestHandoffWithinConnectLimits(t *testing.T) {
	cfg := Config{DisplayName: "Customer", SummaryAttribute: "summary"}
	h := servicedesk.Handoff{Attributes: map[string]string{}, TranscriptUnverified: true, TranscriptOmitted: 2}
	for i := range 40 {
		h.Attributes["a"+strings.Repeat("x", i)] = strings.Repeat("v", 500)
	}
	for i := range 50 {
		h.Transcript = append(h.Transcript, servicedesk.Turn{From: servicedesk.TurnUser, Text: strings.Repeat("t", 1000) + " turn " + string(rune('A'+i%26))})
	}
	h.Transcript[49].Text = "the last turn"
	attrs, dropped := contactAttributes(cfg, h, strings.Repeat("s", 40000))
	require.LessOrEqual(t, attrBytes(attrs), maxAttributeBytes)
	require.True(t, strings.HasSuffix(attrs["summary"], servicedesk.TruncatedMarker) || dropped > 0, "the summary is cut or left out")

	small := servicedesk.Handoff{Transcript: h.Transcript, TranscriptUnverified: true, TranscriptOmitted: 2}
	attrs, dropped = contactAttributes(cfg, small, "")
	require.Zero(t, dropped)
	tr := attrs["bot_transcript"]
	require.LessOrEqual(t, attrBytes(attrs), maxAttributeBytes)
	require.True(t, strings.HasPrefix(tr, "(as the customer's browser reported it)\n["), tr[:80])
	require.Contains(t, tr, "earlier messages left out]")
	require.True(t, strings.HasSuffix(tr, "user: the last turn"), "the newest turn is kept")
}
