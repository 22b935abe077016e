package chatwoot

import (
	"testing"

	"github.com/deskbridge/deskbridge/kits/chatwoot/internal/wire"
)

// Documented shapes: a RoomChannel message.created (push_event_data with
// echo_id and sender), a status change, typing, an assignment.
var eventSeeds = []string{
	`{"event":"message.created","data":{"id":101,"content":"Hello","account_id":1,"inbox_id":2,"conversation_id":7,"message_type":1,"content_type":"text","content_attributes":{},"created_at":1700000000,"private":false,"source_id":null,"sender":{"id":3,"name":"Ada","available_name":"Ada","avatar_url":"","type":"user","availability_status":"online","thumbnail":""}}}`,
	`{"event":"message.created","data":{"id":102,"content":"hi","message_type":0,"echo_id":"m-1","conversation_id":7,"sender":{"id":9,"name":"visitor","type":"contact"}}}`,
	`{"event":"message.created","data":{"id":"103","content":null,"message_type":1,"content_type":"cards","content_attributes":{"items":[{"title":"Form","media_url":"https://x/y.png","actions":[{"type":"link","text":"Open","uri":"https://x/form"}]}]},"attachments":[{"id":1,"file_type":"image","data_url":"https://x/a.png"}]}}`,
	`{"event":"conversation.status_changed","data":{"id":7,"status":"resolved","meta":{"assignee":null}}}`,
	`{"event":"conversation.updated","data":{"id":7,"status":"open","meta":{"assignee":{"id":3,"name":"Ada","type":"user"}}}}`,
	`{"event":"conversation.typing_on","data":{"conversation":{"id":7},"user":{"id":3,"name":"Ada","type":"user"},"is_private":false}}`,
	`{"event":"presence.update","data":{"account_id":1,"users":{"3":"online"}}}`,
	`{"event":"message.created","data":{"content_attributes":"a string"}}`,
}

// FuzzDecodeItem: every RoomChannel message the kit reads, whatever it
// is, decodes or is refused without a panic, and a message turns into a
// Carbon message.
func FuzzDecodeItem(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		it, ok := decodeItem(b)
		if ok && it.msg != nil {
			_ = toResponse(*it.msg)
			_ = itemID(it)
		}
	})
}

// FuzzDecodeAnswers: the public API's answers (a contact, a conversation,
// the messages list) decode or fail without a panic.
func FuzzDecodeAnswers(f *testing.F) {
	f.Add([]byte(`{"id":5,"source_id":"5d7a","pubsub_token":"tok","name":"Ada","email":"ada@example.com"}`))
	f.Add([]byte(`{"id":7,"uuid":"u","inbox_id":2,"contact_last_seen_at":0,"status":"pending","agent_last_seen_at":0,"messages":[],"contact":{"id":5}}`))
	f.Add([]byte(`[{"id":101,"content":"Hello","message_type":1,"content_type":"text","content_attributes":{},"created_at":1700000000,"conversation_id":7,"sender":{"id":3,"type":"user"}}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = wire.Decode[wire.Contact](b)
		_, _ = wire.Decode[wire.Conversation](b)
		if ms, err := wire.Decode[[]wire.Message](b); err == nil {
			_ = sortMessages(ms)
		}
	})
}

// TestDecodeDocumentedEvents: the documented events decode into what the
// kit acts on.
func TestDecodeDocumentedEvents(t *testing.T) {
	it, ok := decodeItem([]byte(eventSeeds[0]))
	if !ok || it.msg == nil || it.msg.ID != "101" || it.msg.Sender.Type != wire.SenderUser || it.msg.Text() != "Hello" || itemID(it) != "m101" {
		t.Fatalf("message.created: %+v %v", it, ok)
	}
	it, _ = decodeItem([]byte(eventSeeds[1]))
	if it.msg.EchoID != "m-1" || it.msg.MessageType != wire.Incoming {
		t.Fatalf("echo: %+v", it.msg)
	}
	it, _ = decodeItem([]byte(eventSeeds[2]))
	r := toResponse(*it.msg)
	if g := r.Output.Generic; len(g) != 3 || g[0].Source != "https://x/a.png" || g[1].Source != "https://x/y.png" || g[2].URL != "https://x/form" || g[2].Label != "Open" {
		t.Fatalf("attachments and cards: %+v", g)
	}
	it, _ = decodeItem([]byte(eventSeeds[3]))
	if it.conv == nil || it.conv.Status != wire.StatusResolved {
		t.Fatalf("status: %+v", it)
	}
	it, _ = decodeItem([]byte(eventSeeds[4]))
	if it.conv.Meta == nil || it.conv.Meta.Assignee == nil || it.conv.Meta.Assignee.ID != "3" {
		t.Fatalf("assignee: %+v", it.conv)
	}
	it, _ = decodeItem([]byte(eventSeeds[5]))
	if it.typing == nil || it.typing.User.Type != wire.SenderUser {
		t.Fatalf("typing: %+v", it)
	}
	if it, ok := decodeItem([]byte(eventSeeds[6])); !ok || it.name != "" {
		t.Fatalf("presence is nothing for the chat: %+v", it)
	}
	if it, ok := decodeItem([]byte(eventSeeds[7])); !ok || it.msg == nil {
		t.Fatal("an unknown content_attributes shape failed the message")
	}
	if _, ok := decodeItem([]byte(`{"event":`)); ok {
		t.Fatal("bad JSON decoded")
	}
}
