package mockdesk

import (
	"encoding/json"

	"github.com/deskbridge/deskbridge/core/deskproto"
)

// eventJSON returns the event's encoding. Callers encode outside the desk's
// lock, so it is not cached in the log.
func eventJSON(e deskproto.Event) []byte {
	b, _ := json.Marshal(e)
	return b
}

func intPtr(n int) *int    { return &n }
func boolPtr(b bool) *bool { return &b }
func strOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
