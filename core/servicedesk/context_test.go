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

func TestSplitText(t *testing.T) {
	assert.Nil(t, SplitText("", 10))
	assert.Equal(t, []string{"short"}, SplitText("short", 10))
	assert.Equal(t, []string{"one two ", "three"}, SplitText("one two three", 9), "cut after a space near the end")
	assert.Equal(t, []string{"abcdefghij", "klm"}, SplitText("abcdefghijklm", 10), "no space: cut at the bound")
	assert.Equal(t, []string{"ééé", "éé"}, SplitText("ééééé", 7), "never inside a rune")
}

// FuzzSplitText: every part is within the bound, valid UTF-8 when the
// text was, and the parts together are the text.
func FuzzSplitText(f *testing.F) {
	f.Add("hello world", 4)
	f.Add(strings.Repeat("é", 900), 1600)
	f.Add("\x80\x80\x80\x80\x80\x80", 4)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n > 1<<16 {
			return
		}
		parts := SplitText(s, n)
		if strings.Join(parts, "") != s {
			t.Fatal("parts lose text")
		}
		for _, p := range parts {
			if p == "" || len(p) > max(n, 4) || (utf8.ValidString(s) && !utf8.ValidString(p)) {
				t.Fatalf("part %q of bound %d", p, n)
			}
		}
	})
}
