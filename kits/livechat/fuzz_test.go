package livechat

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/kits/livechat/internal/wire"
)

// FuzzDecodeFrame: no RTM frame makes the decoder or the routing panic,
// whatever its action, type and payload, for the chat the desk follows.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		push("incoming_event", agentEvent("Q1_1", "Hello")),
		push("incoming_event", `{"chat_id":"PJ0MRSHTDG","event":{"id":"r","type":"rich_message","template_id":"cards","author_id":"a","elements":[{"title":"t","image":{"url":"https://e/i.png"},"buttons":[{"text":"Go","type":"url","value":"https://e"},{"text":"yes","postback_id":"y"}]}]}}`),
		push("incoming_event", `{"chat_id":"PJ0MRSHTDG","event":{"id":"f","type":"file","author_id":"a","url":"https://cdn/x.pdf","name":"x.pdf","content_type":"application/pdf"}}`),
		push("incoming_typing_indicator", `{"chat_id":"PJ0MRSHTDG","typing_indicator":{"author_id":"a","is_typing":true}}`),
		push("user_added_to_chat", `{"chat_id":"PJ0MRSHTDG","user":`+agentAda+`}`),
		push("user_removed_from_chat", `{"chat_id":"PJ0MRSHTDG","user_id":"b5657aff34dd32e198160d54666df9d8"}`),
		push("chat_transferred", `{"chat_id":"PJ0MRSHTDG","transferred_to":{"group_ids":[1],"agent_ids":["x"]},"queue":{"position":1,"wait_time":60}}`),
		push("events_marked_as_seen", `{"user_id":"a","chat_id":"PJ0MRSHTDG","seen_up_to":"2017-10-12T15:19:21.010200Z"}`),
		push("queue_position_updated", `{"chat_id":"PJ0MRSHTDG","queue":{"position":42,"wait_time":1337}}`),
		push("chat_deactivated", `{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8"}`),
		push("customer_disconnected", `{"reason":"misdirected_connection","data":{"region":"fra"}}`),
		`{"request_id":"x","action":"login","type":"response","success":false,"payload":{"error":{"type":"authentication","message":"Invalid access token"}}}`,
		`{"request_id":"x","action":"start_chat","type":"response","success":true,"payload":{"chat_id":"C","thread_id":"T"}}`,
		`{"action":"incoming_multicast","type":"push","payload":{"content":{"a":1}}}`,
		`{"action":"x","type":"other"}`, `{}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	k, err := New(Config{OrganizationID: "o", CustomerToken: nil, ClientID: "c", AgentToken: func(context.Context) (string, error) { return "", nil }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := newDesk(k, servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, PersistedState: json.RawMessage(`{"chat_id":"PJ0MRSHTDG","thread_id":"K600PKZON8","entity_id":"e"}`)})
		if err != nil {
			t.Fatal(err)
		}
		d.onFrame(b)
		_ = d.Close()
	})
}

// FuzzDecodeAnswers: no answer payload makes the response decoders panic:
// the thread and chat answers the gap fill reads (and the events in them
// as Carbon messages), failed responses, Web API error bodies.
func FuzzDecodeAnswers(f *testing.F) {
	for _, s := range []string{
		`{"threads":[{"id":"K","active":true,"events":[` + threadEvent("Q1_1", "one") + `]}],"next_page_id":"MTUx"}`,
		`{"id":"C","thread":{"id":"K","active":false,"events":[],"queue":{"position":2,"wait_time":30}},"users":[` + agentAda + `]}`,
		`{"groups_status":{"0":"online_for_queue","1":"offline"}}`,
		`{"error":{"type":"too_many_requests","message":"Too many requests"}}`,
		`{"url":"https://cdn.livechat-files.com/api/file/lc/att/1/x.png"}`,
		`{"access_token":"dal:x","entity_id":"e","expires_in":28800,"token_type":"Bearer"}`,
		`{"threads":null}`, `{}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var lt wire.ListThreads
		if decode(b, &lt) == nil {
			for _, th := range lt.Threads {
				for _, e := range th.Events {
					_, _ = messageOf(e)
					_ = e.Time()
				}
			}
		}
		var gc wire.GetChat
		_ = decode(b, &gc)
		var gs wire.GroupStatuses
		_ = decode(b, &gs)
		var tok wire.Token
		_ = decode(b, &tok)
		_ = rtmError("fuzz", b).Error()
		_ = webError("fuzz", &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"2"}}}, b).Error()
	})
}
