package vendorkit_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

type cursorState struct {
	ChatID string `json:"chat_id,omitempty"`
	Next   int    `json:"next,omitempty"`
}

// TestSaved: the state comes from the session's persisted state; Change
// saves nothing, Update saves it whole, Merge only its fields; a state
// that does not decode is an error.
func TestSaved(t *testing.T) {
	rec := &sdtest.Recorder{}
	var v vendorkit.Saved[cursorState]
	require.NoError(t, v.Load("kit", servicedesk.FactoryParams{Callback: rec, PersistedState: json.RawMessage(`{"chat_id":"c-1","next":4}`)}, nil))
	assert.Equal(t, cursorState{ChatID: "c-1", Next: 4}, v.State())

	v.Change(func(s *cursorState) { s.Next = 5 })
	assert.Equal(t, "null", string(rec.PersistedState()), "Change saves nothing")
	assert.Equal(t, 5, v.State().Next)

	got := v.Update(func(s *cursorState) { s.ChatID = "c-2" })
	assert.Equal(t, cursorState{ChatID: "c-2", Next: 5}, got)
	assert.JSONEq(t, `{"chat_id":"c-2","next":5}`, string(rec.PersistedState()))

	v.Merge(func(s *cursorState) map[string]any { s.Next = 6; return map[string]any{"next": 6} })
	v.Change(func(s *cursorState) { s.ChatID = "unsaved" })
	v.Merge(func(*cursorState) map[string]any { return nil })
	assert.JSONEq(t, `{"chat_id":"c-2","next":6}`, string(rec.PersistedState()), "Merge saves its fields only")

	var bad vendorkit.Saved[cursorState]
	assert.ErrorContains(t, bad.Load("kit", servicedesk.FactoryParams{Callback: rec, PersistedState: json.RawMessage(`{"next":"x"}`)}, nil), "kit: persisted state")
}
