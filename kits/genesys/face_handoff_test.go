package genesys_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// TestHandoffThroughGenesysFace: through mock-desk's Genesys face the
// agent side gets the hand-off as the join's custom attributes and the
// bot transcript as the conversation's first customer lines.
func TestHandoffThroughGenesysFace(t *testing.T) {
	w := newWorld(t, nil)
	d, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("s-1")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.(io.Closer).Close() })
	h := servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace"},
		Attributes: map[string]string{"queue": "billing"},
		Summary:    "Card declined.",
		Transcript: []servicedesk.Turn{{From: servicedesk.TurnUser, Text: "my card was declined"}, {From: servicedesk.TurnBot, Text: "Let me get you a person."}},
	}
	msg := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent})
	require.NoError(t, d.StartChat(context.Background(), msg, servicedesk.StartChatOptions{Handoff: h}))

	var v mockdesk.ChatView
	require.Eventually(t, func() bool {
		st, err := w.desk.State(context.Background(), 0, 0)
		if err != nil || len(st.Chats) != 1 {
			return false
		}
		v = st.Chats[0]
		for _, e := range v.Transcript {
			if e.From == "customer" && strings.Contains(e.Text, "bot: Let me get you a person.") {
				return true
			}
		}
		return false
	}, 5*time.Second, 20*time.Millisecond, "the transcript as the first customer lines")
	require.Equal(t, "Card declined.", v.Summary)
	require.Equal(t, "c-42", v.Attributes["customer_id"])
	require.Equal(t, "Ada Lovelace", v.Attributes["customer_name"])
	require.Equal(t, "billing", v.Attributes["queue"])
	require.True(t, strings.HasPrefix(v.Transcript[0].Text, "Conversation with the bot before this chat:"), "%+v", v.Transcript)
}
