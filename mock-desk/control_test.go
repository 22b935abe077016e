package mockdesk

import (
	"net/http"
	"strings"
	"testing"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestControlHTTP drives a chat through the HTTP control API, as the
// browser tests and the binary's users do.
func TestControlHTTP(t *testing.T) {
	h := newHarness(t, Options{Agents: []AgentConfig{{Profile: ada, Online: true}, {Profile: grace, Online: true}}})
	chat := h.start(deskproto.StartRequest{Customer: &deskproto.Customer{Name: "Uma"}, ConnectItem: connectItem("Broken screen.")})
	var v ChatView
	h.mustDo(200, &v, "POST", "/control/chats/await?wait=5", "", nil)
	if v.ChatID != chat.ChatID || v.Summary != "Broken screen." || v.State != StateQueued || v.Position != 1 {
		t.Fatalf("await = %+v", v)
	}
	h.wantError(http.StatusRequestTimeout, "timeout", "POST", "/control/chats/await?wait=0.05", "", nil)
	id := "/control/chats/" + chat.ChatID
	h.mustDo(204, nil, "POST", id+"/join", "", map[string]string{"agent_id": "agent-1"})
	var said map[string]string
	h.mustDo(200, &said, "POST", id+"/say", "", map[string]string{"text": "Hi **there**"})
	h.mustDo(200, nil, "POST", id+"/say", "", map[string]any{"message": servicedesk.NewResponse(servicedesk.ImageItem("https://example.com/a.png", "a"))})
	h.mustDo(204, nil, "POST", id+"/typing", "", map[string]bool{"typing": true})
	h.mustDo(201, nil, "POST", "/v1/chats/"+chat.ChatID+"/messages", chat.ChatToken, map[string]any{"message": servicedesk.MessageRequest{ID: "c-1", Input: servicedesk.MessageInput{Text: "cracked"}}})
	var o ObservationView
	h.mustDo(200, &o, "GET", id+"/await/message?wait=5", "", nil)
	if o.Message == nil || o.Message.ID != "c-1" || o.Message.Input.Text != "cracked" {
		t.Fatalf("await message = %+v", o)
	}
	h.mustDo(204, nil, "POST", id+"/read", "", nil)
	h.mustDo(204, nil, "POST", "/v1/chats/"+chat.ChatID+"/typing", chat.ChatToken, map[string]bool{"typing": true})
	h.mustDo(200, &o, "GET", id+"/await/typing", "", nil)
	if o.Typing == nil || !*o.Typing {
		t.Fatalf("await typing = %+v", o)
	}
	h.mustDo(204, nil, "POST", "/v1/chats/"+chat.ChatID+"/read", chat.ChatToken, map[string]string{"message_id": said["message_id"]})
	h.mustDo(200, &o, "GET", id+"/await/read", "", nil)
	if o.ReadID != said["message_id"] {
		t.Fatalf("await read = %+v", o)
	}
	h.upload(chat, [4]string{"a.txt", "text/plain", "abc", "f-1"})
	h.mustDo(200, &o, "GET", id+"/await/file", "", nil)
	if o.File == nil || o.File.ID != "f-1" || o.File.IsError {
		t.Fatalf("await file = %+v", o)
	}
	st, body, hdr := h.do("GET", id+"/files/f-1", "", nil)
	if st != 200 || string(body) != "abc" || !strings.HasPrefix(hdr.Get("Content-Disposition"), "attachment") || hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download = %d %q %v", st, body, hdr)
	}
	h.wantError(404, "not_found", "GET", id+"/files/nope", "", nil)
	var share map[string]string
	h.mustDo(200, &share, "POST", id+"/screen_share", "", nil)
	h.mustDo(204, nil, "POST", "/v1/chats/"+chat.ChatID+"/screen_share", chat.ChatToken, map[string]string{"screen_share_id": share["screen_share_id"], "state": "accepted"})
	h.mustDo(200, &o, "GET", id+"/await/screen_share", "", nil)
	if o.State != servicedesk.ScreenShareAccepted {
		t.Fatalf("await share = %+v", o)
	}
	h.mustDo(204, nil, "POST", id+"/screen_share/end", "", nil)
	h.mustDo(204, nil, "PUT", id+"/capabilities", "", servicedesk.Capabilities{AllowFileUploads: false})
	h.mustDo(204, nil, "POST", id+"/request_files", "", map[string]string{"text": "a photo please"})
	h.mustDo(204, nil, "POST", id+"/transfer", "", map[string]string{"agent_id": "agent-2"})
	h.mustDo(204, nil, "POST", id+"/join", "", map[string]any{"agent": grace})
	h.mustDo(204, nil, "POST", id+"/leave", "", nil)
	h.mustDo(204, nil, "POST", id+"/join", "", map[string]string{"agent_id": "agent-1"})
	h.mustDo(200, &v, "GET", id, "", nil)
	if v.Agent.ID != "agent-1" || !v.CustomerTyping || len(v.Transcript) < 5 {
		t.Fatalf("view = %+v", v)
	}
	h.mustDo(204, nil, "POST", id+"/end", "", nil)
	h.mustDo(200, &o, "GET", id+"/await/ended", "", nil)
	if o.EndedBy != EndedByAgent {
		t.Fatalf("await ended = %+v", o)
	}
	var page deskproto.Page
	h.mustDo(200, &page, "GET", id+"/events", "", nil)
	want := "capabilities,queue_update,agent_joined,agent_message,agent_message,agent_typing,agent_read,file_status,screen_share_requested,screen_share_ended,capabilities,capabilities,agent_message,transfer_started,agent_joined,agent_left,agent_joined,agent_ended,chat_ended"
	if got := strings.Join(types(page.Events), ","); got != want {
		t.Fatalf("events:\n%s\nwant\n%s", got, want)
	}

	// Roster, state, webhook and bad control input.
	var agents []AgentStatus
	h.mustDo(200, &agents, "GET", "/control/agents", "", nil)
	if len(agents) != 2 {
		t.Fatal(agents)
	}
	h.mustDo(204, nil, "PUT", "/control/agents/agent-2", "", map[string]bool{"online": false})
	var ds DeskState
	h.mustDo(200, &ds, "GET", "/control/state?since=0", "", nil)
	if ds.Version == 0 || len(ds.Chats) != 1 || ds.Agents[1].Online {
		t.Fatalf("state = %+v", ds)
	}
	h.mustDo(204, nil, "PUT", "/control/webhook", "", map[string]string{"url": "http://127.0.0.1:1/hook"})
	h.mustDo(204, nil, "PUT", "/control/webhook", "", map[string]string{"url": ""})
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"POST", "/control/chats/nope/join", map[string]string{"agent_id": "agent-1"}, 404, "chat_not_found"},
		{"POST", id + "/join", map[string]string{"agent_id": "zed"}, 404, "agent_not_found"},
		{"POST", id + "/say", `{"text":`, 400, "bad_json"},
		{"POST", id + "/say", map[string]string{"text": "late"}, 409, "chat_ended"},
		{"GET", id + "/await/dance", nil, 404, "not_found"},
		{"GET", id + "/await/message?wait=x", nil, 400, "bad_request"},
		{"PUT", "/control/agents/agent-1", `{}`, 400, "bad_request"},
		{"PUT", "/control/agents/zed", `{"online":true}`, 404, "agent_not_found"},
		{"PUT", "/control/webhook", `{"url":"nope"}`, 400, "bad_request"},
		{"GET", "/control/state?since=x", nil, 400, "bad_cursor"},
		{"DELETE", "/control/faults", nil, 405, "method_not_allowed"},
	} {
		h.wantError(c.status, c.code, c.method, c.path, "", c.body)
	}
	// The console is served with a strict CSP.
	st, body, hdr = h.do("GET", "/console/", "", nil)
	if st != 200 || !strings.Contains(string(body), "console.js") || !strings.Contains(hdr.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("console = %d %v", st, hdr)
	}
	if st, _, _ := h.do("GET", "/console/console.js", "", nil); st != 200 {
		t.Fatal(st)
	}
}

// TestConformanceHooks covers the desk-side behaviours a conformance suite
// asks for: refusing a chat, rejecting a message, failing an upload, a
// queue update of the test's choosing, dropping connections.
func TestConformanceHooks(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := ctxT(t)
	must(t, h.desk.RefuseNextChat(ctx, "Closed for lunch."))
	refused := h.start(deskproto.StartRequest{})
	if p := h.poll(refused, 0, ""); len(p.Events) != 3 || p.Events[1].Code != "refused" || p.Events[1].Reason != "Closed for lunch." {
		t.Fatalf("refused: %v", types(p.Events))
	}
	chat := h.start(deskproto.StartRequest{})
	id, _ := h.desk.AwaitChatID(ctx)
	id, _ = h.desk.AwaitChatID(ctx)
	if id != chat.ChatID {
		t.Fatal(id)
	}
	must(t, h.desk.QueueUpdate(ctx, id, 4, -1))
	evs, _ := h.desk.Events(id)
	if e := evs[len(evs)-1]; *e.Position != 4 || e.WaitMinutes != nil {
		t.Fatalf("queue update = %s", eventJSON(e))
	}
	must(t, h.desk.RejectNextMessage(ctx, id, "Spam filter."))
	body := map[string]any{"message": servicedesk.NewTextRequest("buy now")}
	h.wantError(422, "message_rejected", "POST", "/v1/chats/"+id+"/messages", chat.ChatToken, body)
	h.mustDo(201, nil, "POST", "/v1/chats/"+id+"/messages", chat.ChatToken, body)
	must(t, h.desk.FailNextUpload(ctx, id, "Virus found."))
	if st, b := h.upload(chat, [4]string{"a.txt", "text/plain", "x", "f-1"}); st != 422 || !strings.Contains(string(b), "Virus found.") {
		t.Fatalf("failed upload = %d %s", st, b)
	}
	if f, _ := h.desk.AwaitCustomerFile(ctx, id); !f.IsError || f.ErrorMessage != "Virus found." {
		t.Fatalf("file = %+v", f)
	}
	must(t, h.desk.SetAgentsOnline(ctx, false))
	var av deskproto.Availability
	h.mustDo(200, &av, "GET", "/v1/availability", "", nil)
	if av.Online {
		t.Fatal("still online")
	}
	c := h.dialWS(t)
	c.send(deskproto.ClientFrame{Type: "hello", ChatID: id, ChatToken: chat.ChatToken})
	c.until("welcome", "")
	waitFor(t, func() bool { h.desk.mu.Lock(); defer h.desk.mu.Unlock(); return len(h.desk.chats[id].conns) == 1 })
	must(t, h.desk.DropConnections(ctx, id))
	for {
		if _, err := c.read(); err != nil {
			break
		}
	}
}
