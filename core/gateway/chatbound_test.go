package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// historyText is the raw GET /v1/history answer to token.
func (e *env) historyText(token string) (historyAnswer, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/history", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	mustf(e.t, err, "history")
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("history: %d %s", resp.StatusCode, b)
	}
	var h historyAnswer
	mustf(e.t, json.Unmarshal(b, &h), "decode %s", b)
	return h, string(b)
}

// replayText opens a socket on token from last_seq 0 and returns the
// welcome and everything the socket replays (waiting for a heartbeat
// after them).
func (e *env) replayText(token string) (frame, string) {
	e.t.Helper()
	c := e.connect(token, modeFlow, 0)
	var sb strings.Builder
	for {
		f := c.next("replay", func(f frame) bool { return f.Type == typeEvent || f.Type == typeHeartbeat })
		if f.Type == typeHeartbeat {
			break
		}
		b, _ := json.Marshal(f.Event)
		sb.Write(b)
	}
	c.ws.Close()
	return c.welcome, sb.String()
}

// chatWith starts a chat on c, has the user say user, and ends it from the
// user's side.
func (e *env) chatWith(c *client, user string) {
	e.t.Helper()
	chat := e.startAndJoin(c)
	c.mustCall(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest(user), "messageID": user})
	_, err := chat.AwaitMessage(ctxT(e.t))
	mustf(e.t, err, "await")
	// The send's outcome belongs to this chat: wait for it, or it may come
	// after the chat ended, as the next chat's event.
	c.next("message_status sent", func(f frame) bool {
		return f.Type == typeEvent && f.Event.Type == flow.EventMessageStatus && f.Event.MessageID == user && f.Event.Status == flow.MessageSent
	})
	c.mustCall(opEndChat, nil)
	c.event(flow.EventChatEnded)
}

// TestTokenBoundToItsChat: a session token reads the transcript of its
// chat while it runs and for EndedChatHistory after it ended, then
// nothing; a new chat in the session shows nothing of the one before,
// neither in the history nor in a replay from seq 0. Before, both stayed
// readable as long as the session lived (half an hour after the end).
func TestTokenBoundToItsChat(t *testing.T) {
	clk := &clock{t: time.Now()}
	e := newEnv(t, func(o *Options) {
		o.Now = clk.now
		o.Flow.Now = clk.now
		o.Heartbeat = 300 * time.Millisecond
		o.EndedChatHistory = 5 * time.Minute
	})

	// A chat, ended: its transcript stays for the grace period.
	a := e.connect("", modeFlow, 0)
	e.chatWith(a, "first chat secret")
	tok := a.welcome.Token
	if _, body := e.historyText(tok); !strings.Contains(body, "first chat secret") {
		t.Fatalf("history right after the end lacks the transcript: %s", body)
	}
	if _, body := e.replayText(tok); !strings.Contains(body, "first chat secret") {
		t.Fatalf("replay right after the end lacks the transcript: %s", body)
	}
	clk.add(4 * time.Minute)
	if _, body := e.historyText(tok); !strings.Contains(body, "first chat secret") {
		t.Fatalf("history within the grace period lacks the transcript: %s", body)
	}
	// Past it, the token reads nothing of it.
	clk.add(2 * time.Minute)
	h, body := e.historyText(tok)
	if strings.Contains(body, "first chat secret") || len(h.Items) != 0 {
		t.Fatalf("history %v after the grace period still has the transcript: %s", clk.now().Sub(time.Now()), body)
	}
	w, replay := e.replayText(tok)
	if strings.Contains(replay, "first chat secret") {
		t.Fatalf("replay from 0 after the grace period still has the transcript: %s", replay)
	}
	if h.LastSeq != w.LastSeq || w.SkippedTo != w.LastSeq {
		t.Fatalf("history last_seq %d, welcome last_seq %d skipped_to %d: want all the session's last seq", h.LastSeq, w.LastSeq, w.SkippedTo)
	}

	// A new chat in the same session, right after one ended: nothing of
	// the first one.
	b := e.connect("", modeFlow, 0)
	e.chatWith(b, "old chat secret")
	chat := e.startAndJoin(b)
	b.mustCall(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest("new chat words"), "messageID": "new"})
	_, err := chat.AwaitMessage(ctxT(t))
	mustf(t, err, "await")
	h, body = e.historyText(b.welcome.Token)
	if strings.Contains(body, "old chat secret") || !strings.Contains(body, "new chat words") || !h.Active {
		t.Fatalf("history of the second chat: %s", body)
	}
	w, replay = e.replayText(b.welcome.Token)
	if strings.Contains(replay, "old chat secret") || !strings.Contains(replay, "new chat words") {
		t.Fatalf("replay from 0 in the second chat: %s", replay)
	}
	if w.SkippedTo == 0 || w.SkippedTo >= w.LastSeq {
		t.Fatalf("welcome skipped_to %d of last_seq %d: want the first chat's events skipped", w.SkippedTo, w.LastSeq)
	}
}
