package vendorkit

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func TestAttributesWithinBounds(t *testing.T) {
	a := &Attributes{MaxBytes: 60, MaxValue: 20, Key: strings.ToLower}
	a.Put("Queue", "billing")
	a.Put("long", strings.Repeat("x", 50))
	a.Put("queue", "vip") // replaced, its bytes freed
	a.Put("more", strings.Repeat("y", 50))
	a.Put("none", "zzzzzzzz")
	m := a.Map()
	assert.Equal(t, "vip", m["queue"])
	assert.Len(t, m["long"], 20)
	assert.True(t, strings.HasSuffix(m["long"], servicedesk.TruncatedMarker))
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	assert.LessOrEqual(t, n, 60)
	assert.Equal(t, 1, a.Dropped, "%v", m)
	assert.Nil(t, (&Attributes{}).Map())
}

func TestPutHandoffOrderAndNames(t *testing.T) {
	a := &Attributes{}
	a.PutHandoff(servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "c-42", Name: "Ada", Claims: map[string]string{"tier": "gold"}},
		Attributes: map[string]string{"queue": "billing"}, Unverified: map[string]string{"customer_id": "mallory"}, Summary: "s",
	}, "summary", "")
	assert.Equal(t, map[string]string{"queue": "billing", "customer_id": "c-42", "customer_verified": "true", "customer_name": "Ada",
		"customer_tier": "gold", "summary": "s", "unverified_customer_id": "mallory"}, a.Map())
}

func TestTranscriptLines(t *testing.T) {
	h := servicedesk.Handoff{TranscriptOmitted: 1, Transcript: []servicedesk.Turn{
		{From: "user", Text: "one\ntwo"}, {From: "bot", Text: strings.Repeat("b", 30)}, {From: "user", Text: "last"},
	}}
	lines, omitted := TranscriptLines(h, 100, 0)
	assert.Equal(t, []string{"user: one two", "bot: " + strings.Repeat("b", 30), "user: last"}, lines)
	assert.Equal(t, 1, omitted)
	lines, omitted = TranscriptLines(h, 20, 0)
	assert.Equal(t, []string{"user: last"}, lines, "the newest that fit")
	assert.Equal(t, 3, omitted)
	lines, _ = TranscriptLines(h, 100, 12)
	assert.Len(t, lines[1], 12)
}

func TestNoteLines(t *testing.T) {
	assert.Empty(t, NoteLines(servicedesk.Handoff{}), "nothing to say")
	lines := NoteLines(servicedesk.Handoff{
		Summary:    "wants a refund",
		Customer:   &servicedesk.Customer{ID: "c-42", Email: "ada@example.com", Claims: map[string]string{"tier": "gold", "plan": "pro"}},
		Unverified: map[string]string{"name": "Mallory"},
		Attributes: map[string]string{"queue": "billing", "lang": "en"},
	})
	assert.Equal(t, []string{
		"Summary: wants a refund",
		"Customer (verified): ada@example.com, c-42",
		"Verified claims: plan=pro, tier=gold",
		"Said by the customer's browser (not verified): name=Mallory",
		"Attributes: lang=en, queue=billing",
	}, lines)
}

func TestTranscriptHeading(t *testing.T) {
	assert.Equal(t, "Conversation with the bot:", TranscriptHeading(servicedesk.Handoff{}, 0))
	assert.Equal(t, "Conversation with the bot (as the customer's browser reported it), 3 earlier turns left out:",
		TranscriptHeading(servicedesk.Handoff{TranscriptUnverified: true}, 3))
}
