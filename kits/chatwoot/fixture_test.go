package chatwoot_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/chatwoot"
)

// fixture is a loopback Chatwoot answering the documented JSON, with a
// RoomChannel the test pushes documented frames into.
type fixture struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	calls []string // "METHOD path"
	at    map[string][]time.Time
	body  map[string][]byte // last body per path
	ctype map[string]string // its Content-Type
	fail  map[string][]int  // statuses to answer first, per "METHOD path"
	reply map[string]string // an answer in place of the route's, per "METHOD path"
	push  chan string       // frames for the subscribed cable
}

const (
	fxInbox  = "inb0x"
	fxSource = "5d7a1f2e-0c4b-4f5e-9a1b-2c3d4e5f6a7b"
	fxToken  = "pubsub-tok-1"
)

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, at: map[string][]time.Time{}, body: map[string][]byte{}, ctype: map[string]string{}, fail: map[string][]int{}, reply: map[string]string{}, push: make(chan string, 16)}
	mux := http.NewServeMux()
	base := "/public/api/v1/inboxes/" + fxInbox + "/contacts"
	conv := base + "/" + fxSource + "/conversations/7"
	f.route(mux, "POST "+base, `{"id":5,"source_id":"`+fxSource+`","pubsub_token":"`+fxToken+`","name":"Ada Lovelace","email":"ada@example.com"}`)
	f.route(mux, "POST "+base+"/"+fxSource+"/conversations", `{"id":7,"uuid":"8b7e","inbox_id":2,"contact_last_seen_at":0,"status":"open","agent_last_seen_at":0,"messages":[],"contact":{"id":5}}`)
	f.route(mux, "POST "+conv+"/messages", `{"id":120,"content":"hi","message_type":0,"content_type":"text","content_attributes":{},"created_at":1700000000,"conversation_id":7}`)
	f.route(mux, "POST "+conv+"/toggle_status", `{"id":7,"status":"resolved"}`)
	f.route(mux, "GET "+conv, `{"id":7,"status":"open"}`)
	f.route(mux, "GET "+conv+"/messages", `[]`)
	mux.HandleFunc("GET /cable", f.cable)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) route(mux *http.ServeMux, pattern, answer string) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		key := r.Method + " " + r.URL.Path
		f.calls = append(f.calls, key)
		f.at[key] = append(f.at[key], time.Now())
		f.body[key] = b
		f.ctype[key] = r.Header.Get("Content-Type")
		var status int
		if q := f.fail[key]; len(q) > 0 {
			status, f.fail[key] = q[0], q[1:]
		}
		body := cmp.Or(f.reply[key], answer)
		f.mu.Unlock()
		switch status {
		case 0:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "Retry later", status) // Rack::Attack's throttled answer
		case http.StatusUnprocessableEntity: // render_record_invalid
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"message":"Attachments is invalid","attributes":["attachments"]}`)
		default:
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":"boom"}`)
		}
	})
}

func (f *fixture) cable(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{Subprotocols: []string{"actioncable-v1-json"}}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"welcome"}`))
	var cmd struct{ Command, Identifier string }
	if conn.ReadJSON(&cmd) != nil || cmd.Command != "subscribe" {
		return
	}
	var id map[string]string
	_ = json.Unmarshal([]byte(cmd.Identifier), &id)
	if id["channel"] != "RoomChannel" || id["pubsub_token"] != fxToken {
		_ = conn.WriteJSON(map[string]string{"type": "reject_subscription", "identifier": cmd.Identifier})
		return
	}
	_ = conn.WriteJSON(map[string]string{"type": "confirm_subscription", "identifier": cmd.Identifier})
	go func() { // the client says nothing more; its close ends the read
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	ping := time.NewTicker(time.Second)
	defer ping.Stop()
	for {
		select {
		case fr := <-f.push:
			b, _ := json.Marshal(map[string]any{"identifier": cmd.Identifier, "message": json.RawMessage(fr)})
			if conn.WriteMessage(websocket.TextMessage, b) != nil {
				return
			}
		case <-ping.C:
			if conn.WriteJSON(map[string]any{"type": "ping", "message": time.Now().Unix()}) != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

func (f *fixture) kit(tweak func(*chatwoot.Config)) *chatwoot.Kit {
	cfg := chatwoot.Config{URL: f.srv.URL, InboxIdentifier: fxInbox, MinInterval: time.Millisecond,
		Backoff: retry.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}, HTTPClient: f.srv.Client()}
	if tweak != nil {
		tweak(&cfg)
	}
	k, err := chatwoot.New(cfg)
	require.NoError(f.t, err)
	f.t.Cleanup(func() { _ = k.Close() })
	return k
}

func (f *fixture) start(k *chatwoot.Kit, h servicedesk.Handoff) (servicedesk.ServiceDesk, *sdtest.Recorder, error) {
	rec := &sdtest.Recorder{}
	sd, err := k.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("s1")})
	require.NoError(f.t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return sd, rec, sd.StartChat(ctx, servicedesk.NewResponse(servicedesk.TextItem("to a person")), servicedesk.StartChatOptions{Handoff: h})
}

// TestFixtureStart: the contact carries the verified identity and its
// HMAC, the conversation the hand-off's attributes (cut with the marker);
// a 429 pauses the kit for its Retry-After, a 503 is retried.
func TestFixtureStart(t *testing.T) {
	f := newFixture(t)
	contacts := "POST /public/api/v1/inboxes/" + fxInbox + "/contacts"
	convs := contacts + "/" + fxSource + "/conversations"
	f.fail[contacts] = []int{http.StatusTooManyRequests}
	f.fail[convs] = []int{http.StatusServiceUnavailable}
	k := f.kit(func(c *chatwoot.Config) { c.HMACToken = "inbox-secret"; c.MaxAttributeBytes = 40 })
	_, _, err := f.start(k, servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "cust-42", Name: "Ada Lovelace", Email: "ada@example.com"},
		Unverified: map[string]string{"plan": "gold"},
		Attributes: map[string]string{"queue": "billing", "long": strings.Repeat("x", 100)},
		Summary:    "card declined",
	})
	require.NoError(t, err)
	f.mu.Lock()
	defer f.mu.Unlock()
	var contact map[string]string
	require.NoError(t, json.Unmarshal(f.body[contacts], &contact))
	mac := hmac.New(sha256.New, []byte("inbox-secret"))
	mac.Write([]byte("cust-42"))
	assert.Equal(t, map[string]string{"identifier": "cust-42", "identifier_hash": hex.EncodeToString(mac.Sum(nil)), "name": "Ada Lovelace", "email": "ada@example.com"}, contact)
	var conv struct {
		CustomAttributes map[string]string `json:"custom_attributes"`
	}
	require.NoError(t, json.Unmarshal(f.body[convs], &conv))
	attrs := conv.CustomAttributes
	assert.Equal(t, "billing", attrs["queue"])
	assert.Equal(t, "gold", attrs["unverified_plan"])
	assert.Equal(t, "card declined", attrs["bot_summary"])
	assert.LessOrEqual(t, len(attrs["long"]), 40)
	assert.True(t, strings.HasSuffix(attrs["long"], servicedesk.TruncatedMarker), "cut with the marker: %q", attrs["long"])
	tries := f.at[contacts]
	require.Len(t, tries, 2, "the 429 was retried once")
	assert.GreaterOrEqual(t, tries[1].Sub(tries[0]), 900*time.Millisecond, "Retry-After honoured")
	assert.Len(t, f.at[convs], 2, "the 503 was retried")
}

// TestFixtureRefusals: an inbox Chatwoot does not know (404) and a
// refused identity (401) fail the start without retries; a rejected
// subscription is the chat's end.
func TestFixtureRefusals(t *testing.T) {
	f := newFixture(t)
	contacts := "POST /public/api/v1/inboxes/" + fxInbox + "/contacts"
	f.fail[contacts] = []int{http.StatusNotFound, http.StatusUnauthorized}
	k := f.kit(nil)
	_, _, err := f.start(k, servicedesk.Handoff{})
	assert.True(t, errors.Is(err, servicedesk.ErrChatNotFound), "404: %v", err)
	_, _, err = f.start(k, servicedesk.Handoff{})
	assert.True(t, errors.Is(err, servicedesk.ErrRejected), "401: %v", err)
	f.mu.Lock()
	assert.Len(t, f.at[contacts], 2, "no retries of a refusal")
	f.mu.Unlock()
}

// TestFixtureEvents: the documented RoomChannel events become the chat:
// the assignment joins Ada, her message (twice on the wire) shows once,
// the echo of the user's own message does not, typing shows, the
// resolution ends the chat.
func TestFixtureEvents(t *testing.T) {
	f := newFixture(t)
	k := f.kit(nil)
	sd, rec, err := f.start(k, servicedesk.Handoff{})
	require.NoError(t, err)
	require.NoError(t, sd.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("hi"), "m-1", servicedesk.AdditionalDataToAgent{}))
	f.mu.Lock()
	var sent map[string]string
	require.NoError(t, json.Unmarshal(f.body["POST /public/api/v1/inboxes/"+fxInbox+"/contacts/"+fxSource+"/conversations/7/messages"], &sent))
	f.mu.Unlock()
	assert.Equal(t, map[string]string{"content": "hi", "echo_id": "m-1"}, sent)
	msg := `{"event":"message.created","data":{"id":121,"content":"Hello, I'm Ada","message_type":1,"content_type":"text","content_attributes":{},"created_at":1700000001,"conversation_id":7,"private":false,"sender":{"id":3,"name":"Ada","available_name":"Ada","avatar_url":"https://x/ada.png","type":"user"}}}`
	for _, fr := range []string{
		`{"event":"message.created","data":{"id":120,"content":"hi","message_type":0,"echo_id":"m-1","conversation_id":7,"sender":{"id":5,"type":"contact"}}}`,
		`{"event":"conversation.updated","data":{"id":7,"status":"open","meta":{"assignee":{"id":3,"name":"Ada","available_name":"Ada","avatar_url":"https://x/ada.png","type":"user"}}}}`,
		`{"event":"conversation.typing_on","data":{"conversation":{"id":7},"user":{"id":3,"name":"Ada","type":"user"},"is_private":false}}`,
		msg, msg,
		`{"event":"conversation.status_changed","data":{"id":7,"status":"resolved","meta":{"assignee":{"id":3,"type":"user"}}}}`,
	} {
		f.push <- fr
	}
	calls := rec.Wait(5, 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(sdtest.Join(calls), "ended") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		calls = rec.Calls()
	}
	var kept []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "state(") {
			kept = append(kept, c)
		}
	}
	assert.Equal(t, "caps(true) | joined(Ada) | typing(true) | typing(false) | message(Hello, I'm Ada,3) | ended", sdtest.Join(kept))
}

// TestFixturePacing: every request of the kit, whichever chat makes it,
// waits its turn (one IP for every customer): two chats started together
// never come closer than MinInterval.
func TestFixturePacing(t *testing.T) {
	f := newFixture(t)
	k := f.kit(func(c *chatwoot.Config) { c.MinInterval = 150 * time.Millisecond })
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := f.start(k, servicedesk.Handoff{})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []time.Time
	for _, ts := range f.at {
		all = append(all, ts...)
	}
	require.Len(t, all, 4, "two contacts, two conversations")
	// The pacer spaces the sends by 150 ms: the four span at least three
	// intervals, less what the first one's trip took (bounded loosely, for a
	// busy machine); unpaced they would come within a few milliseconds.
	first, last := all[0], all[0]
	for _, ts := range all {
		if ts.Before(first) {
			first = ts
		}
		if ts.After(last) {
			last = ts
		}
	}
	assert.GreaterOrEqual(t, last.Sub(first), 250*time.Millisecond, "requests not paced: %v", all)
}

// fileUpload is a file the engine hands the kit, its content opened anew
// for each read.
func fileUpload(id, name, typ string, content []byte) servicedesk.FileUpload {
	return servicedesk.FileUpload{ID: id, File: servicedesk.File{Name: name, Type: typ, Size: int64(len(content)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }}}
}

// TestFixtureFiles: a message with files is one multipart POST of the
// messages endpoint (content, echo_id, an attachments[] part per file with
// its name, type and bytes) and each file is reported sent; a file past
// MaxFileBytes is refused before anything is read or sent, with the
// limit in its reason; Chatwoot's 422 is the files' reason, not retried.
func TestFixtureFiles(t *testing.T) {
	f := newFixture(t)
	messages := "POST /public/api/v1/inboxes/" + fxInbox + "/contacts/" + fxSource + "/conversations/7/messages"
	k := f.kit(func(c *chatwoot.Config) { c.MaxFileBytes = 1 << 20 })
	sd, rec, err := f.start(k, servicedesk.Handoff{})
	require.NoError(t, err)
	png := []byte("\x89PNG\r\n\x1a\n-pixels")
	big := fileUpload("f-big", "video.mp4", "video/mp4", nil)
	big.File.Size, big.File.Open = 2<<20, nil // never read
	files := []servicedesk.FileUpload{fileUpload("f-1", "receipt.png", "image/png", png), fileUpload("f-2", "notes.txt", "text/plain", []byte("card declined")), big}
	require.NoError(t, sd.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("see attached"), "m-1", servicedesk.AdditionalDataToAgent{FilesToUpload: files}))
	f.mu.Lock()
	body, ctype := f.body[messages], f.ctype[messages]
	f.mu.Unlock()
	_, params, err := mime.ParseMediaType(ctype)
	require.NoError(t, err, ctype)
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, _ := io.ReadAll(p)
		parts = append(parts, fmt.Sprintf("%s|%s|%s|%s", p.FormName(), p.FileName(), p.Header.Get("Content-Type"), b))
	}
	assert.Equal(t, []string{"content|||see attached", "echo_id|||m-1", "attachments[]|receipt.png|image/png|" + string(png),
		"attachments[]|notes.txt|text/plain|card declined"}, parts)
	assert.Contains(t, rec.Calls(), "file(f-big,true,The file is larger than the 1 MB Chatwoot takes.)")
	assert.Contains(t, rec.Calls(), "file(f-1,false,)")
	assert.Contains(t, rec.Calls(), "file(f-2,false,)")

	f.mu.Lock()
	f.fail[messages] = []int{http.StatusUnprocessableEntity}
	f.mu.Unlock()
	err = sd.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("and this"), "m-2", servicedesk.AdditionalDataToAgent{FilesToUpload: []servicedesk.FileUpload{fileUpload("f-3", "tool.exe", "application/x-msdownload", []byte("MZ"))}})
	assert.ErrorIs(t, err, servicedesk.ErrRejected)
	assert.Contains(t, rec.Calls(), "file(f-3,true,Attachments is invalid)")
	f.mu.Lock()
	assert.Len(t, f.at[messages], 2, "a refusal is not retried")
	f.mu.Unlock()
	err = sd.SendMessageToAgent(context.Background(), servicedesk.MessageRequest{}, "m-3", servicedesk.AdditionalDataToAgent{FilesToUpload: []servicedesk.FileUpload{big}})
	assert.ErrorIs(t, err, servicedesk.ErrRejected, "a message of files all too large fails")
}

// TestFixtureLostAnswer: a message POST whose answer is lost (a 502) is
// looked up in the messages list before it is sent again, since the list
// shows no echo_id and the echo may come late: the contact's message with
// its text, after the last delivered, and no other POST's, is it; one the
// kit posted itself before (its answer's id) is not.
func TestFixtureLostAnswer(t *testing.T) {
	f := newFixture(t)
	conv := "/public/api/v1/inboxes/" + fxInbox + "/contacts/" + fxSource + "/conversations/7/messages"
	k := f.kit(nil)
	sd, _, err := f.start(k, servicedesk.Handoff{})
	require.NoError(t, err)
	send := func(id string) error {
		return sd.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("hi"), id, servicedesk.AdditionalDataToAgent{})
	}
	posts := func() int {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.at["POST "+conv])
	}
	require.NoError(t, send("m-1"), "answered: id 120 is the kit's") // the route answers id 120
	f.mu.Lock()
	f.fail["POST "+conv] = []int{http.StatusBadGateway}
	f.reply["GET "+conv] = `[{"id":120,"content":"hi","message_type":0,"conversation_id":7}]`
	f.mu.Unlock()
	require.NoError(t, send("m-2"))
	assert.Equal(t, 3, posts(), "the only \"hi\" listed was m-1's: m-2 sent again")
	f.mu.Lock()
	f.fail["POST "+conv] = []int{http.StatusBadGateway}
	f.reply["GET "+conv] = `[{"id":120,"content":"hi","message_type":0,"conversation_id":7},{"id":131,"content":"hi","message_type":0,"conversation_id":7}]`
	f.mu.Unlock()
	require.NoError(t, send("m-3"))
	assert.Equal(t, 4, posts(), "m-3 found stored (131) after its lost answer: not sent again")
}
