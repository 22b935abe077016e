package kustomer

import (
	"encoding/json"
	"testing"

	"github.com/deskbridge/deskbridge/kits/kustomer/internal/wire"
)

// FuzzAnswer feeds any REST answer to the kit's readers of Kustomer's
// answers: the error body, a page of messages and what the customer is
// shown of each. None panics; every message shows at least one item, and
// a body's text is never lost.
func FuzzAnswer(f *testing.F) {
	for _, seed := range []string{
		`{"errors":[{"status":400,"code":"invalid","title":"Bad Request","detail":"body is too long"}]}`,
		`{"errors":[]}`, `{"errors":"x"}`, `<html>502</html>`,
		`{"data":[{"type":"chat_message","id":"m1","attributes":{"body":"Hi\n\n![a](https://x/y.png)\n\n[Go](https://x)","direction":"out",` +
			`"attachments":[{"_id":"a1","name":"r.pdf","url":"https://x/r.pdf"}]},"relationships":{"createdBy":{"data":{"type":"user","id":"u1"}}}}],"links":{"next":null}}`,
		`{"data":[{"id":"m2","attributes":{"body":""}}],"links":{"next":"/v2.1/chat/sessions/c/messages?page=2"}}`,
		`{"data":[{"attributes":{"body":"![](\n)"},"relationships":{"createdBy":{"data":null}}}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if code, msg := errorBody(b); code != "" && msg == "" && json.Valid(b) {
			t.Fatalf("an error code without a message from %q", b)
		}
		var page wire.MessagePage
		if json.Unmarshal(b, &page) != nil {
			return
		}
		for _, m := range page.Data {
			_ = m.Relationships.CreatedBy.ID()
			r := toResponse(m)
			if len(r.Output.Generic) == 0 {
				t.Fatalf("nothing shown of %+v", m)
			}
		}
	})
}
