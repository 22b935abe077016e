package wire

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeEvent: any body decodes or fails without a panic; a decoded
// envelope has an id, a name and a resource, and a conversation's event
// names that conversation.
func FuzzDecodeEvent(f *testing.F) {
	for _, seed := range []string{
		`{"id":"6717c2b1e5b1f00012ab3511","name":"kustomer.conversation.update","org":"o","partition":"o","data":{"type":"conversation","id":"c1","attributes":{"status":"done"}},"changes":{"attributes":{"status":{"before":"open","after":"done"}}},"createdAt":"2026-10-21T15:00:02.130Z"}`,
		`{"id":"e","name":"kustomer.message.create","data":{"type":"chat_message","id":"m","attributes":{"direction":"out"},"relationships":{"conversation":{"data":{"type":"conversation","id":"c2"}}}}}`,
		`{"id":"e","name":"n","data":{"type":"chat_message","relationships":{"conversation":{}}}}`,
		`{"id":1}`, `{}`, `"x"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		if err != nil {
			return
		}
		if ev.ID == "" || ev.Name == "" || ev.Data.Type == "" {
			t.Fatalf("decoded without its id, name or data: %q", b)
		}
		if ev.Data.Type == "conversation" && ev.Conversation() != ev.Data.ID {
			t.Fatalf("a conversation's event names %q, not its id %q", ev.Conversation(), ev.Data.ID)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatal(err)
		}
	})
}
