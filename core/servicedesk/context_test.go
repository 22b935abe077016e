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
