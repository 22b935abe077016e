package servicedesk

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestHandoffWithConnectMessage(t *testing.T) {
	m := NewResponse(GenericItem{ResponseType: ResponseConnectToAgent, MessageToHumanAgent: "short",
		TransferInfo: &TransferInfo{AdditionalData: map[string]string{"queue": "billing", "tier": "gold"}}})
	h := Handoff{Attributes: map[string]string{"tier": "platinum"}}.WithConnectMessage(m)
	assert.Equal(t, "short", h.Summary)
	assert.Equal(t, map[string]string{"queue": "billing", "tier": "platinum"}, h.Attributes, "the host's attribute wins")
	assert.Equal(t, "mine", Handoff{Summary: "mine"}.WithConnectMessage(m).Summary)
	assert.True(t, Handoff{}.WithConnectMessage(TextResponse("hi")).IsZero(), "no connect_to_agent, nothing added")
	assert.False(t, h.IsZero())
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "abc", Truncate("abc", 3))
	got := Truncate(strings.Repeat("a", 100), 20)
	assert.Len(t, got, 20)
	assert.True(t, strings.HasSuffix(got, TruncatedMarker))
	assert.Equal(t, "ab", Truncate("abcdef", 2), "too small for the marker")
	assert.Equal(t, "", Truncate("abc", -1))
	for max := 0; max < 30; max++ {
		s := Truncate(strings.Repeat("é€", 10), max)
		assert.LessOrEqual(t, len(s), max)
		assert.True(t, utf8.ValidString(s), "max %d cut a rune: %q", max, s)
	}
}

func TestHandoffBound(t *testing.T) {
	h := Handoff{Transcript: []Turn{
		{From: TurnUser, Text: "one"}, {From: TurnBot, Text: "two"}, {From: TurnUser, Text: strings.Repeat("x", 50)}, {From: TurnBot, Text: "four"},
	}}
	got := h.Bound(3, 0, 0)
	assert.Equal(t, []string{"two", strings.Repeat("x", 50), "four"}, texts(got.Transcript))
	assert.Equal(t, 1, got.TranscriptOmitted)
	got = h.Bound(0, 20, 0)
	assert.Len(t, got.Transcript, 4)
	assert.Len(t, got.Transcript[2].Text, 20)
	assert.True(t, strings.HasSuffix(got.Transcript[2].Text, TruncatedMarker))
	got = h.Bound(0, 0, 30)
	assert.Equal(t, []string{"four"}, texts(got.Transcript), "the newest that fit")
	assert.Equal(t, 3, got.TranscriptOmitted)
	assert.Equal(t, h, h.Bound(0, 0, 0), "no bounds")
	assert.Equal(t, "one", h.Transcript[0].Text, "the input is not changed")
}

func texts(ts []Turn) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Text)
	}
	return out
}
