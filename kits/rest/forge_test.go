package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/kits/rest"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// forgeEnv is mock-desk and the kit's webhook on loopback, the desk
// posting each chat's events to the kit.
type forgeEnv struct {
	t      *testing.T
	desk   *mockdesk.Desk
	kit    *rest.Kit
	bridge *httptest.Server
}

func newForgeEnv(t *testing.T) *forgeEnv {
	desk, err := mockdesk.New(mockdesk.Options{WebhookSecret: []byte(secret)})
	require.NoError(t, err)
	deskSrv := httptest.NewServer(desk)
	bridge := httptest.NewUnstartedServer(nil)
	kit, err := rest.New(rest.Config{BaseURL: deskSrv.URL, WebhookURL: "http://" + bridge.Listener.Addr().String() + "/hook", WebhookSecrets: []string{secret}})
	require.NoError(t, err)
	bridge.Config.Handler = kit.WebhookHandler()
	bridge.Start()
	t.Cleanup(func() { _ = kit.Close(); bridge.Close(); _ = desk.Close(); deskSrv.Close() })
	return &forgeEnv{t: t, desk: desk, kit: kit, bridge: bridge}
}

// chat starts a chat of a session of its own, which agent Ada joins.
func (e *forgeEnv) chat(session string) (*deskproto.Desk, *sdtest.Recorder, string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec := &sdtest.Recorder{}
	sd, err := e.kit.Factory(ctx, servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance(session)})
	require.NoError(e.t, err)
	d := sd.(*deskproto.Desk)
	e.t.Cleanup(func() { _ = d.Close() })
	require.NoError(e.t, d.StartChat(ctx, servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}))
	ref, _ := d.Ref()
	require.NoError(e.t, e.desk.AgentJoin(ctx, ref.ID, servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}))
	e.waitFor(rec, "joined(Ada)")
	return d, rec, ref.ID
}

func (e *forgeEnv) waitFor(rec *sdtest.Recorder, call string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(sdtest.Join(rec.Calls()), call) {
		if time.Now().After(deadline) {
			e.t.Fatalf("no %s in %q", call, rec.Calls())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// forge posts an agent message for chat at seq, with the id the desk
// would give it, signed with key.
func (e *forgeEnv) forge(chat string, seq uint64, text string, key []byte) int {
	e.t.Helper()
	msg := servicedesk.TextResponse(text)
	ev := deskproto.Event{ID: fmt.Sprintf("evt_%s_%d", chat, seq), ChatID: chat, Seq: seq, Type: deskproto.EventAgentMessage,
		Time: time.Now().UTC(), MessageID: "am_forged", Message: &msg, Agent: &servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}}
	body, err := json.Marshal(ev)
	require.NoError(e.t, err)
	req, _ := http.NewRequest("POST", e.bridge.URL+"/hook", bytes.NewReader(body))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(key, time.Now(), body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestWebhookKeyOfOneChatSignsNoOther: each chat's deliveries are checked
// against that chat's own secret (from its start answer), so neither the
// desk-wide secret nor another chat's secret forges an event for it, and
// the genuine event at that seq arrives. Before, the one shared secret
// signed any chat's events, and a forged event with the next seq made the
// kit drop the genuine one as a redelivery.
func TestWebhookKeyOfOneChatSignsNoOther(t *testing.T) {
	e := newForgeEnv(t)
	_, _, chatA := e.chat("s-a")
	b, recB, chatB := e.chat("s-b")
	next := b.Last() + 1
	for what, key := range map[string][]byte{"the desk-wide secret": []byte(secret), "chat A's secret": e.desk.ChatWebhookSecret(chatA)} {
		if code := e.forge(chatB, next, "forged with "+what, key); code != http.StatusUnauthorized {
			t.Errorf("an event for chat B signed with %s: %d, want 401", what, code)
		}
	}
	_, err := e.desk.AgentSay(t.Context(), chatB, servicedesk.TextResponse("genuine"))
	require.NoError(t, err)
	e.waitFor(recB, "message(genuine,ada)")
	if calls := sdtest.Join(recB.Calls()); strings.Contains(calls, "forged") {
		t.Fatalf("a forged event reached chat B: %s", calls)
	}
}

// TestWebhookForgedSeqDropsNoGenuineEvent: an event with the next seq and
// the desk's id for it, validly signed (the chat's own key leaked), and
// other content than the desk's, cannot make the kit drop the genuine
// event: two different events at one seq are settled by the desk's event
// log, and the genuine one is applied. Before, the genuine event was
// dropped as a redelivery of the forged one.
func TestWebhookForgedSeqDropsNoGenuineEvent(t *testing.T) {
	e := newForgeEnv(t)
	b, recB, chatB := e.chat("s-b")
	next := b.Last() + 1
	if code := e.forge(chatB, next, "forged", e.desk.ChatWebhookSecret(chatB)); code != http.StatusNoContent {
		t.Fatalf("an event signed with chat B's own key: %d, want 204", code)
	}
	e.waitFor(recB, "message(forged,ada)")
	_, err := e.desk.AgentSay(t.Context(), chatB, servicedesk.TextResponse("genuine"))
	require.NoError(t, err)
	e.waitFor(recB, "message(genuine,ada)")
	// A forged copy arriving after the genuine one is dropped.
	if code := e.forge(chatB, next, "forged again", e.desk.ChatWebhookSecret(chatB)); code != http.StatusNoContent {
		t.Fatalf("a late forged copy: %d", code)
	}
	_, err = e.desk.AgentSay(t.Context(), chatB, servicedesk.TextResponse("after"))
	require.NoError(t, err)
	e.waitFor(recB, "message(after,ada)")
	if calls := sdtest.Join(recB.Calls()); strings.Contains(calls, "forged again") {
		t.Fatalf("a forged copy after the genuine event was applied: %s", calls)
	}
}
