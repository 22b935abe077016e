package websocket_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/kits/websocket"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// TestHandoffReachesMockDesk: the hand-off context the engine gives
// StartChat is the start request's handoff object, and mock-desk's agent
// side has it, verified customer, attributes and transcript.
func TestHandoffReachesMockDesk(t *testing.T) {
	desk, err := mockdesk.New(mockdesk.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = desk.Close() })
	srv := httptest.NewServer(desk)
	t.Cleanup(srv.Close)
	kit, err := websocket.New(websocket.Config{BaseURL: srv.URL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kit.Close() })
	d, err := kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("s-1")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.(io.Closer).Close() })

	h := servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "c-42", Name: "Ada Lovelace", Email: "ada@example.com"},
		Unverified: map[string]string{"order": "42"},
		Attributes: map[string]string{"queue": "billing"},
		Summary:    "Card declined.",
		Transcript: []servicedesk.Turn{
			{From: servicedesk.TurnUser, Text: "my card was declined", At: time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)},
			{From: servicedesk.TurnBot, Text: "Let me get you a person."},
		},
		TranscriptUnverified: true,
	}
	msg := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: "Card declined."})
	require.NoError(t, d.StartChat(context.Background(), msg, servicedesk.StartChatOptions{Handoff: h}))

	st, err := desk.State(context.Background(), 0, 0)
	require.NoError(t, err)
	require.Len(t, st.Chats, 1)
	v := st.Chats[0]
	require.NotNil(t, v.Handoff)
	require.Equal(t, h, *v.Handoff)
	require.Equal(t, "Ada Lovelace", v.Customer.Name, "the verified name names the chat in the queue")
	require.Equal(t, "s-1", v.Customer.ID)
}
