package vendorkit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// TestOutage: a fake vendor's calls fail and answer again; DISCONNECTED is
// raised at the After-th failure in a row while an agent is in, once, and
// cleared by Over after the read that follows recovery.
func TestOutage(t *testing.T) {
	rec := &sdtest.Recorder{}
	c := &vendorkit.Chat{Callback: rec}
	c.Begin(true)
	o := &vendorkit.Outage{After: 3}
	o.Failed(c)
	o.Failed(c)
	assert.False(t, o.Answered(), "two failures are no outage")
	assert.Empty(t, rec.Calls())
	for range 5 {
		o.Failed(c)
	}
	assert.Len(t, rec.Calls(), 1, "raised once")
	o.Over(c) // the kit calls Over after its read
	assert.Len(t, rec.Calls(), 2, "Over clears what was raised")
	o.Over(c)
	assert.Len(t, rec.Calls(), 2, "cleared once")
	assert.True(t, o.Answered(), "the answer after the outage ends it")
	assert.False(t, o.Answered())

	// No agent in: the outage is not raised, nor cleared.
	rec2 := &sdtest.Recorder{}
	c2 := &vendorkit.Chat{Callback: rec2}
	c2.Begin(false)
	o2 := &vendorkit.Outage{}
	o2.Failed(c2)
	assert.True(t, o2.Answered(), "one failure is an outage with After 0")
	o2.Over(c2)
	assert.Empty(t, rec2.Calls())

	// Reset forgets an outage raised for an earlier chat.
	o.Failed(c)
	o.Failed(c)
	o.Failed(c)
	o.Reset()
	assert.False(t, o.Answered())
	o.Over(c)
	got := rec.Calls()
	assert.Len(t, got, 3)
	assert.Equal(t, got[0], got[2], "raised again for the later outage")
	assert.NotEqual(t, got[0], got[1])
}
