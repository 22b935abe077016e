package genesys_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/kits/genesys"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// authHandoff is a hand-off whose page signed the customer in with the
// face's provider and passes the code in the pre-chat context.
func authHandoff(code string) servicedesk.Handoff {
	return servicedesk.Handoff{Unverified: map[string]string{
		genesys.PageAuthCodeKey:        code,
		genesys.PageAuthRedirectURIKey: "https://shop.example/signed-in",
		genesys.PageAuthNonceKey:       "n-1",
		"plan":                         "gold",
	}}
}

func startAuthenticated(t *testing.T, w *world, rec *sdtest.Recorder, h servicedesk.Handoff) (servicedesk.ServiceDesk, error) {
	t.Helper()
	d, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("s-1")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.(io.Closer).Close() })
	msg := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent})
	return d, d.StartChat(context.Background(), msg, servicedesk.StartChatOptions{Handoff: h})
}

// TestAuthenticatedSession: with Config.Authenticate the chat is an
// authenticated Web Messaging session: the page's code is exchanged for a
// JWT, the session is configured with it, the agent side sees the
// signed-in customer, and the code never reaches the agent.
func TestAuthenticatedSession(t *testing.T) {
	w := newWorld(t, func(c *genesys.Config) { c.Authenticate = genesys.PageAuthCode })
	ada := deskproto.Customer{ID: "c-42", Name: "Ada Lovelace"}
	code := w.face.IssueAuthCode(ada, "https://shop.example/signed-in", "n-1")
	rec := &sdtest.Recorder{}
	_, err := startAuthenticated(t, w, rec, authHandoff(code))
	require.NoError(t, err)

	v := onlyChat(t, w)
	require.Equal(t, ada, v.Customer, "the agent side's customer")
	for k, val := range v.Attributes {
		require.NotContains(t, val, code, "attribute %s carries the auth code", k)
		require.False(t, strings.HasPrefix(k, "genesys_auth"), "attribute %s", k)
	}
	require.Contains(t, strings.Join(mapValues(v.Attributes), " "), "gold", "the rest of the page's context still reaches the agent")

	// A restart: a new desk from the persisted state renews the JWT with
	// the refresh token and resumes the same session.
	require.NotContains(t, string(rec.PersistedState()), code)
	rec2 := &sdtest.Recorder{}
	_ = rec2.ReplacePersistedState(rec.PersistedState())
	d2, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec2, Instance: sdtest.Instance("s-1"), PersistedState: rec.PersistedState()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d2.(io.Closer).Close() })
	ok, err := servicedesk.NewController(d2).Reconnect(context.Background())
	require.NoError(t, err)
	require.True(t, ok, "the authenticated session resumes")
	require.NoError(t, w.desk.AgentJoin(context.Background(), v.ChatID, servicedesk.AgentProfile{ID: "grace", Nickname: "Grace"}))
	waitCall(t, rec2, "joined(Grace)")
	_, err = w.desk.AgentSay(context.Background(), v.ChatID, servicedesk.TextResponse("hello Ada"))
	require.NoError(t, err)
	waitCall(t, rec2, "message(hello Ada")
}

// TestAuthenticatedSessionRefused: a code that is not good (used, or
// never issued) fails the start with Genesys's reason and opens no chat;
// a refresh token the provider revoked ends the chat at the resume.
func TestAuthenticatedSessionRefused(t *testing.T) {
	w := newWorld(t, func(c *genesys.Config) { c.Authenticate = genesys.PageAuthCode })
	_, err := startAuthenticated(t, w, &sdtest.Recorder{}, authHandoff("code-never-issued"))
	require.ErrorIs(t, err, servicedesk.ErrRejected)
	require.Contains(t, err.Error(), "authorization code is not valid")
	st, err := w.desk.State(context.Background(), 0, 0)
	require.NoError(t, err)
	require.Empty(t, st.Chats, "no chat for a refused code")

	code := w.face.IssueAuthCode(deskproto.Customer{ID: "c-7"}, "https://shop.example/signed-in", "another nonce")
	_, err = startAuthenticated(t, w, &sdtest.Recorder{}, authHandoff(code))
	require.ErrorIs(t, err, servicedesk.ErrRejected, "a nonce that does not match the sign-in")

	code = w.face.IssueAuthCode(deskproto.Customer{ID: "c-8"}, "https://shop.example/signed-in", "n-1")
	rec := &sdtest.Recorder{}
	_, err = startAuthenticated(t, w, rec, authHandoff(code))
	require.NoError(t, err)
	w.face.RevokeRefreshTokens()
	d2, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, Instance: sdtest.Instance("s-1"), PersistedState: rec.PersistedState()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d2.(io.Closer).Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok, err := servicedesk.NewController(d2).Reconnect(ctx)
	require.False(t, ok, "a revoked refresh token cannot resume (err %v)", err)
	require.False(t, errors.Is(err, context.DeadlineExceeded), "Reconnect waited out its context")

	// Without a code in the context, a guest session.
	_, err = startAuthenticated(t, w, &sdtest.Recorder{}, servicedesk.Handoff{})
	require.NoError(t, err)
}

func onlyChat(t *testing.T, w *world) mockdesk.ChatView {
	t.Helper()
	var v mockdesk.ChatView
	require.Eventually(t, func() bool {
		st, err := w.desk.State(context.Background(), 0, 0)
		if err != nil || len(st.Chats) != 1 {
			return false
		}
		v = st.Chats[0]
		return true
	}, 5*time.Second, 20*time.Millisecond, "one chat on the desk")
	return v
}

func waitCall(t *testing.T, rec *sdtest.Recorder, prefix string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, c := range rec.Calls() {
			if strings.HasPrefix(c, prefix) {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "a callback %s… in %v", prefix, rec.Calls())
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
