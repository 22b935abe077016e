package mockdesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestRESTFullChat walks a whole chat over REST and long polling, with a
// test acting as the agent through the Go control API.
func TestRESTFullChat(t *testing.T) {
	h := newHarness(t, Options{Agents: []AgentConfig{{Profile: ada, Online: true, Capacity: 2}, {Profile: grace, Online: true}}})
	ctx := ctxT(t)
	d := h.desk

	var av deskproto.Availability
	h.mustDo(http.StatusOK, &av, "GET", "/v1/availability", "", nil)
	if !av.Online || av.AgentsOnline != 2 || !av.Capabilities.AllowFileUploads {
		t.Fatalf("availability = %+v", av)
	}

	chat := h.start(deskproto.StartRequest{Customer: &deskproto.Customer{ID: "u1", Name: "Uma"}, ConnectItem: connectItem("Wants a refund for order 42.")})
	var cur uint64
	evs := h.pollUntil(chat, &cur, deskproto.EventQueueUpdate)
	if evs[0].Type != deskproto.EventCapabilities || evs[0].Capabilities == nil {
		t.Fatalf("first event = %+v", evs[0])
	}
	if q := evs[1]; *q.Position != 1 || *q.WaitMinutes != 1 {
		t.Fatalf("queue update = pos %d wait %d", *q.Position, *q.WaitMinutes)
	}

	ac, err := d.AwaitChat(ctx)
	if err != nil || ac.ID() != chat.ChatID {
		t.Fatalf("AwaitChat = %v, %v", ac, err)
	}
	if ac.Summary() != "Wants a refund for order 42." {
		t.Fatalf("summary = %q", ac.Summary())
	}

	// A message while queued is stored and seen once the agent joins.
	msg := servicedesk.NewTextRequest("hello?")
	msg.ID = "client-1"
	var sent deskproto.SendResult
	h.mustDo(http.StatusCreated, &sent, "POST", "/v1/chats/"+chat.ChatID+"/messages", chat.ChatToken, map[string]any{"message": msg}, "Idempotency-Key", "k1")
	if sent.MessageID == "" || sent.Replayed {
		t.Fatalf("send = %+v", sent)
	}
	if err := ac.Join(ctx, ada); err != nil {
		t.Fatal(err)
	}
	got, err := ac.AwaitCustomerMessage(ctx)
	if err != nil || got.ID != "client-1" || got.Input.Text != "hello?" {
		t.Fatalf("AwaitCustomerMessage = %+v, %v", got, err)
	}
	evs = h.pollUntil(chat, &cur, deskproto.EventAgentJoined)
	if j := evs[len(evs)-1]; j.Agent.Nickname != "Ada" {
		t.Fatalf("joined = %+v", j)
	}

	// Agent side: typing, a rich message, a read receipt.
	must(t, ac.Typing(ctx, true))
	rich := servicedesk.NewResponse(servicedesk.TextItem("**Sure**, let me check."), servicedesk.ImageItem("https://example.com/a.png", "a chart"), servicedesk.LinkButtonItem("Track order", "https://example.com/track"))
	mid, err := ac.Say(ctx, rich)
	must(t, err)
	must(t, ac.Read(ctx))
	evs = h.pollUntil(chat, &cur, deskproto.EventAgentRead)
	byType := map[deskproto.EventType]deskproto.Event{}
	for _, e := range evs {
		byType[e.Type] = e
	}
	if !*byType[deskproto.EventAgentTyping].Typing {
		t.Fatal("typing event not on")
	}
	am := byType[deskproto.EventAgentMessage]
	if am.MessageID != mid || len(am.Message.Output.Generic) != 3 || am.Message.Output.Generic[2].URL != "https://example.com/track" || am.Agent.ID != "agent-1" {
		t.Fatalf("agent message = %s", eventJSON(am))
	}
	if byType[deskproto.EventAgentRead].ReadMessageID != sent.MessageID {
		t.Fatalf("agent read %q, want %q", byType[deskproto.EventAgentRead].ReadMessageID, sent.MessageID)
	}

	// Customer side: typing and read receipts reach the agent.
	h.mustDo(http.StatusNoContent, nil, "POST", "/v1/chats/"+chat.ChatID+"/typing", chat.ChatToken, map[string]bool{"typing": true})
	if on, err := ac.AwaitCustomerTyping(ctx); err != nil || !on {
		t.Fatalf("customer typing = %v, %v", on, err)
	}
	h.mustDo(http.StatusNoContent, nil, "POST", "/v1/chats/"+chat.ChatID+"/read", chat.ChatToken, map[string]string{"message_id": mid})
	if id, err := ac.AwaitCustomerRead(ctx); err != nil || id != mid {
		t.Fatalf("customer read = %q, %v", id, err)
	}

	// Screen share: requested, accepted, then stopped by the customer.
	shareDone := make(chan servicedesk.ScreenShareState, 1)
	go func() {
		s, _ := ac.RequestScreenShare(ctx)
		shareDone <- s
	}()
	evs = h.pollUntil(chat, &cur, deskproto.EventScreenShareRequested)
	sid := evs[len(evs)-1].ScreenShareID
	h.mustDo(http.StatusNoContent, nil, "POST", "/v1/chats/"+chat.ChatID+"/screen_share", chat.ChatToken, map[string]string{"screen_share_id": sid, "state": "accepted"})
	if s := <-shareDone; s != servicedesk.ScreenShareAccepted {
		t.Fatalf("screen share = %q", s)
	}
	h.mustDo(http.StatusNoContent, nil, "POST", "/v1/chats/"+chat.ChatID+"/screen_share/stop", chat.ChatToken, nil)
	if s, err := ac.AwaitScreenShare(ctx); err != nil || s != servicedesk.ScreenShareEnded {
		t.Fatalf("screen share stop = %q, %v", s, err)
	}
	// A second request the agent withdraws before an answer.
	sid2, err := d.AgentRequestScreenShareAsync(ctx, ac.ID())
	must(t, err)
	must(t, ac.EndScreenShare(ctx))
	evs = h.pollUntil(chat, &cur, deskproto.EventScreenShareEnded)
	if e := evs[len(evs)-1]; e.ScreenShareID != sid2 || e.ScreenShareState != servicedesk.ScreenShareCancelled {
		t.Fatalf("share ended = %s", eventJSON(e))
	}

	// Transfer to Grace, then Grace ends the chat.
	must(t, ac.Transfer(ctx, grace))
	evs = h.pollUntil(chat, &cur, deskproto.EventTransferStarted)
	if e := evs[len(evs)-1]; e.Agent.ID != "agent-2" {
		t.Fatalf("transfer = %s", eventJSON(e))
	}
	must(t, ac.Join(ctx, grace))
	h.pollUntil(chat, &cur, deskproto.EventAgentJoined)
	var info deskproto.ChatInfo
	h.mustDo(http.StatusOK, &info, "GET", "/v1/chats/"+chat.ChatID, chat.ChatToken, nil)
	if info.State != StateActive || info.Agent.ID != "agent-2" {
		t.Fatalf("info = %+v", info)
	}
	must(t, ac.End(ctx))
	evs = h.pollUntil(chat, &cur, deskproto.EventChatEnded)
	if e := evs[len(evs)-1]; e.EndedBy != EndedByAgent || evs[len(evs)-2].Type != deskproto.EventAgentEnded {
		t.Fatalf("end = %v", types(evs))
	}
	if by, err := ac.AwaitEnded(ctx); err != nil || by != EndedByAgent {
		t.Fatalf("AwaitEnded = %q, %v", by, err)
	}
	// After the end: a poll answers at once with ended, actions fail.
	p := h.poll(chat, cur, "5")
	if !p.Ended || len(p.Events) != 0 {
		t.Fatalf("poll after end = %+v", p)
	}
	h.wantError(http.StatusConflict, "chat_ended", "POST", "/v1/chats/"+chat.ChatID+"/messages", chat.ChatToken, map[string]any{"message": msg})
	checkSeq(t, d, chat.ChatID)
}

func TestRESTCustomerEndsAndAgentLeaves(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := ctxT(t)
	chat := h.start(deskproto.StartRequest{})
	ac, err := h.desk.AwaitChat(ctx)
	must(t, err)
	must(t, ac.Join(ctx, ada))
	must(t, ac.Leave(ctx))
	var cur uint64
	evs := h.pollUntil(chat, &cur, deskproto.EventAgentLeft)
	if evs[len(evs)-1].Agent.ID != ada.ID {
		t.Fatal("agent_left without the agent")
	}
	if _, err := ac.SayText(ctx, "still here?"); !errors.Is(err, ErrNoAgent) {
		t.Fatalf("say after leave: %v", err)
	}
	h.mustDo(http.StatusNoContent, nil, "POST", "/v1/chats/"+chat.ChatID+"/end", chat.ChatToken, nil)
	evs = h.pollUntil(chat, &cur, deskproto.EventChatEnded)
	if evs[len(evs)-1].EndedBy != EndedByCustomer {
		t.Fatalf("ended by %q", evs[len(evs)-1].EndedBy)
	}
	if by, _ := ac.AwaitEnded(ctx); by != EndedByCustomer {
		t.Fatalf("AwaitEnded = %q", by)
	}
	h.wantError(http.StatusConflict, "chat_ended", "POST", "/v1/chats/"+chat.ChatID+"/end", chat.ChatToken, nil)
}

func TestRESTIdempotency(t *testing.T) {
	h := newHarness(t, Options{})
	chat := h.start(deskproto.StartRequest{})
	path := "/v1/chats/" + chat.ChatID + "/messages"
	body := map[string]any{"message": servicedesk.NewTextRequest("once")}
	var a, b deskproto.SendResult
	h.mustDo(http.StatusCreated, &a, "POST", path, chat.ChatToken, body, "Idempotency-Key", "same")
	_, raw, hdr := h.do("POST", path, chat.ChatToken, body, "Idempotency-Key", "same")
	must(t, json.Unmarshal(raw, &b))
	if a.MessageID != b.MessageID || !a.CreatedAt.Equal(b.CreatedAt) || !b.Replayed || hdr.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %+v vs %+v", a, b)
	}
	h.wantError(http.StatusUnprocessableEntity, "idempotency_key_reused", "POST", path, chat.ChatToken, map[string]any{"message": servicedesk.NewTextRequest("other")}, "Idempotency-Key", "same")
	h.wantError(http.StatusBadRequest, "bad_request", "POST", path, chat.ChatToken, body, "Idempotency-Key", strings.Repeat("k", 256))
	msgs, _ := h.desk.CustomerMessages(chat.ChatID)
	if len(msgs) != 1 {
		t.Fatalf("stored %d messages, want 1", len(msgs))
	}
}

// TestRESTBadInput checks each bad request gets a clear JSON error and
// stores nothing.
func TestRESTBadInput(t *testing.T) {
	h := newHarness(t, Options{MaxBodyBytes: 1024})
	chat := h.start(deskproto.StartRequest{})
	other := h.start(deskproto.StartRequest{})
	id, tok := chat.ChatID, chat.ChatToken
	good := map[string]any{"message": servicedesk.NewTextRequest("hi")}
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code                      string
	}{
		{"malformed start", "POST", "/v1/chats", "", `{"customer":`, 400, "bad_json"},
		{"start trailing data", "POST", "/v1/chats", "", `{} {}`, 400, "bad_json"},
		{"start wrong item", "POST", "/v1/chats", "", `{"connect_item":{"response_type":"text"}}`, 400, "bad_request"},
		{"start bad webhook", "POST", "/v1/chats", "", `{"webhook_url":"ftp://x"}`, 400, "bad_request"},
		{"malformed message", "POST", "/v1/chats/" + id + "/messages", tok, `{"message":{"input":`, 400, "bad_json"},
		{"message wrong type", "POST", "/v1/chats/" + id + "/messages", tok, `{"message":"hi"}`, 400, "bad_json"},
		{"message missing", "POST", "/v1/chats/" + id + "/messages", tok, `{}`, 400, "bad_request"},
		{"message empty text", "POST", "/v1/chats/" + id + "/messages", tok, `{"message":{"input":{"text":""}}}`, 400, "bad_request"},
		{"message too large", "POST", "/v1/chats/" + id + "/messages", tok, `{"message":{"input":{"text":"` + strings.Repeat("x", 2000) + `"}}}`, 413, "body_too_large"},
		{"unknown chat", "POST", "/v1/chats/ch_nope/messages", tok, good, 404, "chat_not_found"},
		{"no token", "POST", "/v1/chats/" + id + "/messages", "", good, 401, "unauthorized"},
		{"wrong token", "POST", "/v1/chats/" + id + "/messages", other.ChatToken, good, 401, "unauthorized"},
		{"typing missing", "POST", "/v1/chats/" + id + "/typing", tok, `{}`, 400, "bad_request"},
		{"typing malformed", "POST", "/v1/chats/" + id + "/typing", tok, `{"typing":"yes"}`, 400, "bad_json"},
		{"read unknown message", "POST", "/v1/chats/" + id + "/read", tok, `{"message_id":"am_x"}`, 400, "bad_request"},
		{"share no request", "POST", "/v1/chats/" + id + "/screen_share", tok, `{"state":"accepted"}`, 409, "no_screen_share"},
		{"share bad state", "POST", "/v1/chats/" + id + "/screen_share", tok, `{"state":"maybe"}`, 400, "bad_request"},
		{"share stop none", "POST", "/v1/chats/" + id + "/screen_share/stop", tok, nil, 409, "no_screen_share"},
		{"end malformed", "POST", "/v1/chats/" + id + "/end", tok, `[`, 400, "bad_json"},
		{"events bad cursor", "GET", "/v1/chats/" + id + "/events?cursor=-1", tok, nil, 400, "bad_cursor"},
		{"events cursor ahead", "GET", "/v1/chats/" + id + "/events?cursor=999", tok, nil, 400, "bad_cursor"},
		{"events bad wait", "GET", "/v1/chats/" + id + "/events?wait=soon", tok, nil, 400, "bad_request"},
		{"events wrong token", "GET", "/v1/chats/" + id + "/events", other.ChatToken, nil, 401, "unauthorized"},
		{"events unknown chat", "GET", "/v1/chats/nope/events", tok, nil, 404, "chat_not_found"},
		{"info wrong token", "GET", "/v1/chats/" + id, "x", nil, 401, "unauthorized"},
		{"webhook bad url", "PUT", "/v1/chats/" + id + "/webhook", tok, `{"url":"not a url"}`, 400, "bad_request"},
		{"wrong method", "DELETE", "/v1/chats/" + id + "/messages", tok, nil, 405, "method_not_allowed"},
		{"no route", "GET", "/v2/nothing", "", nil, 404, "not_found"},
		{"upload not multipart", "POST", "/v1/chats/" + id + "/files", tok, `{}`, 400, "bad_request"},
		{"upload wrong token", "POST", "/v1/chats/" + id + "/files", "nope", `{}`, 401, "unauthorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			h.wantError(c.status, c.code, c.method, c.path, c.token, c.body)
		})
	}
	h.t = t
	for _, c := range []deskproto.ChatInfo{chat, other} {
		msgs, _ := h.desk.CustomerMessages(c.ChatID)
		files, _ := h.desk.Files(c.ChatID)
		evs, _ := h.desk.Events(c.ChatID)
		if len(msgs) != 0 || len(files) != 0 || len(evs) != 2 {
			t.Fatalf("bad input stored something: %d messages, %d files, events %v", len(msgs), len(files), types(evs))
		}
	}
	if n := len(h.desk.Agents()); n != 1 {
		t.Fatal(n)
	}
	if st, _ := h.desk.State(ctxT(t), 0, 0); len(st.Chats) != 2 {
		t.Fatalf("bad starts created chats: %d", len(st.Chats))
	}
}

// upload posts files as multipart; each file is name, type, content, id.
func (h *harness) upload(chat deskproto.ChatInfo, files ...[4]string) (int, []byte) {
	h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range files {
		if f[3] != "" {
			_ = mw.WriteField("file_id", f[3])
		}
		hdr := make(map[string][]string)
		hdr["Content-Disposition"] = []string{`form-data; name="file"; filename="` + f[0] + `"`}
		if f[1] != "" {
			hdr["Content-Type"] = []string{f[1]}
		}
		w, _ := mw.CreatePart(hdr)
		_, _ = io.WriteString(w, f[2])
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", h.srv.URL+"/v1/chats/"+chat.ChatID+"/files", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+chat.ChatToken)
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestRESTFileUploads(t *testing.T) {
	caps := servicedesk.Capabilities{AllowFileUploads: true, AllowMultipleFileUploads: true, AllowedFileUploadTypes: "image/*,.txt", MaxFileSizeBytes: 100, MaxFiles: 2}
	h := newHarness(t, Options{Capabilities: &caps})
	ctx := ctxT(t)
	chat := h.start(deskproto.StartRequest{})
	ac, _ := h.desk.AwaitChat(ctx)
	must(t, ac.Join(ctx, ada))

	st, b := h.upload(chat, [4]string{"notes.txt", "text/plain", "hello file", "f-1"})
	if st != http.StatusCreated || !strings.Contains(string(b), `"status":"ok"`) {
		t.Fatalf("upload = %d %s", st, b)
	}
	fu, err := ac.AwaitFile(ctx)
	must(t, err)
	rc, _ := fu.File.Open(ctx)
	content, _ := io.ReadAll(rc)
	if fu.ID != "f-1" || fu.IsError || string(content) != "hello file" || fu.File.Name != "notes.txt" {
		t.Fatalf("file = %+v %q", fu, content)
	}
	// The same file id again is stored once.
	h.upload(chat, [4]string{"notes.txt", "text/plain", "hello file", "f-1"})

	rejects := []struct {
		file   [4]string
		status int
		code   string
	}{
		{[4]string{"big.txt", "text/plain", strings.Repeat("x", 101), "f-2"}, 413, "file_too_large"},
		{[4]string{"run.sh", "text/x-sh", "echo", "f-3"}, 415, "file_type_not_allowed"},
		{[4]string{"fake.png", "image/png", "<script>", "f-4"}, 415, "file_type_not_allowed"},
	}
	var cur uint64
	for _, r := range rejects {
		st, b := h.upload(chat, r.file)
		var eb deskproto.ErrorBody
		_ = json.Unmarshal(b, &eb)
		if st != r.status || eb.Error.Code != r.code || eb.Error.FileID != r.file[3] {
			t.Fatalf("%s: %d %s", r.file[0], st, b)
		}
		fu, err := ac.AwaitFile(ctx)
		if err != nil || !fu.IsError || fu.ErrorMessage == "" || fu.ID != r.file[3] {
			t.Fatalf("rejected file seen as %+v, %v", fu, err)
		}
		evs := h.pollUntil(chat, &cur, deskproto.EventFileStatus)
		var last deskproto.Event
		for _, e := range evs {
			if e.Type == deskproto.EventFileStatus {
				last = e
			}
		}
		_ = last
	}
	// Status events: ok for f-1, errors with reasons for the rest.
	evs, _ := h.desk.Events(chat.ChatID)
	var statuses []string
	for _, e := range evs {
		if e.Type == deskproto.EventFileStatus {
			statuses = append(statuses, e.FileID+":"+e.FileStatus)
			if e.FileStatus == "error" && e.Reason == "" {
				t.Fatal("error status without reason")
			}
		}
	}
	if strings.Join(statuses, ",") != "f-1:ok,f-2:error,f-3:error,f-4:error" {
		t.Fatalf("statuses = %v", statuses)
	}
	// Too many files in one upload, a body far over the limit, a bad name.
	if st, b := h.upload(chat, [4]string{"a.txt", "text/plain", "a", ""}, [4]string{"b.txt", "text/plain", "b", ""}, [4]string{"c.txt", "text/plain", "c", ""}); st != 400 || !strings.Contains(string(b), "too_many_files") {
		t.Fatalf("three files = %d %s", st, b)
	}
	if st, b := h.upload(chat, [4]string{"huge.txt", "text/plain", strings.Repeat("x", 200<<10), ""}); st != 413 {
		t.Fatalf("huge = %d %s", st, b)
	}
	if st, b := h.upload(chat, [4]string{"", "text/plain", "x", ""}); st != 400 {
		t.Fatalf("no name = %d %s", st, b)
	}
	files, _ := h.desk.Files(chat.ChatID)
	if len(files) != 1 {
		t.Fatalf("stored %d files, want 1", len(files))
	}
	// Uploads off: refused with its own code.
	off := caps
	off.AllowFileUploads = false
	must(t, h.desk.SetChatCapabilities(ctx, chat.ChatID, off))
	if st, b := h.upload(chat, [4]string{"n.txt", "text/plain", "x", "f-9"}); st != 403 || !strings.Contains(string(b), "uploads_not_allowed") {
		t.Fatalf("uploads off = %d %s", st, b)
	}
	// The agent asks for files: uploads come back on.
	must(t, ac.requestFiles(ctx, "Please send a screenshot."))
	if st, _ := h.upload(chat, [4]string{"n.txt", "text/plain", "x", "f-10"}); st != 201 {
		t.Fatalf("after request_files = %d", st)
	}
}

func TestRESTQueueUpdatesAsAgentsFreeUp(t *testing.T) {
	h := newHarness(t, Options{Agents: []AgentConfig{{Profile: ada, Online: true, Capacity: 1}}, AverageHandleTime: Duration(2 * 60e9)})
	ctx := ctxT(t)
	chats := []deskproto.ChatInfo{h.start(deskproto.StartRequest{}), h.start(deskproto.StartRequest{}), h.start(deskproto.StartRequest{})}
	ids := make([]string, 3)
	for i := range ids {
		id, err := h.desk.AwaitChatID(ctx)
		must(t, err)
		ids[i] = id
	}
	var info deskproto.ChatInfo
	h.mustDo(200, &info, "GET", "/v1/chats/"+chats[2].ChatID, chats[2].ChatToken, nil)
	if num(info.Position) != 3 || num(info.WaitMinutes) != 6 {
		t.Fatalf("third chat: pos %d wait %d", num(info.Position), num(info.WaitMinutes))
	}
	must(t, h.desk.AgentJoin(ctx, ids[0], ada))
	var cur uint64
	evs := h.pollUntil(chats[2], &cur, deskproto.EventQueueUpdate)
	_ = evs
	h.mustDo(200, &info, "GET", "/v1/chats/"+chats[2].ChatID, chats[2].ChatToken, nil)
	if num(info.Position) != 2 || num(info.WaitMinutes) != 4 {
		t.Fatalf("after a join: pos %d wait %d", num(info.Position), num(info.WaitMinutes))
	}
	// The queued customer who leaves moves the others up.
	h.mustDo(204, nil, "POST", "/v1/chats/"+chats[1].ChatID+"/end", chats[1].ChatToken, nil)
	h.mustDo(200, &info, "GET", "/v1/chats/"+chats[2].ChatID, chats[2].ChatToken, nil)
	if num(info.Position) != 1 {
		t.Fatalf("after a leave: pos %d", num(info.Position))
	}
	// Agent offline: availability says so.
	must(t, h.desk.SetAgentOnline(ctx, ada.ID, false))
	var av deskproto.Availability
	h.mustDo(200, &av, "GET", "/v1/availability", "", nil)
	if av.Online || av.Waiting != 1 {
		t.Fatalf("offline availability = %+v", av)
	}
}

func TestRESTStartRefused(t *testing.T) {
	h := newHarness(t, Options{RefuseWhenOffline: true, Agents: []AgentConfig{{Profile: ada}}})
	chat := h.start(deskproto.StartRequest{})
	if chat.State != StateEnded {
		t.Fatalf("state %q", chat.State)
	}
	p := h.poll(chat, 0, "")
	if got := types(p.Events); strings.Join(got, ",") != "capabilities,error,chat_ended" || p.Events[1].Code != "no_agents_online" || !p.Ended {
		t.Fatalf("events %v", got)
	}
	h2 := newHarness(t, Options{MaxQueue: 1})
	h2.start(deskproto.StartRequest{})
	refused := h2.start(deskproto.StartRequest{})
	if p := h2.poll(refused, 0, ""); p.Events[1].Code != "queue_full" {
		t.Fatalf("queue full: %s", eventJSON(p.Events[1]))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkSeq asserts a chat's events are numbered 1..n with no gap and
// unique ids.
func checkSeq(t *testing.T, d *Desk, chatID string) []deskproto.Event {
	t.Helper()
	evs, err := d.Events(chatID)
	must(t, err)
	ids := map[string]bool{}
	for i, e := range evs {
		if e.Seq != uint64(i+1) || e.ChatID != chatID || ids[e.ID] {
			t.Fatalf("chat %s event %d: seq %d id %s", chatID, i, e.Seq, e.ID)
		}
		ids[e.ID] = true
	}
	return evs
}

// num reads an optional number of the protocol (0 when absent).
func num(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
