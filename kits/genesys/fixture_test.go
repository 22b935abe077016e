package genesys_test

// Fixture tests: the requests the kit sends and the frames and answers it
// reads, pinned against the shapes of Genesys's web-messaging SDKs
// (MyPureCloud/web-messaging-sdk-java build/docs: ConfigureSessionRequest,
// SessionResponse, AllowedMedia, FileUploadMode, EventPresenceType;
// genesys-messenger-transport-mobile-sdk shyrka/send and shyrka/receive:
// OnMessageRequest, TextMessage, UserTypingRequest, EchoRequest,
// OnAttachmentRequest, JwtRequest, StructuredMessage, StructuredMessageEvent,
// PresignedUrlResponse, UploadSuccessEvent, JwtResponse,
// TooManyRequestsErrorMessage, SessionExpiredEvent, MessageEntityList;
// core/ErrorCode.kt). The WebSocket is a loopback server replaying these
// frames; the history REST call and the upload are jarcoal/httpmock.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/genesys"
)

const apiBase = "https://api.usw2.pure.cloud"

// guestServer plays Genesys's side of the guest WebSocket.
type guestServer struct {
	*httptest.Server
	reqs  chan map[string]any
	conns chan struct{}

	mu     sync.Mutex
	conn   *websocket.Conn
	answer func(req map[string]any) []string
}

func sessionResponse(extra string) string {
	return `{"type":"response","class":"SessionResponse","code":200,"body":{"connected":true,"newSession":true` + extra +
		`,"allowedMedia":{"inbound":{"fileTypes":[{"type":"image/png"},{"type":"application/pdf"}],"maxFileSizeKB":10240}},"blockedExtensions":[".exe",".bat"],"maxCustomDataBytes":2048,"durationSeconds":259200}}`
}

var (
	tokensMu sync.Mutex
	tokens   = map[string]bool{}
)

// defaultAnswer answers as Genesys does when all goes well: a token seen
// before resumes its session (newSession false).
func defaultAnswer(req map[string]any) []string {
	tr, _ := req["tracingId"].(string)
	switch req["action"] {
	case "configureSession":
		tok, _ := req["token"].(string)
		tokensMu.Lock()
		seen := tokens[tok]
		tokens[tok] = true
		tokensMu.Unlock()
		resp := strings.Replace(sessionResponse(""), `"code":200,`, `"code":200,"tracingId":"`+tr+`",`, 1)
		if seen {
			resp = strings.Replace(resp, `"newSession":true`, `"newSession":false`, 1)
		}
		return []string{resp}
	case "onMessage":
		m, _ := req["message"].(map[string]any)
		if m["type"] != "Text" {
			return nil
		}
		echo, _ := json.Marshal(map[string]any{"type": "message", "class": "StructuredMessage", "code": 200, "tracingId": tr,
			"body": map[string]any{"id": "in-" + tr, "type": "Text", "text": m["text"], "direction": "Inbound", "metadata": m["metadata"], "channel": map[string]any{"time": "2024-05-01T12:00:00.000Z"}}})
		return []string{string(echo)}
	case "getJwt":
		return []string{`{"type":"response","class":"JwtResponse","code":200,"tracingId":"` + tr + `","body":{"jwt":"eyJhbGciOiJIUzI1NiJ9.e30.sig","exp":1714567200}}`}
	case "closeSession":
		return []string{`{"type":"response","class":"SessionResponse","code":200,"tracingId":"` + tr + `","body":{"connected":false,"readOnly":true}}`}
	}
	return nil
}

func newGuestServer(t *testing.T) *guestServer {
	g := &guestServer{reqs: make(chan map[string]any, 64), conns: make(chan struct{}, 8), answer: defaultAnswer}
	up := websocket.Upgrader{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1" || r.URL.Query().Get("deploymentId") != "dep-1" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		g.mu.Lock()
		g.conn = c
		g.mu.Unlock()
		g.conns <- struct{}{}
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				c.Close()
				return
			}
			var req map[string]any
			if json.Unmarshal(b, &req) != nil {
				continue
			}
			if req["action"] == "echo" {
				continue
			}
			g.reqs <- req
			g.mu.Lock()
			answer := g.answer
			g.mu.Unlock()
			for _, f := range answer(req) {
				g.send(f)
			}
		}
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *guestServer) send(frame string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	_ = g.conn.WriteMessage(websocket.TextMessage, []byte(frame))
}

func (g *guestServer) drop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	_ = g.conn.NetConn().Close()
}

// next returns the next request of action (skipping others).
func (g *guestServer) next(t *testing.T, action string) map[string]any {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case r := <-g.reqs:
			if r["action"] == action {
				return r
			}
		case <-deadline:
			t.Fatalf("no %s request", action)
		}
	}
}

type fixture struct {
	g    *guestServer
	mock *httpmock.MockTransport
	rec  *sdtest.Recorder
	desk servicedesk.ServiceDesk
}

func newFixture(t *testing.T, state string) *fixture {
	t.Helper()
	f := &fixture{g: newGuestServer(t), mock: httpmock.NewMockTransport(), rec: &sdtest.Recorder{}}
	if state != "" {
		_ = f.rec.ReplacePersistedState(json.RawMessage(state))
	}
	kit, err := genesys.New(genesys.Config{
		Region: "us-west-2", DeploymentID: "dep-1",
		WebSocketURL:   "ws" + strings.TrimPrefix(f.g.URL, "http") + "/v1",
		HTTPClient:     &http.Client{Transport: f.mock},
		EchoInterval:   time.Second,
		SendInterval:   time.Millisecond,
		TypingInterval: time.Hour,
		RequestTimeout: 2 * time.Second,
		Backoff:        retry.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kit.Close() })
	// History: empty unless a test says otherwise.
	f.history(`{"entities":[],"pageSize":25,"pageNumber":1,"total":0,"pageCount":0}`)
	var raw json.RawMessage
	if state != "" {
		raw = json.RawMessage(state)
	}
	f.desk, err = kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: f.rec, Instance: sdtest.Instance("s-1"), PersistedState: raw})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) history(body string) {
	f.mock.RegisterResponder("GET", apiBase+"/api/v2/webmessaging/messages", func(req *http.Request) (*http.Response, error) {
		if req.Header.Get("Authorization") != "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig" {
			return httpmock.NewStringResponse(401, `{"message":"No authentication bearer token specified in authorization header.","code":"authentication.required","status":401}`), nil
		}
		return httpmock.NewStringResponse(200, body), nil
	})
}

// await waits until the recorder holds want after the calls seen so far.
func await(t *testing.T, r *sdtest.Recorder, from *int, want ...string) {
	t.Helper()
	for _, w := range want {
		deadline := time.Now().Add(5 * time.Second)
		for {
			calls := r.Wait(*from+1, time.Until(deadline))
			if len(calls) > *from {
				got := calls[*from]
				*from++
				if got == w {
					break
				}
				if strings.HasPrefix(got, "caps(") {
					continue
				}
				t.Fatalf("call %q, want %q (all: %s)", got, w, sdtest.Join(calls))
			}
			if time.Now().After(deadline) {
				t.Fatalf("no call %q (all: %s)", w, sdtest.Join(calls))
			}
		}
	}
}

func outbound(id, text, extra string) string {
	b, _ := json.Marshal(text)
	return `{"type":"message","class":"StructuredMessage","code":200,"body":{"id":"` + id + `","type":"Text","text":` + string(b) +
		`,"direction":"Outbound","channel":{"time":"2024-05-01T12:00:01.000Z","messageId":"` + id + `","from":{"nickname":"Ada","image":"https://example.com/ada.png"}},"originatingEntity":"Human"` + extra + `}}`
}

// body is a frame's body: a history entity.
func body(frame string) string {
	var env struct{ Body json.RawMessage }
	_ = json.Unmarshal([]byte(frame), &env)
	return string(env.Body)
}

func presence(id, typ string) string {
	return `{"type":"message","class":"StructuredMessage","code":200,"body":{"id":"` + id + `","type":"Event","direction":"Outbound","channel":{"time":"2024-05-01T12:00:01.000Z","from":{"nickname":"Ada","image":"https://example.com/ada.png"}},"events":[{"eventType":"Presence","presence":{"type":"` + typ + `"}}]}}`
}

func start(t *testing.T, f *fixture) {
	t.Helper()
	cm := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: "refund"})
	if err := f.desk.StartChat(context.Background(), cm, servicedesk.StartChatOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestSessionAndEvents(t *testing.T) {
	f := newFixture(t, "")
	start(t, f)
	cfg := f.g.next(t, "configureSession")
	tok, _ := cfg["token"].(string)
	require.Len(t, tok, 36, "configureSession %v: a UUID token", cfg)
	require.Equal(t, "dep-1", cfg["deploymentId"], "configureSession %v", cfg)
	require.Equal(t, false, cfg["startNew"], "configureSession %v", cfg)
	require.NotEmpty(t, cfg["tracingId"], "configureSession %v", cfg)
	join := f.g.next(t, "onMessage")
	b, _ := json.Marshal(join["message"])
	require.Equal(t, tok, join["token"], "autostart's token")
	require.JSONEq(t, `{"channel":{"metadata":{"customAttributes":{"summary":"refund"}}},"events":[{"eventType":"Presence","presence":{"type":"Join"}}],"type":"Event"}`, string(b), "autostart")
	require.Equal(t, tok, f.rec.State()["token"], "persisted token")
	var guest genesys.Guest
	require.True(t, servicedesk.As(f.desk, &guest), "As(*Guest)")
	require.Equal(t, genesys.Guest{DeploymentID: "dep-1", SessionToken: tok}, guest, "As(*Guest)")
	require.False(t, servicedesk.As(f.desk, new(string)), "As answered a type the kit does not document")
	n := 0
	await(t, f.rec, &n, "caps(true)")
	g := f.g
	g.send(`{"type":"message","class":"StructuredMessage","code":200,"body":{"id":"b-1","type":"Text","text":"Connecting you to an agent.","direction":"Outbound","originatingEntity":"Bot"}}`)
	await(t, f.rec, &n, "queue(-1,-1)")
	g.send(presence("p-1", "Join"))
	await(t, f.rec, &n, "joined(Ada)")
	g.send(`{"type":"message","class":"StructuredMessage","code":200,"body":{"id":"t-1","type":"Event","direction":"Outbound","events":[{"eventType":"Typing","typing":{"type":"On","duration":200}}]}}`)
	await(t, f.rec, &n, "typing(true)", "typing(false)")
	g.send(outbound("m-1", "Hi **there**", `,"content":[{"contentType":"Attachment","attachment":{"id":"a1","url":"https://example.com/r.png","filename":"r.png","mediaType":"Image","mime":"image/png"}},{"contentType":"QuickReply","quickReply":{"text":"Yes","payload":"y","action":"Message"}},{"contentType":"QuickReply","quickReply":{"text":"No","payload":"n","action":"Message"}}]`))
	await(t, f.rec, &n, "message(Hi **there**\n- Yes\n- No,Ada)")
	// Unknown classes and events, and broken frames, are ignored.
	g.send(`{"type":"message","class":"FancyNewEvent","code":200,"body":{}}`)
	g.send(`{"type":"message","class":"StructuredMessage","code":200,"body":{"id":"x-1","type":"Event","direction":"Outbound","events":[{"eventType":"CoBrowse","coBrowse":{"type":"Offering"}}]}}`)
	g.send(`nonsense`)
	g.send(outbound("m-2", "bye", ""))
	await(t, f.rec, &n, "message(bye,Ada)")
	g.send(presence("p-2", "Disconnect"))
	await(t, f.rec, &n, "ended")
}

func TestRefusedBeforeAnAgent(t *testing.T) {
	f := newFixture(t, "")
	start(t, f)
	n := 0
	f.g.next(t, "onMessage")
	f.g.send(`{"type":"message","class":"StructuredMessage","code":200,"body":{"id":"b-1","type":"Text","text":"We are closed.","direction":"Outbound","originatingEntity":"Bot"}}`)
	f.g.send(`{"type":"message","class":"StructuredMessage","code":200,"body":{"id":"d-1","type":"Event","direction":"Outbound","events":[{"eventType":"Presence","presence":{"type":"Disconnect"}}]}}`)
	await(t, f.rec, &n, "caps(true)", "queue(-1,-1)", "error(CONNECTING,false,We are closed.)")
}

// TestSendRateLimitAndErrors: a 4029 answer is honoured (retryAfter) and
// the same customMessageId sent again; 4011 is a refusal.
func TestSendRateLimitAndErrors(t *testing.T) {
	f := newFixture(t, "")
	var mu sync.Mutex
	var sent []string
	f.g.mu.Lock()
	f.g.answer = func(req map[string]any) []string {
		m, _ := req["message"].(map[string]any)
		if req["action"] != "onMessage" || m["type"] != "Text" {
			return defaultAnswer(req)
		}
		tr := req["tracingId"].(string)
		md, _ := json.Marshal(m["metadata"])
		mu.Lock()
		sent = append(sent, string(md))
		k := len(sent)
		mu.Unlock()
		switch {
		case k == 1:
			return []string{`{"type":"response","class":"TooManyRequestsErrorMessage","code":429,"tracingId":"` + tr + `","body":{"retryAfter":1,"errorCode":4029,"errorMessage":"Message rate too high for this session"}}`}
		case m["text"] == "too long":
			return []string{`{"type":"response","class":"string","code":4011,"tracingId":"` + tr + `","body":"Message exceeded max message length."}`}
		}
		return defaultAnswer(req)
	}
	f.g.mu.Unlock()
	start(t, f)
	ctx := context.Background()
	t0 := time.Now()
	if err := f.desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest("hello"), "msg-1", servicedesk.AdditionalDataToAgent{}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el < 900*time.Millisecond {
		t.Fatalf("resent after %v: retryAfter 1 s not honoured", el)
	}
	err := f.desk.SendMessageToAgent(ctx, servicedesk.NewTextRequest("too long"), "msg-2", servicedesk.AdditionalDataToAgent{})
	var ge *genesys.Error
	require.ErrorAs(t, err, &ge, "4011")
	require.Equal(t, 4011, ge.Code, "4011: %v", err)
	require.Equal(t, "Message exceeded max message length.", ge.Message, "4011")
	require.ErrorIs(t, err, servicedesk.ErrRejected, "4011")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, sent, 3, "sent %v: want msg-1 twice (same id after the 429), then msg-2", sent)
	assert.JSONEq(t, `{"customMessageId":"msg-1"}`, sent[0], "the first send's metadata")
	assert.JSONEq(t, sent[0], sent[1], "the resend after the 429 keeps the message id")
}

// TestGapFillAfterDrop: after a drop the session is configured again with
// the same token, a JWT fetched, and the history read newest first up to
// the last message seen; each message is shown once, in order.
func TestGapFillAfterDrop(t *testing.T) {
	f := newFixture(t, "")
	start(t, f)
	tok := f.g.next(t, "configureSession")["token"]
	n := 0
	f.g.send(presence("p-1", "Join"))
	f.g.send(outbound("m-1", "one", ""))
	f.g.send(outbound("m-2", "two", ""))
	f.g.send(outbound("m-2", "two", "")) // a duplicate frame
	await(t, f.rec, &n, "caps(true)", "joined(Ada)", "message(one,Ada)", "message(two,Ada)")
	f.history(`{"entities":[` + body(outbound("m-4", "four", "")) + `,` + body(outbound("m-3", "three", "")) + `,` + body(outbound("m-2", "two", "")) +
		`],"pageSize":25,"pageNumber":1,"total":5,"pageCount":1}`)
	f.g.drop()
	await(t, f.rec, &n, "error(DISCONNECTED,true,)")
	require.Equal(t, tok, f.g.next(t, "configureSession")["token"], "the resume's token")
	f.g.next(t, "getJwt")
	f.g.send(outbound("m-4", "four", ""))
	f.g.send(outbound("m-5", "five", ""))
	var msgs []string
	back := false
	for len(msgs) < 3 || !back {
		calls := f.rec.Wait(n+1, 5*time.Second)
		if len(calls) <= n {
			t.Fatalf("stuck: %s", sdtest.Join(calls))
		}
		c := calls[n]
		n++
		if c == "error(DISCONNECTED,false,)" {
			back = true
		} else {
			msgs = append(msgs, c)
		}
	}
	require.Equal(t, []string{"message(three,Ada)", "message(four,Ada)", "message(five,Ada)"}, msgs, "after the drop")
	time.Sleep(50 * time.Millisecond)
	if calls := f.rec.Calls(); len(calls) != n {
		t.Fatalf("extra calls: %s", sdtest.Join(calls[n:]))
	}
	require.Equal(t, "m-5", f.rec.State()["last_message_id"], "persisted state %v", f.rec.State())
}

// TestReconnect: the persisted token is sent again; a new or read-only
// session means the chat is gone.
func TestReconnect(t *testing.T) {
	for _, c := range []struct {
		name, extra string
		want        bool
	}{
		{"resumed", `,"newSession":false`, true},
		{"forgotten", ``, false},
		{"read only", `,"newSession":false,"readOnly":true`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, `{"token":"7b1e9b36-3c1a-4f7e-9d1c-3f0a5e2b8c11","joined":true,"last_message_id":"m-9"}`)
			f.g.mu.Lock()
			f.g.answer = func(req map[string]any) []string {
				if req["action"] == "configureSession" {
					return []string{strings.Replace(sessionResponse(""), `"newSession":true`, `"newSession":true`+c.extra, 1)}
				}
				return defaultAnswer(req)
			}
			f.g.mu.Unlock()
			ok, err := servicedesk.NewController(f.desk).Reconnect(context.Background())
			require.NoError(t, err, "Reconnect")
			require.Equal(t, c.want, ok, "Reconnect")
			require.Equal(t, "7b1e9b36-3c1a-4f7e-9d1c-3f0a5e2b8c11", f.g.next(t, "configureSession")["token"], "the persisted token resumed")
		})
	}
}

// TestAttachments: onAttachment → the pre-signed PUT with the headers
// Genesys asked for → UploadSuccessEvent → onMessage with the attachment;
// a refused file reports Genesys's reason.
func TestAttachments(t *testing.T) {
	f := newFixture(t, "")
	var mu sync.Mutex
	var puts []string
	f.mock.RegisterResponder("PUT", "https://uploads.example.com/a", func(req *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		puts = append(puts, fmt.Sprintf("%s %s %s", req.Header.Get("Content-Type"), req.Header.Get("x-amz-tagging"), b))
		mu.Unlock()
		return httpmock.NewStringResponse(200, ""), nil
	})
	var onMsg []string
	f.g.mu.Lock()
	f.g.answer = func(req map[string]any) []string {
		tr, _ := req["tracingId"].(string)
		switch req["action"] {
		case "onAttachment":
			if req["fileName"] == "tool.exe" {
				return []string{`{"type":"response","class":"string","code":4001,"tracingId":"` + tr + `","body":"File type not allowed"}`}
			}
			if req["fileType"] != "application/pdf" || req["fileSize"] != 3.0 || req["errorsAsJson"] != true {
				return []string{`{"type":"response","class":"string","code":4020,"tracingId":"` + tr + `","body":"bad onAttachment"}`}
			}
			id := req["attachmentId"].(string)
			go func() {
				time.Sleep(20 * time.Millisecond)
				f.g.send(`{"type":"message","class":"UploadSuccessEvent","code":200,"body":{"attachmentId":"` + id + `","downloadUrl":"https://example.com/d","timestamp":"2024-05-01T12:00:00.000Z"}}`)
			}()
			return []string{`{"type":"response","class":"PresignedUrlResponse","code":200,"tracingId":"` + tr + `","body":{"attachmentId":"` + id + `","headers":{"x-amz-tagging":"abc","Content-Type":"application/pdf"},"url":"https://uploads.example.com/a","fileName":"a.pdf","fileSize":3,"fileType":"application/pdf"}}`}
		case "onMessage":
			b, _ := json.Marshal(req["message"])
			mu.Lock()
			onMsg = append(onMsg, string(b))
			mu.Unlock()
		}
		return defaultAnswer(req)
	}
	f.g.mu.Unlock()
	start(t, f)
	open := func(s string) func(context.Context) (io.ReadCloser, error) {
		return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
	}
	files := []servicedesk.FileUpload{
		{ID: "f-1", File: servicedesk.File{Name: "a.pdf", Type: "application/pdf", Size: 3, Open: open("pdf")}},
		{ID: "f-2", File: servicedesk.File{Name: "tool.exe", Type: "application/x-msdownload", Size: 2, Open: open("MZ")}},
	}
	if err := f.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("see attached"), "msg-7", servicedesk.AdditionalDataToAgent{FilesToUpload: files}); err != nil {
		t.Fatal(err)
	}
	calls := sdtest.Join(f.rec.Calls())
	assert.Contains(t, calls, "file(f-2,true,File type not allowed)")
	assert.Contains(t, calls, "file(f-1,false,)")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"application/pdf abc pdf"}, puts, "the pre-signed PUTs")
	last := onMsg[len(onMsg)-1]
	if !strings.Contains(last, `"content":[{"attachment":{"id":"`) || !strings.Contains(last, `"metadata":{"customMessageId":"msg-7"}`) || !strings.Contains(last, `"text":"see attached"`) {
		t.Fatalf("onMessage %s", last)
	}
	// Blocked extensions are flagged when files are selected.
	if err := servicedesk.NewController(f.desk).FilesSelectedForUpload(context.Background(), files[1:]); err != nil {
		t.Fatal(err)
	}
	if got := f.rec.Calls(); got[len(got)-1] != "file(f-2,true,Files of this type can't be sent.)" {
		t.Fatalf("selection: %v", got[len(got)-1])
	}
}

func TestSessionExpired(t *testing.T) {
	f := newFixture(t, "")
	start(t, f)
	n := 0
	f.g.send(presence("p-1", "Join"))
	await(t, f.rec, &n, "caps(true)", "joined(Ada)")
	f.g.send(`{"type":"message","class":"SessionExpiredEvent","code":200,"body":{}}`)
	await(t, f.rec, &n, "ended")
}

// TestBadPersistedState: a persisted state that does not decode fails the
// factory rather than starting a desk that forgot its chat.
func TestBadPersistedState(t *testing.T) {
	kit, err := genesys.New(genesys.Config{DeploymentID: "dep-1", Domain: "mypurecloud.com"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kit.Close() })
	_, err = kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: &sdtest.Recorder{}, PersistedState: json.RawMessage(`{"token":42}`)})
	require.ErrorContains(t, err, "genesys: persisted state")
}

// TestStartRefusedLateIsSentAgain: Genesys answers an event only when it
// refuses it. The autostart's 429 coming back late (a loaded desk or
// network, 200 ms) is still seen: the Presence Join is sent again, so the
// hand-off is not lost.
func TestStartRefusedLateIsSentAgain(t *testing.T) {
	f := newFixture(t, "")
	var mu sync.Mutex
	joins := 0
	f.g.mu.Lock()
	f.g.answer = func(req map[string]any) []string {
		m, _ := req["message"].(map[string]any)
		if req["action"] != "onMessage" || m["type"] != "Event" {
			return defaultAnswer(req)
		}
		mu.Lock()
		joins++
		first := joins == 1
		mu.Unlock()
		if first {
			tr := req["tracingId"].(string)
			time.AfterFunc(200*time.Millisecond, func() {
				f.g.send(`{"type":"response","class":"TooManyRequestsErrorMessage","code":429,"tracingId":"` + tr + `","body":{"retryAfter":1,"errorCode":4029,"errorMessage":"Message rate too high for this session"}}`)
			})
		}
		return nil
	}
	f.g.mu.Unlock()
	start(t, f)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 2, joins, "the Presence Join after its late 429")
}
