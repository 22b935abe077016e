package genesys_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestHandoffAsGenesysShows: the join carries the verified customer, the
// routing attributes, the summary and the user's claims (marked) as
// customAttributes within their 2 KB; the bot transcript follows as the
// opening guest messages, headed, each a Text onMessage.
func TestHandoffAsGenesysShows(t *testing.T) {
	f := newFixture(t, "")
	h := servicedesk.Handoff{
		Customer:             &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace", Claims: map[string]string{"tier": "gold"}},
		Unverified:           map[string]string{"order": "42"},
		Attributes:           map[string]string{"queue": "billing", "big": strings.Repeat("x", 3000)},
		Transcript:           []servicedesk.Turn{{From: servicedesk.TurnUser, Text: "my card was declined"}, {From: servicedesk.TurnBot, Text: "Let me get you a person."}},
		TranscriptUnverified: true,
	}
	cm := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: "refund"})
	require.NoError(t, f.desk.StartChat(context.Background(), cm, servicedesk.StartChatOptions{Handoff: h}))
	f.g.next(t, "configureSession")
	join := f.g.next(t, "onMessage")
	var msg struct {
		Channel struct {
			Metadata struct {
				CustomAttributes map[string]string `json:"customAttributes"`
			} `json:"metadata"`
		} `json:"channel"`
	}
	b, _ := json.Marshal(join["message"])
	require.NoError(t, json.Unmarshal(b, &msg))
	attrs := msg.Channel.Metadata.CustomAttributes
	size := 0
	for k, v := range attrs {
		size += len(k) + len(v)
	}
	require.LessOrEqual(t, size, 2048, "customAttributes %v", attrs)
	require.Equal(t, "billing", attrs["queue"])
	require.True(t, strings.HasSuffix(attrs["big"], servicedesk.TruncatedMarker), "a long value is cut with a marker")
	for k, want := range map[string]string{"summary": "refund", "unverified_order": "42", "customer_id": "c-42", "customer_name": "Ada Lovelace", "customer_tier": "gold"} {
		require.Equal(t, want, attrs[k], k)
	}

	tr := f.g.next(t, "onMessage")
	b, _ = json.Marshal(tr["message"])
	var text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	require.NoError(t, json.Unmarshal(b, &text))
	require.Equal(t, "Text", text.Type)
	require.Equal(t, "Conversation with the bot before this chat (as the customer's browser reported it):\nuser: my card was declined\nbot: Let me get you a person.", text.Text)
}

// TestHandoffAttributesFit: without a huge attribute the whole customer
// goes in.
func TestHandoffAttributesFit(t *testing.T) {
	f := newFixture(t, "")
	h := servicedesk.Handoff{Customer: &servicedesk.Customer{ID: "c-42", Name: "Ada"}, Unverified: map[string]string{"order": "42"}, Summary: "Card declined."}
	require.NoError(t, f.desk.StartChat(context.Background(), servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent}), servicedesk.StartChatOptions{Handoff: h}))
	f.g.next(t, "configureSession")
	join := f.g.next(t, "onMessage")
	b, _ := json.Marshal(join["message"])
	require.JSONEq(t, `{"channel":{"metadata":{"customAttributes":{"customer_id":"c-42","customer_verified":"true","customer_name":"Ada","summary":"Card declined.","unverified_order":"42"}}},"events":[{"eventType":"Presence","presence":{"type":"Join"}}],"type":"Event"}`, string(b))
}
