package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestDeskModeHandOff walks Carbon's calls through the gateway and checks
// that every desk callback reaches the browser as the Carbon call.
func TestDeskModeHandOff(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect("", modeDesk, 0)
	if c.welcome.Token == "" || c.welcome.Session == "" || c.welcome.Resumed {
		t.Fatalf("welcome %+v", c.welcome)
	}
	var avail struct {
		Online *bool `json:"online"`
	}
	mustf(t, json.Unmarshal(c.mustCall(opAreAnyAgentsOnline, map[string]any{"connectMessage": connectMessage()}), &avail), "decode")
	if avail.Online == nil || !*avail.Online {
		t.Fatalf("online = %v", avail.Online)
	}
	caps := c.callback(cbUpdateCapabilities)
	if !strings.Contains(string(caps.Callback.Args[0]), `"allowFileUploads":true`) {
		t.Fatalf("capabilities %s", caps.Callback.Args[0])
	}

	c.mustCall(opStartChat, map[string]any{"connectMessage": connectMessage(), "options": map[string]any{"preStartChatPayload": map[string]string{"topic": "refund"}}})
	chat, err := e.desk.NextChat(ctxT(t))
	mustf(t, err, "next chat")
	mustf(t, chat.QueueUpdate(ctxT(t), 2, -1), "queue")
	q := c.callback(cbUpdateAgentAvailability)
	if string(q.Callback.Args[0]) != `{"positionInQueue":2}` {
		t.Fatalf("availability %s", q.Callback.Args[0])
	}
	mustf(t, chat.Join(ctxT(t), servicedesk.AgentProfile{ID: "ada", Nickname: "Ada"}), "join")
	j := c.callback(cbAgentJoined)
	if !strings.Contains(string(j.Callback.Args[0]), `"user_type":"human"`) {
		t.Fatalf("agentJoined without user_type: %s", j.Callback.Args[0])
	}

	msg := servicedesk.NewTextRequest("My card was declined")
	var sent struct {
		MessageID string `json:"messageID"`
	}
	mustf(t, json.Unmarshal(c.mustCall(opSendMessageToAgent, map[string]any{"message": msg, "messageID": "carbon-7"}), &sent), "decode")
	got, err := chat.AwaitMessage(ctxT(t))
	mustf(t, err, "await message")
	if got.ID != "carbon-7" || got.Text != "My card was declined" || sent.MessageID != "carbon-7" {
		t.Fatalf("desk got %+v, answer %+v: the message id must be Carbon's, end to end", got, sent)
	}

	c.mustCall(opUserTyping, map[string]bool{"isTyping": true})
	if on, err := chat.AwaitTyping(ctxT(t)); err != nil || !on {
		t.Fatalf("typing %v %v", on, err)
	}
	mustf(t, chat.Typing(ctxT(t), true), "agent typing")
	if f := c.callback(cbAgentTyping); string(f.Callback.Args[0]) != "true" {
		t.Fatalf("agentTyping %s", f.Callback.Args[0])
	}
	mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse("Let me check.")), "say")
	f := c.callback(cbSendMessageToUser)
	if len(f.Callback.Args) != 2 || !strings.Contains(string(f.Callback.Args[0]), "Let me check.") || string(f.Callback.Args[1]) != `"ada"` {
		t.Fatalf("sendMessageToUser args %s", f.Callback.Args)
	}
	c.mustCall(opUserReadMessages, nil)
	mustf(t, chat.AwaitRead(ctxT(t)), "read")
	mustf(t, chat.Read(ctxT(t)), "agent read")
	c.callback(cbAgentReadMessages)

	// Screen share: the desk asks, the browser answers.
	mustf(t, chat.RequestScreenShare(ctxT(t)), "request share")
	c.callback(cbScreenShareRequest)
	c.mustCall(opScreenShareAnswer, map[string]string{"state": "accepted"})
	if st, err := chat.AwaitScreenShare(ctxT(t)); err != nil || st != servicedesk.ScreenShareAccepted {
		t.Fatalf("share %v %v", st, err)
	}
	c.mustCall(opScreenShareStop, nil)
	if st, err := chat.AwaitScreenShare(ctxT(t)); err != nil || st != servicedesk.ScreenShareEnded {
		t.Fatalf("share stop %v %v", st, err)
	}

	mustf(t, chat.Transfer(ctxT(t), servicedesk.AgentProfile{ID: "grace", Nickname: "Grace"}), "transfer")
	c.callback(cbBeginTransferToAnotherAgent)
	c.callback(cbAgentJoined)

	mustf(t, chat.End(ctxT(t)), "agent ends")
	c.callback(cbAgentEndedChat)
	// Carbon calls endChat after agentEndedChat: it must be harmless.
	var end struct {
		Ended bool `json:"ended"`
	}
	mustf(t, json.Unmarshal(c.mustCall(opEndChat, map[string]any{"info": map[string]bool{"endedByHumanAgent": true}}), &end), "decode")
	if end.Ended {
		t.Fatal("endChat after the agent ended reported a second end")
	}
}

// TestUserEndsAndRefusedStart: the user's own end sends no callback; a
// refused request ends with Carbon's CONNECTING error and its text.
func TestUserEndsAndRefusedStart(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect("", modeDesk, 0)
	chat := e.startAndJoin(c)
	c.mustCall(opEndChat, nil)
	mustf(t, chat.AwaitEnded(ctxT(t)), "desk told")
	ended := c.event(flow.EventChatEnded)
	if ended.Callback != nil {
		t.Fatalf("user end mapped to %s", ended.Callback.Method)
	}

	mustf(t, e.desk.RefuseNextChat(ctxT(t), "All our agents are busy"), "refuse")
	c.mustCall(opStartChat, map[string]any{"connectMessage": connectMessage()})
	f := c.callback(cbSetErrorStatus)
	var info servicedesk.ErrorInfo
	mustf(t, json.Unmarshal(f.Callback.Args[0], &info), "decode error info")
	if info.Type != servicedesk.ErrorConnecting || info.MessageToUser != "All our agents are busy" {
		t.Fatalf("error info %+v", info)
	}
}

// TestResumeFromLastSeq: a socket closes mid-chat, the agent goes on; the
// next socket with the token and the last seq gets exactly what it missed.
func TestResumeFromLastSeq(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect("", modeDesk, 0)
	chat := e.startAndJoin(c)
	mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse("one")), "say")
	c.callback(cbSendMessageToUser)
	token, last := c.welcome.Token, c.lastSeq
	c.ws.Close()
	<-c.done

	for _, s := range []string{"two", "three", "four"} {
		mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse(s)), "say")
	}
	// Wait until the engine logged them.
	s, _ := e.gw.Engine().Lookup(c.welcome.Session)
	deadline := time.Now().Add(5 * time.Second)
	for s.LastSeq() < last+3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}

	c2 := e.connect(token, modeDesk, last)
	if !c2.welcome.Resumed || c2.welcome.Reset || c2.welcome.Session != c.welcome.Session {
		t.Fatalf("welcome %+v", c2.welcome)
	}
	if c2.welcome.Snapshot.State != flow.StateConnected {
		t.Fatalf("state %s", c2.welcome.Snapshot.State)
	}
	var texts []string
	first := uint64(0)
	for range 3 {
		f := c2.callback(cbSendMessageToUser)
		if first == 0 {
			first = f.Seq
		}
		texts = append(texts, f.Event.Message.PlainText())
	}
	if first != last+1 {
		t.Fatalf("resumed at seq %d, want %d", first, last+1)
	}
	if strings.Join(texts, ",") != "two,three,four" {
		t.Fatalf("missed messages = %v", texts)
	}
	var r struct {
		Reconnected bool `json:"reconnected"`
	}
	mustf(t, json.Unmarshal(c2.mustCall(opReconnect, nil), &r), "decode")
	if !r.Reconnected {
		t.Fatal("reconnect answered false during a connected chat")
	}
	// Nothing more arrives: no duplicate of "one".
	c2.mustCall(opPing, nil)
	select {
	case f := <-c2.frames:
		t.Fatalf("unexpected frame %+v", f)
	case <-time.After(100 * time.Millisecond):
	}

	// A client whose last seq is ahead of the session (a lost session) is
	// told to reset.
	c3 := e.connect(token, modeFlow, 10_000)
	if !c3.welcome.Reset {
		t.Fatalf("welcome %+v: want reset", c3.welcome)
	}
}

// TestFlowMode: events carry the engine's texts and no callbacks.
func TestFlowMode(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect("", modeFlow, 0)
	chat := e.startAndJoin(c)
	_ = chat
	// The joined event seen by startAndJoin had no callback in flow mode;
	// check a fresh one.
	mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse("**hi**")), "say")
	f := c.event(flow.EventAgentMessage)
	if f.Callback != nil {
		t.Fatalf("flow mode event with callback %+v", f.Callback)
	}
	if f.Event.Profile == nil || f.Event.Profile.Nickname != "Ada" {
		t.Fatalf("agent message without the agent: %+v", f.Event)
	}
	// Reconnect outside a chat answers false.
	c.mustCall(opEndChat, nil)
	c.event(flow.EventChatEnded)
	var r struct {
		Reconnected bool       `json:"reconnected"`
		State       flow.State `json:"state"`
	}
	mustf(t, json.Unmarshal(c.mustCall(opReconnect, nil), &r), "decode")
	if r.Reconnected || r.State != flow.StateEnded {
		t.Fatalf("reconnect %+v", r)
	}
}

// TestTwoSocketsOneSession: both sockets of a session see every event.
func TestTwoSocketsOneSession(t *testing.T) {
	e := newEnv(t, nil)
	a := e.connect("", modeDesk, 0)
	b := e.connect(a.welcome.Token, modeFlow, 0)
	chat := e.startAndJoin(a)
	mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse("both")), "say")
	a.event(flow.EventAgentMessage)
	b.event(flow.EventAgentMessage)
}

// TestHeartbeat: an idle socket gets heartbeats with the last seq.
func TestHeartbeat(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Heartbeat = 50 * time.Millisecond })
	c := e.connect("", modeDesk, 0)
	hb := c.next("heartbeat", func(f frame) bool { return f.Type == typeHeartbeat })
	if hb.LastSeq != 0 {
		t.Fatalf("heartbeat %+v", hb)
	}
	// The socket outlives several heartbeat intervals (pongs keep it).
	time.Sleep(300 * time.Millisecond)
	c.mustCall(opPing, nil)
}

// TestHistory: the transcript comes back as Carbon HistoryItems, with the
// seq to resume from.
func TestHistory(t *testing.T) {
	e := newEnv(t, nil)
	c := e.connect("", modeDesk, 0)
	chat := e.startAndJoin(c)
	c.mustCall(opSendMessageToAgent, map[string]any{"message": servicedesk.NewTextRequest("hello agent"), "messageID": "u1"})
	_, err := chat.AwaitMessage(ctxT(t))
	mustf(t, err, "await")
	mustf(t, chat.Say(ctxT(t), servicedesk.TextResponse("hello user")), "say")
	c.callback(cbSendMessageToUser)

	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/history", nil)
	req.Header.Set("Authorization", "Bearer "+c.welcome.Token)
	resp, err := http.DefaultClient.Do(req)
	mustf(t, err, "history")
	defer resp.Body.Close()
	var h struct {
		LastSeq uint64 `json:"last_seq"`
		Active  bool   `json:"active"`
		Items   []struct {
			Message json.RawMessage `json:"message"`
			Time    string          `json:"time"`
		} `json:"items"`
	}
	mustf(t, json.NewDecoder(resp.Body).Decode(&h), "decode")
	var lines []string
	for _, it := range h.Items {
		var m struct {
			ID    string `json:"id"`
			Input *struct {
				Text string `json:"text"`
			} `json:"input"`
			Output *servicedesk.MessageOutput `json:"output"`
		}
		mustf(t, json.Unmarshal(it.Message, &m), "item")
		if _, err := time.Parse(time.RFC3339, it.Time); err != nil {
			t.Errorf("time %q: %v", it.Time, err)
		}
		switch {
		case m.Input != nil:
			lines = append(lines, "user:"+m.Input.Text+"#"+m.ID)
		case m.Output != nil:
			lines = append(lines, "agent:"+m.Output.Generic[0].Text+"/"+string(m.Output.Generic[0].AgentMessageType))
		}
	}
	want := "agent:Ada joined the chat./agent_joined|user:hello agent#u1|agent:hello user/from_agent"
	if got := strings.Join(lines, "|"); !strings.Contains(got, "user:hello agent#u1|agent:hello user/from_agent") || !strings.Contains(got, "/agent_joined") {
		t.Fatalf("history %s\nwant like %s", got, want)
	}
	if !h.Active || h.LastSeq < c.lastSeq {
		t.Fatalf("history last_seq %d (client saw %d), active %v", h.LastSeq, c.lastSeq, h.Active)
	}
}

// TestAdapterServed: the module is served with a JavaScript type and CORS.
func TestAdapterServed(t *testing.T) {
	e := newEnv(t, nil)
	req, _ := http.NewRequest("GET", e.srv.URL+"/deskbridge.js", nil)
	req.Header.Set("Origin", "https://shop.example.com")
	resp, err := http.DefaultClient.Do(req)
	mustf(t, err, "get")
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
}

func TestNewNeedsADesk(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without Engine or Factory succeeded")
	}
}
