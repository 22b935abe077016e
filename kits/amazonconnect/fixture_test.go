package amazonconnect_test

// Fixture tests: every request the kit sends and every answer and frame it
// reads, pinned against the shapes of AWS's documentation (Amazon Connect
// Participant Service API reference: Request/Response Syntax and Errors of
// CreateParticipantConnection, SendMessage, SendEvent, GetTranscript,
// StartAttachmentUpload, CompleteAttachmentUpload, DisconnectParticipant;
// the WebSocket frames as the API reference and amazon-connect-chatjs
// describe them). REST is served by jarcoal/httpmock, the WebSocket by a
// loopback server replaying documented frames.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/gorilla/websocket"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/amazonconnect"
)

const participantBase = "https://participant.connect.us-west-2.amazonaws.com"

// recorder is a servicedesk.Callback that writes down every call.
type recorder struct {
	mu    sync.Mutex
	calls []string
	state json.RawMessage
	ch    chan string
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 256)} }

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
	r.ch <- s
}

// next waits for the next call that is not a capability or state update.
func (r *recorder) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-r.ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatalf("no callback; so far: %v", r.all())
		return ""
	}
}

func (r *recorder) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := r.next(t); got != w {
			t.Fatalf("callback %q, want %q (all: %v)", got, w, r.all())
		}
	}
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) UpdateCapabilities(u servicedesk.CapabilitiesUpdate) {}
func (r *recorder) UpdateAgentAvailability(a servicedesk.AgentAvailability) {
	r.add("availability:" + a.Message)
}
func (r *recorder) AgentJoined(p servicedesk.AgentProfile) {
	r.add("joined:" + p.ID + ":" + p.Nickname)
}
func (r *recorder) AgentReadMessages()  { r.add("read") }
func (r *recorder) AgentTyping(on bool) { r.add(fmt.Sprint("typing:", on)) }
func (r *recorder) SendMessageToUser(m servicedesk.MessageResponse, agentID string) {
	var parts []string
	for _, it := range m.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseImage:
			parts = append(parts, "image("+it.Source+")")
		case servicedesk.ResponseButton:
			parts = append(parts, "link("+it.Label+"|"+it.URL+")")
		default:
			parts = append(parts, it.Text)
		}
	}
	r.add("message:" + agentID + ":" + strings.Join(parts, "+"))
}
func (r *recorder) SendTextToUser(text, agentID string) { r.add("message:" + agentID + ":" + text) }
func (r *recorder) BeginTransferToAnotherAgent(*servicedesk.AgentProfile) {
	r.add("transfer")
}
func (r *recorder) AgentLeftChat()  { r.add("left") }
func (r *recorder) AgentEndedChat() { r.add("ended") }
func (r *recorder) SetErrorStatus(e servicedesk.ErrorInfo) {
	switch e.Type {
	case servicedesk.ErrorDisconnected:
		r.add(fmt.Sprint("disconnected:", e.IsDisconnected))
	default:
		r.add(fmt.Sprintf("error:%s:%s", e.Type, e.MessageToUser))
	}
}
func (r *recorder) SetFileUploadStatus(id string, isErr bool, msg string) {
	r.add(fmt.Sprintf("file:%s:%v:%s", id, isErr, msg))
}
func (r *recorder) ScreenShareRequest(context.Context) (servicedesk.ScreenShareState, error) {
	return servicedesk.ScreenShareDeclined, nil
}
func (r *recorder) ScreenShareEnded() {}
func (r *recorder) PersistedState() json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}
func (r *recorder) UpdatePersistedState(v any) error  { return r.persist(v, true) }
func (r *recorder) ReplacePersistedState(v any) error { return r.persist(v, false) }

func (r *recorder) persist(v any, merge bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !merge || len(r.state) == 0 {
		r.state = b
		return nil
	}
	var cur, add map[string]any
	_ = json.Unmarshal(r.state, &cur)
	_ = json.Unmarshal(b, &add)
	for k, v := range add {
		cur[k] = v
	}
	r.state, _ = json.Marshal(cur)
	return nil
}

type instance string

func (i instance) SessionID() string { return string(i) }

// fakeConnect answers StartChatContact with the documented response and
// keeps the input.
type fakeConnect struct {
	mu sync.Mutex
	in *connect.StartChatContactInput
}

func (f *fakeConnect) StartChatContact(_ context.Context, in *connect.StartChatContactInput, _ ...func(*connect.Options)) (*connect.StartChatContactOutput, error) {
	f.mu.Lock()
	f.in = in
	f.mu.Unlock()
	// StartChatContact Response Syntax: ContactId, ContinuedFromContactId,
	// ParticipantId, ParticipantToken.
	var out connect.StartChatContactOutput
	id, pid, tok := "c0ffee00-1111-2222-3333-444455556666", "p4rt1c1p-1111-2222-3333-444455556666", "QVFJREFIaGVhcnRiZWF0UGFydGljaXBhbnRUb2tlbg=="
	out.ContactId, out.ParticipantId, out.ParticipantToken = &id, &pid, &tok
	return &out, nil
}

// wsFixture is a loopback WebSocket server playing Connect's side: it
// checks the subscribe frame, answers it and heartbeats, and sends what a
// test tells it to on the current connection.
type wsFixture struct {
	*httptest.Server
	mu         sync.Mutex
	conn       *websocket.Conn
	conns      chan *websocket.Conn
	heartbeats chan struct{}
	badFirst   chan string
}

func newWSFixture(t *testing.T) *wsFixture {
	f := &wsFixture{conns: make(chan *websocket.Conn, 8), heartbeats: make(chan struct{}, 64), badFirst: make(chan string, 8)}
	up := websocket.Upgrader{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("AuthToken") == "" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		_, first, err := c.ReadMessage()
		if err != nil {
			c.Close()
			return
		}
		if string(first) != `{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}` {
			f.badFirst <- string(first)
		}
		f.mu.Lock()
		f.conn = c
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}`))
		f.mu.Unlock()
		f.conns <- c
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				c.Close()
				return
			}
			if string(b) == `{"topic":"aws/heartbeat"}` {
				f.mu.Lock()
				_ = c.WriteMessage(websocket.TextMessage, []byte(`{"topic":"aws/heartbeat"}`))
				f.mu.Unlock()
				select {
				case f.heartbeats <- struct{}{}:
				default:
				}
			}
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *wsFixture) url() string {
	return "ws" + strings.TrimPrefix(f.URL, "http") + "/connect?AuthToken=abc"
}

// chat sends an item the way Connect does: the item, stringified, as the
// content of an aws/chat frame.
func (f *wsFixture) chat(t *testing.T, item string) {
	t.Helper()
	content, _ := json.Marshal(item)
	f.raw(t, `{"topic":"aws/chat","contentType":"application/json","content":`+string(content)+`}`)
}

func (f *wsFixture) raw(t *testing.T, frame string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatal(err)
	}
}

// drop cuts the current connection without a close frame.
func (f *wsFixture) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.conn.NetConn().Close()
}

// fixture is a kit on httpmock and a wsFixture, with one desk.
type fixture struct {
	mock *httpmock.MockTransport
	ws   *wsFixture
	kit  *amazonconnect.Kit
	conn *fakeConnect
	rec  *recorder
	desk servicedesk.ServiceDesk

	mu          sync.Mutex
	transcripts []string // GetTranscript bodies received
	// transcript answers GetTranscript; by default an empty transcript.
	transcript func(req map[string]any) (int, string)
}

func newFixture(t *testing.T, state json.RawMessage) *fixture {
	t.Helper()
	f := &fixture{mock: httpmock.NewMockTransport(), ws: newWSFixture(t), conn: &fakeConnect{}, rec: newRecorder()}
	f.rec.state = state
	f.transcript = func(map[string]any) (int, string) {
		return 200, `{"InitialContactId":"c0ffee00-1111-2222-3333-444455556666","Transcript":[]}`
	}
	// CreateParticipantConnection: Response Syntax.
	f.mock.RegisterResponder("POST", participantBase+"/participant/connection", func(req *http.Request) (*http.Response, error) {
		if req.Header.Get("X-Amz-Bearer") != "QVFJREFIaGVhcnRiZWF0UGFydGljaXBhbnRUb2tlbg==" {
			return httpmock.NewStringResponse(403, `{"Message":"You do not have sufficient access to perform this action."}`), nil
		}
		body, _ := io.ReadAll(req.Body)
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		if in["ConnectParticipant"] != true {
			t.Errorf("CreateParticipantConnection without ConnectParticipant: %s", body)
		}
		exp := time.Now().Add(100 * time.Second).UTC().Format(time.RFC3339)
		tokExp := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
		return httpmock.NewStringResponse(200, `{
		   "ConnectionCredentials": {"ConnectionToken": "Q29ubmVjdGlvblRva2Vu", "Expiry": "`+tokExp+`"},
		   "Websocket": {"ConnectionExpiry": "`+exp+`", "Url": "`+f.ws.url()+`"}
		}`), nil
	})
	f.mock.RegisterResponder("POST", participantBase+"/participant/transcript", func(req *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(req.Body)
		f.mu.Lock()
		f.transcripts = append(f.transcripts, string(body))
		answer := f.transcript
		f.mu.Unlock()
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		status, out := answer(in)
		return httpmock.NewStringResponse(status, out), nil
	})
	kit, err := amazonconnect.New(amazonconnect.Config{
		Region: "us-west-2", InstanceID: "i-1", ContactFlowID: "f-1",
		Connect:           f.conn,
		HTTPClient:        &http.Client{Transport: f.mock},
		HeartbeatInterval: 50 * time.Millisecond,
		TypingInterval:    time.Hour,
		Retries:           3,
		Backoff:           retry.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.kit = kit
	f.desk, err = kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: f.rec, Instance: instance("s-1"), PersistedState: state})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	return f
}

// start starts a chat and waits for the WebSocket to be subscribed.
func (f *fixture) start(t *testing.T) {
	t.Helper()
	connectMsg := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: "needs a refund",
		TransferInfo: &servicedesk.TransferInfo{AdditionalData: map[string]string{"queue": "billing"}}})
	if err := f.desk.StartChat(context.Background(), connectMsg, servicedesk.StartChatOptions{}); err != nil {
		t.Fatal(err)
	}
	f.awaitConn(t)
}

func (f *fixture) awaitConn(t *testing.T) {
	t.Helper()
	select {
	case <-f.ws.conns:
	case bad := <-f.ws.badFirst:
		t.Fatalf("first frame %s, want the aws/subscribe frame", bad)
	case <-time.After(5 * time.Second):
		t.Fatal("the kit never connected the WebSocket")
	}
}

// Documented transcript items (wire.Item: AbsoluteTime, Content, ContentType,
// Id, Type, ParticipantId, DisplayName, ParticipantRole, ...).
func joined(id string) string {
	return `{"AbsoluteTime":"2024-05-01T12:00:01.000Z","ContentType":"application/vnd.amazonaws.connect.event.participant.joined","Id":"` + id + `","Type":"EVENT","ParticipantId":"agent-p-1","DisplayName":"Ada","ParticipantRole":"AGENT"}`
}

func agentText(id, text string) string {
	b, _ := json.Marshal(text)
	return `{"AbsoluteTime":"2024-05-01T12:00:02.000Z","Content":` + string(b) + `,"ContentType":"text/plain","Id":"` + id + `","Type":"MESSAGE","ParticipantId":"agent-p-1","DisplayName":"Ada","ParticipantRole":"AGENT"}`
}

// persisted is the kit's persisted state, as the fixtures read it.
type persisted struct {
	ContactID        string `json:"contact_id"`
	ParticipantID    string `json:"participant_id"`
	ParticipantToken string `json:"participant_token"`
	ConnectionToken  string `json:"connection_token"`
	ConnectionExpiry string `json:"connection_expiry"`
	LastItemID       string `json:"last_item_id"`
}

func TestStartChatContactAndEvents(t *testing.T) {
	f := newFixture(t, nil)
	f.start(t)
	f.conn.mu.Lock()
	in := f.conn.in
	f.conn.mu.Unlock()
	require.Equal(t, "i-1", *in.InstanceId, "StartChatContact input")
	require.Equal(t, "f-1", *in.ContactFlowId, "StartChatContact input")
	require.Equal(t, "Customer", *in.ParticipantDetails.DisplayName, "StartChatContact input")
	require.Equal(t, "needs a refund", in.Attributes["summary"], "StartChatContact attributes %v", in.Attributes)
	require.Equal(t, "billing", in.Attributes["queue"], "StartChatContact attributes %v", in.Attributes)
	require.NotNil(t, in.ClientToken, "StartChatContact ClientToken")
	require.NotEmpty(t, *in.ClientToken, "StartChatContact ClientToken")
	var st persisted
	_ = json.Unmarshal(f.rec.PersistedState(), &st)
	require.Equal(t, "c0ffee00-1111-2222-3333-444455556666", st.ContactID, "persisted %+v", st)
	require.NotEmpty(t, st.ParticipantToken, "persisted %+v", st)
	require.Equal(t, "Q29ubmVjdGlvblRva2Vu", st.ConnectionToken, "persisted %+v", st)
	require.NotEmpty(t, st.ConnectionExpiry, "persisted %+v", st)
	var c amazonconnect.Contact
	require.True(t, servicedesk.As(f.desk, &c), "As(*Contact)")
	require.Equal(t, amazonconnect.Contact{ContactID: st.ContactID, ParticipantID: st.ParticipantID}, c, "As(*Contact): the persisted contact")
	require.False(t, servicedesk.As(f.desk, new(string)), "As answered a type the kit does not document")
	require.False(t, servicedesk.As(f.desk, nil), "As answered a nil target")
	ws := f.ws
	select {
	case <-ws.heartbeats:
	case <-time.After(2 * time.Second):
		t.Fatal("no aws/heartbeat frame from the kit")
	}
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:00.500Z","Content":"Thanks for contacting us. An agent will be with you shortly.","ContentType":"text/plain","Id":"sys-1","Type":"MESSAGE","ParticipantId":"sys","DisplayName":"SYSTEM_MESSAGE","ParticipantRole":"SYSTEM"}`)
	f.rec.expect(t, "availability:Thanks for contacting us. An agent will be with you shortly.")
	ws.chat(t, joined("j-1"))
	f.rec.expect(t, "joined:agent-p-1:Ada")
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:01.500Z","ContentType":"application/vnd.amazonaws.connect.event.typing","Id":"t-1","Type":"EVENT","ParticipantId":"agent-p-1","DisplayName":"Ada","ParticipantRole":"AGENT"}`)
	f.rec.expect(t, "typing:true")
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:02.000Z","Content":"Hi **there**\n\n![receipt](https://example.com/r.png)\n\n[Open the form](https://example.com/form)","ContentType":"text/markdown","Id":"m-1","Type":"MESSAGE","ParticipantId":"agent-p-1","DisplayName":"Ada","ParticipantRole":"AGENT"}`)
	f.rec.expect(t, "typing:false", "message:agent-p-1:Hi **there**+image(https://example.com/r.png)+link(Open the form|https://example.com/form)")
	// The customer's own message, echoed: nothing to show.
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:02.500Z","Content":"hello","ContentType":"text/plain","Id":"c-1","Type":"MESSAGE","ParticipantId":"p4rt1c1p-1111-2222-3333-444455556666","DisplayName":"Customer","ParticipantRole":"CUSTOMER"}`)
	// Message receipts: read by the agent.
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:03.000Z","ContentType":"application/vnd.amazonaws.connect.event.message.metadata","Id":"md-1","Type":"MESSAGEMETADATA","MessageMetadata":{"MessageId":"c-1","Receipts":[{"DeliveredTimestamp":"2024-05-01T12:00:02.600Z","ReadTimestamp":"2024-05-01T12:00:03.000Z","RecipientParticipantId":"agent-p-1"}]}}`)
	f.rec.expect(t, "read")
	// An interactive message (QuickReply template).
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:03.500Z","Content":"{\"templateType\":\"QuickReply\",\"version\":\"1.0\",\"data\":{\"content\":{\"title\":\"How was it?\",\"elements\":[{\"title\":\"Good\"},{\"title\":\"Bad\"}]}}}","ContentType":"application/vnd.amazonaws.connect.message.interactive","Id":"i-1","Type":"MESSAGE","ParticipantId":"agent-p-1","DisplayName":"Ada","ParticipantRole":"AGENT"}`)
	f.rec.expect(t, "message:agent-p-1:How was it?\n\n- Good\n- Bad")
	// Unknown event types, unknown topics and broken frames are ignored.
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:04.000Z","ContentType":"application/vnd.amazonaws.connect.event.brand.new","Id":"u-1","Type":"EVENT","ParticipantRole":"SYSTEM"}`)
	ws.raw(t, `{"topic":"aws/unknown","content":{}}`)
	ws.raw(t, `not json`)
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:04.500Z","ContentType":"application/vnd.amazonaws.connect.event.participant.idle","Id":"idle-1","Type":"EVENT","ParticipantId":"agent-p-1","ParticipantRole":"AGENT"}`)
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:05.000Z","ContentType":"application/vnd.amazonaws.connect.event.transfer.succeeded","Id":"tr-1","Type":"EVENT","ParticipantRole":"SYSTEM"}`)
	f.rec.expect(t, "transfer")
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:06.000Z","ContentType":"application/vnd.amazonaws.connect.event.participant.joined","Id":"j-2","Type":"EVENT","ParticipantId":"agent-p-2","DisplayName":"Grace","ParticipantRole":"AGENT"}`)
	f.rec.expect(t, "joined:agent-p-2:Grace")
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:07.000Z","ContentType":"application/vnd.amazonaws.connect.event.participant.left","Id":"l-1","Type":"EVENT","ParticipantId":"agent-p-2","DisplayName":"Grace","ParticipantRole":"AGENT"}`)
	f.rec.expect(t, "left")
	ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:08.000Z","ContentType":"application/vnd.amazonaws.connect.event.chat.ended","Id":"e-1","Type":"EVENT","ParticipantRole":"SYSTEM"}`)
	f.rec.expect(t, "ended")
}

// TestRefusedBeforeAnAgent: chat.ended before any agent joined is a
// CONNECTING error with the flow's last system message.
func TestRefusedBeforeAnAgent(t *testing.T) {
	f := newFixture(t, nil)
	f.start(t)
	f.ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:00.500Z","Content":"We are closed.","ContentType":"text/plain","Id":"sys-1","Type":"MESSAGE","ParticipantRole":"SYSTEM","DisplayName":"SYSTEM_MESSAGE"}`)
	f.ws.chat(t, `{"AbsoluteTime":"2024-05-01T12:00:01.000Z","ContentType":"application/vnd.amazonaws.connect.event.chat.ended","Id":"e-1","Type":"EVENT","ParticipantRole":"SYSTEM"}`)
	f.rec.expect(t, "availability:We are closed.", "error:CONNECTING:We are closed.")
}

// TestGapFillAfterDrop: the socket drops mid-chat; what Connect said
// meanwhile comes from GetTranscript (after the last item delivered), and
// items that arrive both ways are shown once, in order.
func TestGapFillAfterDrop(t *testing.T) {
	f := newFixture(t, nil)
	f.start(t)
	ws := f.ws
	ws.chat(t, joined("j-1"))
	ws.chat(t, agentText("m-1", "one"))
	ws.chat(t, agentText("m-2", "two"))
	ws.chat(t, agentText("m-2", "two")) // a duplicated frame
	f.rec.expect(t, "joined:agent-p-1:Ada", "message:agent-p-1:one", "message:agent-p-1:two")
	f.mu.Lock()
	f.transcript = func(in map[string]any) (int, string) {
		sp, _ := in["StartPosition"].(map[string]any)
		if sp["Id"] != "m-2" || in["ScanDirection"] != "FORWARD" || in["SortOrder"] != "ASCENDING" {
			return 400, `{"Message":"unexpected request"}`
		}
		if in["NextToken"] == nil {
			// The start item is included; the page ends with a NextToken.
			return 200, `{"InitialContactId":"c0ffee00","NextToken":"page2","Transcript":[` + agentText("m-2", "two") + `,` + agentText("m-3", "three") + `]}`
		}
		return 200, `{"InitialContactId":"c0ffee00","Transcript":[` + agentText("m-4", "four") + `]}`
	}
	f.mu.Unlock()
	ws.drop()
	f.rec.expect(t, "disconnected:true")
	f.awaitConn(t)
	// "four" also comes live on the new connection, and "five" after it.
	ws.chat(t, agentText("m-4", "four"))
	ws.chat(t, agentText("m-5", "five"))
	// DISCONNECTED false comes when the fill is done; "five" may come
	// before it (held during the fill) or after: only the messages' order
	// is fixed.
	var msgs []string
	back := false
	for len(msgs) < 3 || !back {
		switch c := f.rec.next(t); {
		case c == "disconnected:false":
			back = true
		default:
			msgs = append(msgs, c)
		}
	}
	require.Equal(t, []string{"message:agent-p-1:three", "message:agent-p-1:four", "message:agent-p-1:five"}, msgs, "what the user saw after the drop")
	time.Sleep(50 * time.Millisecond)
	select {
	case extra := <-f.rec.ch:
		t.Fatalf("extra callback %q (a duplicate?)", extra)
	default:
	}
	var st persisted
	_ = json.Unmarshal(f.rec.PersistedState(), &st)
	require.Equal(t, "m-5", st.LastItemID, "persisted last item")
}

// TestSendShapes pins SendMessage, SendEvent (typing, read receipt) and
// DisconnectParticipant requests.
func TestSendShapes(t *testing.T) {
	f := newFixture(t, nil)
	var mu sync.Mutex
	bodies := map[string][]string{}
	capture := func(path, answer string) {
		f.mock.RegisterResponder("POST", participantBase+path, func(req *http.Request) (*http.Response, error) {
			if req.Header.Get("X-Amz-Bearer") != "Q29ubmVjdGlvblRva2Vu" || req.Header.Get("Content-Type") != "application/json" {
				return httpmock.NewStringResponse(403, `{"Message":"bad token"}`), nil
			}
			b, _ := io.ReadAll(req.Body)
			mu.Lock()
			bodies[path] = append(bodies[path], string(b))
			mu.Unlock()
			return httpmock.NewStringResponse(200, answer), nil
		})
	}
	capture("/participant/message", `{"AbsoluteTime":"2024-05-01T12:00:02.000Z","Id":"m-9"}`)
	capture("/participant/event", `{"AbsoluteTime":"2024-05-01T12:00:02.000Z","Id":"e-9"}`)
	capture("/participant/disconnect", `{}`)
	f.start(t)
	ctx := context.Background()
	if err := f.desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest("my card"), "msg-1", servicedesk.AdditionalDataToAgent{}); err != nil {
		t.Fatal(err)
	}
	ctrl := servicedesk.NewController(f.desk)
	for range 3 { // throttled: one event per TypingInterval
		if err := ctrl.UserTyping(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := ctrl.UserTyping(ctx, false); err != nil {
		t.Fatal(err)
	}
	f.ws.chat(t, agentText("m-1", "hi"))
	f.rec.expect(t, "message:agent-p-1:hi")
	if err := ctrl.UserReadMessages(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Second); ; {
		mu.Lock()
		n := len(bodies["/participant/event"])
		mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := f.desk.EndChat(ctx, servicedesk.EndChatInfo{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := bodies["/participant/message"]; assert.Len(t, got, 1, "SendMessage bodies %v", got) {
		assert.JSONEq(t, `{"ContentType":"text/plain","Content":"my card","ClientToken":"msg-1"}`, got[0], "SendMessage body")
	}
	// Typing once (throttled), then a delivered receipt (sent by itself
	// when the agent's message came) and the read receipt, in either order.
	ev := bodies["/participant/event"]
	if len(ev) != 3 || !strings.HasPrefix(ev[0], `{"ContentType":"application/vnd.amazonaws.connect.event.typing","Content":"","ClientToken":"`) {
		t.Fatalf("SendEvent bodies %v", ev)
	}
	receipts := slices.Sorted(slices.Values([]string{ev[1][:strings.Index(ev[1], `,"ClientToken"`)], ev[2][:strings.Index(ev[2], `,"ClientToken"`)]}))
	if want := []string{
		`{"ContentType":"application/vnd.amazonaws.connect.event.message.delivered","Content":"{\"messageId\":\"m-1\"}"`,
		`{"ContentType":"application/vnd.amazonaws.connect.event.message.read","Content":"{\"messageId\":\"m-1\"}"`,
	}; !slices.Equal(receipts, want) {
		assert.Equal(t, want, receipts, "receipts")
	}
	if got := bodies["/participant/disconnect"]; len(got) != 1 || !strings.HasPrefix(got[0], `{"ClientToken":"`) {
		t.Errorf("DisconnectParticipant bodies %v", got)
	}
}

// TestErrors: ThrottlingException and InternalServerException are retried;
// ValidationException and AccessDeniedException are not, and match their
// servicedesk sentinels.
func TestErrors(t *testing.T) {
	f := newFixture(t, nil)
	f.start(t)
	var n int
	var mu sync.Mutex
	f.mock.RegisterResponder("POST", participantBase+"/participant/message", func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		var r *http.Response
		switch k {
		case 1:
			r = httpmock.NewStringResponse(429, `{"Message":"Rate exceeded"}`)
			r.Header.Set("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/")
		case 2:
			r = httpmock.NewStringResponse(500, `{"message":"Internal service error"}`)
			r.Header.Set("x-amzn-ErrorType", "InternalServerException")
		case 3:
			r = httpmock.NewStringResponse(200, `{"AbsoluteTime":"2024-05-01T12:00:02.000Z","Id":"m-9"}`)
		case 4:
			r = httpmock.NewStringResponse(400, `{"Message":"Content exceeds the maximum length."}`)
			r.Header.Set("x-amzn-ErrorType", "ValidationException")
		default:
			r = httpmock.NewStringResponse(403, `{"__type":"com.amazonaws.connectparticipant#AccessDeniedException","Message":"You do not have sufficient access to perform this action."}`)
		}
		return r, nil
	})
	ctx := context.Background()
	if err := f.desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest("a"), "m-a", servicedesk.AdditionalDataToAgent{}); err != nil {
		t.Fatalf("after a 429 and a 500: %v", err)
	}
	err := f.desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest("b"), "m-b", servicedesk.AdditionalDataToAgent{})
	var ae *amazonconnect.APIError
	require.ErrorAs(t, err, &ae, "validation")
	require.Equal(t, "ValidationException", ae.Type, "validation: %v", err)
	require.Equal(t, "Content exceeds the maximum length.", ae.Message, "validation")
	require.ErrorIs(t, err, servicedesk.ErrRejected, "validation")
	err = f.desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest("c"), "m-c", servicedesk.AdditionalDataToAgent{})
	require.ErrorAs(t, err, &ae, "access denied")
	require.Equal(t, "AccessDeniedException", ae.Type, "access denied: %v", err)
	require.ErrorIs(t, err, servicedesk.ErrChatNotFound, "access denied")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 5, n, "calls: 3 for the retried one, 1 each for the refused ones")
}

// TestAttachmentShapes pins StartAttachmentUpload → pre-signed PUT with
// HeadersToInclude → CompleteAttachmentUpload, and a refused file.
func TestAttachmentShapes(t *testing.T) {
	f := newFixture(t, nil)
	var mu sync.Mutex
	var log []string
	f.mock.RegisterResponder("POST", participantBase+"/participant/start-attachment-upload", func(req *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		log = append(log, "start "+string(b))
		mu.Unlock()
		if strings.Contains(string(b), `"AttachmentName":"tool.exe"`) {
			r := httpmock.NewStringResponse(400, `{"Message":"The attachment type is not supported."}`)
			r.Header.Set("x-amzn-ErrorType", "ValidationException")
			return r, nil
		}
		return httpmock.NewStringResponse(200, `{"AttachmentId":"att-1","UploadMetadata":{"HeadersToInclude":{"Content-Type":"text/plain","x-amz-meta-contact_id":"c0ffee00"},"Url":"https://connect-attachments.s3.amazonaws.com/att-1?X-Amz-Signature=abc","UrlExpiry":"2024-05-01T12:05:00Z"}}`), nil
	})
	f.mock.RegisterResponder("PUT", "https://connect-attachments.s3.amazonaws.com/att-1", func(req *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		log = append(log, fmt.Sprintf("put %s %s %s %s", req.URL.RawQuery, req.Header.Get("Content-Type"), req.Header.Get("x-amz-meta-contact_id"), b))
		mu.Unlock()
		return httpmock.NewStringResponse(200, ""), nil
	})
	f.mock.RegisterResponder("POST", participantBase+"/participant/complete-attachment-upload", func(req *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		log = append(log, "complete "+string(b))
		mu.Unlock()
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	f.start(t)
	open := func(s string) func(context.Context) (io.ReadCloser, error) {
		return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
	}
	files := []servicedesk.FileUpload{
		{ID: "f-1", File: servicedesk.File{Name: "notes.txt", Type: "text/plain", Size: 5, Open: open("hello")}},
		{ID: "f-2", File: servicedesk.File{Name: "tool.exe", Type: "application/x-msdownload", Size: 2, Open: open("MZ")}},
	}
	if err := f.desk.SendMessageToAgent(context.Background(), servicedesk.MessageRequest{}, "msg-7", servicedesk.AdditionalDataToAgent{FilesToUpload: files}); err != nil {
		t.Fatal(err)
	}
	f.rec.expect(t, "file:f-1:false:", "file:f-2:true:The attachment type is not supported.")
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		`start {"ContentType":"text/plain","AttachmentSizeInBytes":5,"AttachmentName":"notes.txt","ClientToken":"msg-7-f-1"}`,
		`put X-Amz-Signature=abc text/plain c0ffee00 hello`,
		`complete {"AttachmentIds":["att-1"],"ClientToken":"msg-7-f-1"}`,
		`start {"ContentType":"application/x-msdownload","AttachmentSizeInBytes":2,"AttachmentName":"tool.exe","ClientToken":"msg-7-f-2"}`,
	}
	if !slices.Equal(log, want) {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}

// TestReconnectAfterRestart: a new desk from the persisted state asks for
// a connection with the participant token, then fills from the last item.
func TestReconnectAfterRestart(t *testing.T) {
	state := json.RawMessage(`{"contact_id":"c0ffee00-1111-2222-3333-444455556666","participant_id":"p4rt1c1p","participant_token":"QVFJREFIaGVhcnRiZWF0UGFydGljaXBhbnRUb2tlbg==","connection_token":"old","connection_expiry":"2024-05-02T12:00:00Z","last_item_id":"m-2","joined":true}`)
	f := newFixture(t, state)
	f.mu.Lock()
	f.transcript = func(in map[string]any) (int, string) {
		sp, _ := in["StartPosition"].(map[string]any)
		if sp["Id"] != "m-2" {
			return 400, `{"Message":"unexpected start"}`
		}
		return 200, `{"InitialContactId":"c0ffee00","Transcript":[` + agentText("m-2", "two") + `,` + agentText("m-3", "three while away") + `]}`
	}
	f.mu.Unlock()
	ok, err := servicedesk.NewController(f.desk).Reconnect(context.Background())
	require.NoError(t, err, "Reconnect")
	require.True(t, ok, "Reconnect")
	f.awaitConn(t)
	f.rec.expect(t, "message:agent-p-1:three while away")
	var st persisted
	_ = json.Unmarshal(f.rec.PersistedState(), &st)
	require.Equal(t, "Q29ubmVjdGlvblRva2Vu", st.ConnectionToken, "the renewed connection token, persisted")
}

// TestReconnectToAnEndedContact: CreateParticipantConnection answers
// AccessDeniedException for a contact that ended: Reconnect reports false.
func TestReconnectToAnEndedContact(t *testing.T) {
	f := newFixture(t, json.RawMessage(`{"contact_id":"c-1","participant_token":"expired-token"}`))
	ok, err := servicedesk.NewController(f.desk).Reconnect(context.Background())
	if err != nil || ok {
		t.Fatalf("Reconnect = %v, %v; want false, nil", ok, err)
	}
}

// TestBadPersistedState: a persisted state that does not decode fails the
// factory rather than starting a desk that forgot its contact.
func TestBadPersistedState(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: f.rec, PersistedState: json.RawMessage(`{"contact_id":42}`)})
	require.ErrorContains(t, err, "amazonconnect: persisted state")
}
