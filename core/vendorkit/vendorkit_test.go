package vendorkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/lifetime"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type state struct {
	ChatID string `json:"chat_id"`
}

func TestLoadState(t *testing.T) {
	st, err := vendorkit.LoadState[state]("kit", nil)
	require.NoError(t, err)
	assert.Equal(t, state{}, st)
	st, err = vendorkit.LoadState[state]("kit", json.RawMessage(`{"chat_id":"c-1"}`))
	require.NoError(t, err)
	assert.Equal(t, "c-1", st.ChatID)
	_, err = vendorkit.LoadState[state]("kit", json.RawMessage(`{"chat_id":7}`))
	require.Error(t, err, "a state that does not decode is an error, not a forgotten chat")
	assert.Contains(t, err.Error(), "kit: persisted state")
}

// TestEndedByDesk: the one rule, once per chat.
func TestEndedByDesk(t *testing.T) {
	for _, tc := range []struct {
		name   string
		joined bool
		byUs   bool
		quiet  bool
		want   []string
	}{
		{"agent joined", true, false, false, []string{"ended"}},
		{"no agent", false, false, false, []string{"error(CONNECTING,false,no agents)"}},
		{"the customer ended it", true, true, false, nil},
		{"a resume found it over", true, false, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &sdtest.Recorder{}
			c := &vendorkit.Chat{Callback: rec}
			c.Begin(false)
			if tc.joined {
				assert.True(t, c.Join(), "the first join")
				assert.False(t, c.Join(), "a second join")
			}
			if tc.byUs {
				assert.False(t, c.EndingByUs(), "ending a chat that goes on")
			}
			assert.Equal(t, tc.joined, c.AgentIn(), "an agent is in until the chat ends")
			c.EndedByDesk("no agents", tc.quiet)
			c.EndedByDesk("again", false) // once per chat
			assert.True(t, c.Ended())
			assert.False(t, c.AgentIn())
			got := rec.Calls()
			if len(tc.want) == 0 {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tc.want, got)
			}
			c.Begin(false)
			assert.False(t, c.Ended(), "Begin starts a new chat")
			assert.True(t, c.Close())
			assert.False(t, c.Close(), "Close is idempotent")
			assert.ErrorIs(t, c.OpenSocket(func() stream.SocketConfig { t.Fatal("configured a socket after Close"); return stream.SocketConfig{} }), lifetime.ErrClosed)
		})
	}
}

type closer struct{ closed bool }

func (c *closer) Close() error { c.closed = true; return nil }

func TestDesks(t *testing.T) {
	var k vendorkit.Desks[*closer]
	a, err := k.Open(context.Background(), "kit", func() (*closer, error) { return &closer{}, nil })
	require.NoError(t, err)
	_, err = k.Open(context.Background(), "kit", func() (*closer, error) { return nil, errors.New("bad state") })
	require.ErrorContains(t, err, "kit: factory: bad state")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = k.Open(ctx, "kit", func() (*closer, error) { t.Fatal("made a desk for a cancelled call"); return nil, nil })
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, k.Close())
	assert.True(t, a.closed, "Close closes the open desks")
	late := &closer{}
	_, err = k.Open(context.Background(), "kit", func() (*closer, error) { return late, nil })
	require.ErrorIs(t, err, lifetime.ErrClosed)
	assert.True(t, late.closed, "a desk made after Close is closed at once")
}

func TestAs(t *testing.T) {
	type contact struct{ ID string }
	get := func(id string) func() (contact, bool) { return func() (contact, bool) { return contact{id}, id != "" } }
	var c contact
	assert.True(t, vendorkit.As(&c, get("c-1")))
	assert.Equal(t, "c-1", c.ID)
	assert.False(t, vendorkit.As(&c, get("")), "no value yet")
	assert.False(t, vendorkit.As(new(string), get("c-1")), "another type")
	assert.False(t, vendorkit.As(nil, get("c-1")), "a nil target")
	assert.False(t, vendorkit.As((*contact)(nil), get("c-1")), "a nil pointer")
}

// chatDesk is a kit's desk: a Chat whose Close is CloseChat.
type chatDesk struct {
	vendorkit.Chat
	desks         *vendorkit.Desks[*chatDesk]
	calls, closes int
}

func (d *chatDesk) Close() error {
	d.calls++
	if d.desks.CloseChat(d, &d.Chat) {
		d.closes++
	}
	return nil
}

func TestCloseChatForgetsTheDesk(t *testing.T) {
	var k vendorkit.Desks[*chatDesk]
	d, err := k.Open(context.Background(), "kit", func() (*chatDesk, error) { return &chatDesk{desks: &k}, nil })
	require.NoError(t, err)
	require.NoError(t, d.Close())
	require.NoError(t, d.Close())
	assert.Equal(t, 1, d.closes, "only the first Close closes the chat")
	assert.False(t, k.CloseChat(d, &d.Chat), "a closed chat closes once")
	require.NoError(t, k.Close())
	assert.Equal(t, 2, d.calls, "a desk that closed itself is forgotten: the kit's Close does not close it again")
}

// TestEndChat: the vendor is told of the customer's end once, not after
// the desk or the agent ended the chat, nor of a chat it never had; a
// chat the vendor lost already is no error; the chat is over either way.
func TestEndChat(t *testing.T) {
	rec := &sdtest.Recorder{}
	c := &vendorkit.Chat{Callback: rec}
	defer c.Close()
	told := 0
	tell := func(err error) func(context.Context) error {
		return func(ctx context.Context) error {
			told++
			return err
		}
	}
	c.Begin(true)
	require.NoError(t, c.EndChat(context.Background(), servicedesk.EndChatInfo{}, true, tell(nil)))
	assert.Equal(t, 1, told)
	assert.True(t, c.Ended())
	require.NoError(t, c.EndChat(context.Background(), servicedesk.EndChatInfo{}, true, tell(nil)))
	assert.Equal(t, 1, told, "an ended chat is not ended again")

	c.Begin(true)
	require.NoError(t, c.EndChat(context.Background(), servicedesk.EndChatInfo{EndedByHumanAgent: true}, true, tell(nil)))
	c.Begin(false)
	require.NoError(t, c.EndChat(context.Background(), servicedesk.EndChatInfo{}, false, tell(nil)))
	assert.Equal(t, 1, told, "the agent's end, and a chat the vendor never had")

	c.Begin(true)
	require.NoError(t, c.EndChat(context.Background(), servicedesk.EndChatInfo{}, true, tell(servicedesk.ErrChatNotFound)), "gone already")
	c.Begin(true)
	down := errors.New("503")
	assert.ErrorIs(t, c.EndChat(context.Background(), servicedesk.EndChatInfo{}, true, tell(down)), down)
	assert.True(t, c.Ended(), "over even when the vendor was not told")
	c.EndedByDesk("late", false)
	assert.Empty(t, rec.Calls(), "the customer's end is quiet")
}

// TestResume: while a Reconnect runs, the desk's end of the chat is
// quiet (Reconnect reports it over); after it, the rule holds again.
func TestResume(t *testing.T) {
	rec := &sdtest.Recorder{}
	c := &vendorkit.Chat{Callback: rec}
	defer c.Close()
	done := c.Resume(true)
	assert.True(t, c.Joined(), "an agent was in the resumed chat")
	c.EndedByDesk("over", false)
	done()
	assert.Empty(t, rec.Calls())
	done = c.Resume(true)
	done()
	c.EndedByDesk("over", false)
	assert.Equal(t, []string{"ended"}, rec.Calls())
}

// TestJoinAgent: every agent is told; the chat's first is saved first, so
// that a resume knows an agent is in, and only the first.
func TestJoinAgent(t *testing.T) {
	rec := &sdtest.Recorder{}
	c := &vendorkit.Chat{Callback: rec}
	defer c.Close()
	c.Begin(false)
	assert.True(t, c.JoinAgent(servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}, nil))
	assert.False(t, c.JoinAgent(servicedesk.AgentProfile{ID: "bob", Nickname: "Bob"}, nil))
	assert.True(t, c.Joined())
	assert.JSONEq(t, `{"joined":true}`, string(rec.PersistedState()))
	c.Persist(map[string]any{"next": 3}, nil)
	assert.JSONEq(t, `{"joined":true,"next":3}`, string(rec.PersistedState()), "Persist merges")
	assert.Equal(t, []string{"joined(Ada)", "joined(Bob)"}, rec.Calls())
	c.Begin(true) // a resumed chat: its agent is no first
	assert.False(t, c.JoinAgent(servicedesk.AgentProfile{ID: "ada"}, nil))
}
