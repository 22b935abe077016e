package amazonconnect_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
)

// TestHandoffThroughConnectFace: the hand-off reaches mock-desk's agent
// side through its Amazon Connect face, which holds the kit to Connect's
// documented limits: the verified name is the customer's, the attributes
// and the transcript are the contact's, a huge transcript is cut and the
// contact still starts.
func TestHandoffThroughConnectFace(t *testing.T) {
	w := newWorld(t, nil)
	d, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("s-1")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.(io.Closer).Close() })
	h := servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace"},
		Unverified: map[string]string{"order id": "42"},
		Attributes: map[string]string{"queue": "billing"},
		Summary:    "Card declined.",
	}
	for range 200 {
		h.Transcript = append(h.Transcript, servicedesk.Turn{From: servicedesk.TurnUser, Text: strings.Repeat("w", 400)})
	}
	h.Transcript = append(h.Transcript, servicedesk.Turn{From: servicedesk.TurnBot, Text: "Let me get you a person."})
	msg := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent})
	require.NoError(t, d.StartChat(context.Background(), msg, servicedesk.StartChatOptions{Handoff: h}))

	st, err := w.desk.State(context.Background(), 0, 0)
	require.NoError(t, err)
	require.Len(t, st.Chats, 1)
	v := st.Chats[0]
	require.Equal(t, "Ada Lovelace", v.Customer.Name)
	require.Equal(t, "Card declined.", v.Summary)
	require.Equal(t, "c-42", v.Attributes["customer_id"])
	require.Equal(t, "billing", v.Attributes["queue"])
	require.Equal(t, "42", v.Attributes["unverified_order_id"])
	tr := v.Attributes["bot_transcript"]
	require.True(t, strings.HasSuffix(tr, "bot: Let me get you a person."), "the newest turn is kept")
	require.Contains(t, tr, "earlier messages left out]")
}
