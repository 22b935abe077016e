package mockdesk

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestScriptedAgents: a scripted agent joins after a delay, types, sends
// rich messages, echoes, asks for a file, requests a screen share, and
// transfers to a second scripted agent who ends the chat.
func TestScriptedAgents(t *testing.T) {
	rich := servicedesk.NewResponse(servicedesk.TextItem("See *this*:"), servicedesk.ImageItem("https://example.com/i.png", "pic"), servicedesk.LinkButtonItem("Docs", "https://example.com/docs"))
	h := newHarness(t, Options{Agents: []AgentConfig{
		{Profile: ada, Online: true, Script: Script{
			JoinAfter(30 * time.Millisecond), Typing(true), Say("Hi, I am **Ada**."), SayMessage(rich),
			Echo(1), RequestFiles("Send a log please."), AwaitFile(), Read(),
			RequestScreenShare(), EndScreenShare(), TransferTo("agent-2"),
		}},
		{Profile: grace, Online: true, Script: Script{Say("Grace here."), End()}},
	}})
	ctx := ctxT(t)
	chat := h.start(deskproto.StartRequest{})
	var cur uint64
	evs := h.pollUntil(chat, &cur, deskproto.EventAgentJoined)
	if time.Since(evs[0].Time) < 30*time.Millisecond {
		t.Fatal("joined before the delay")
	}
	h.mustDo(201, nil, "POST", "/v1/chats/"+chat.ChatID+"/messages", chat.ChatToken, map[string]any{"message": servicedesk.NewTextRequest("ping")})
	var texts []string
	for _, e := range evs {
		if e.Type == deskproto.EventAgentMessage {
			texts = append(texts, e.Message.PlainText())
		}
	}
	for len(texts) < 4 {
		for _, e := range h.pollUntil(chat, &cur, deskproto.EventAgentMessage) {
			if e.Type == deskproto.EventAgentMessage {
				texts = append(texts, e.Message.PlainText())
			}
		}
	}
	if strings.Join(texts, "|") != "Hi, I am **Ada**.|See *this*:|echo: ping|Send a log please." {
		t.Fatalf("texts = %q", texts)
	}
	h.upload(chat, [4]string{"log.txt", "text/plain", "log", "f1"})
	evs = h.pollUntil(chat, &cur, deskproto.EventScreenShareRequested)
	if countType(evs, deskproto.EventAgentRead) != 1 {
		t.Fatalf("no read receipt before the share: %v", types(evs))
	}
	sid := evs[len(evs)-1].ScreenShareID
	h.mustDo(204, nil, "POST", "/v1/chats/"+chat.ChatID+"/screen_share", chat.ChatToken, map[string]string{"screen_share_id": sid, "state": "accepted"})
	evs = h.pollUntil(chat, &cur, deskproto.EventChatEnded)
	want := "screen_share_ended,transfer_started,agent_joined,agent_message,agent_ended,chat_ended"
	if got := strings.Join(types(evs), ","); got != want {
		t.Fatalf("after the share: %s", got)
	}
	if evs[2].Agent.ID != "agent-2" || evs[3].Message.PlainText() != "Grace here." {
		t.Fatalf("second agent: %s %s", eventJSON(evs[2]), eventJSON(evs[3]))
	}
	// Both agents are free again.
	for _, a := range h.desk.Agents() {
		if a.Chats != 0 {
			t.Fatalf("agent %s still holds %d chats", a.Profile.ID, a.Chats)
		}
	}
	_ = ctx
}

// TestScriptRoutingUsesCapacity: a scripted agent with capacity 1 takes
// the next waiting chat when its chat ends.
func TestScriptRoutingUsesCapacity(t *testing.T) {
	h := newHarness(t, Options{Agents: []AgentConfig{{Profile: ada, Online: true, Capacity: 1, Script: Script{Say("hello")}}}})
	a := h.start(deskproto.StartRequest{})
	b := h.start(deskproto.StartRequest{})
	var ca, cb uint64
	h.pollUntil(a, &ca, deskproto.EventAgentMessage)
	evs := h.pollUntil(b, &cb, deskproto.EventQueueUpdate)
	if p := evs[len(evs)-1].Position; *p != 1 {
		t.Fatalf("b position %d", *p)
	}
	h.mustDo(204, nil, "POST", "/v1/chats/"+a.ChatID+"/end", a.ChatToken, nil)
	h.pollUntil(b, &cb, deskproto.EventAgentMessage)
}

func TestScenarioFiles(t *testing.T) {
	good := `{
	  "agents": [
	    {"profile": {"id": "bot-ada", "nickname": "Ada"}, "online": true, "capacity": 3,
	     "script": [{"do": "join", "delay": "1s"}, {"do": "say", "text": "Hi"}, {"do": "echo"}]},
	    {"profile": {"id": "person"}, "online": true}
	  ],
	  "capabilities": {"allowFileUploads": true, "allowedFileUploadTypes": "image/*", "maxFileSizeBytes": 1000},
	  "average_handle_time": "2m",
	  "faults": {"seed": 1, "rest": {"rate_5xx": 0.1, "retry_after": "2s"}, "ws": {"drop_after_frames": 50}}
	}`
	o, err := ParseScenario([]byte(good))
	must(t, err)
	if len(o.Agents) != 2 || len(o.Agents[0].Script) != 3 || time.Duration(o.Agents[0].Script[0].Delay) != time.Second || o.Faults.WS.DropAfterFrames != 50 {
		t.Fatalf("scenario = %+v", o)
	}
	d, err := New(o)
	must(t, err)
	must(t, d.Close())
	for _, bad := range []string{
		`{"agents":[{"profile":{"id":"a"},"script":[{"do":"dance"}]}]}`,
		`{"agents":[{"profile":{"id":"a"},"script":[{"do":"say"}]}]}`,
		`{"agents":[{"profile":{"id":"a"},"script":[{"do":"transfer"}]}]}`,
		`{"agentz":[]}`,
		`{"average_handle_time":"soon"}`,
		`{} x`,
	} {
		if _, err := ParseScenario([]byte(bad)); !errors.Is(err, errBadJSON) && !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := New(Options{Agents: []AgentConfig{{Profile: ada}, {Profile: ada}}}); err == nil {
		t.Error("duplicate agent accepted")
	}
	// The example scenario shipped with the binary parses and runs.
	path := filepath.Join("cmd", "mock-desk", "testdata", "demo.json")
	if b, err := os.ReadFile(path); err == nil {
		o, err := ParseScenario(b)
		must(t, err)
		d, err := New(o)
		must(t, err)
		must(t, d.Close())
	} else {
		t.Fatal(err)
	}
	_ = json.Valid
}
