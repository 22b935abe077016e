package twilio_test

// Fixture tests: the requests the kit sends and the answers and webhooks
// it reads, pinned against Twilio's documented shapes: the Conversations
// v1 and Flex v1 OpenAPI specs (twilio/twilio-oai spec/json
// twilio_conversations_v1.json, twilio_flex_v1.json: the create, list
// and update examples), the Conversations webhooks' form parameters
// (EventType, ConversationSid, MessageSid, Index, Author, Body, Media,
// ParticipantSid, Identity, LastReadMessageIndex, StateTo, RetryCount,
// Source), TaskRouter's event callbacks (EventType task.canceled,
// TaskAttributes, TaskCanceledReason) and the Media Content Service's
// media resource (links.content_direct_temporary). REST is
// jarcoal/httpmock; webhooks reach the kit's handler on a loopback server,
// signed as Twilio signs them.

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/twilio"
)

const (
	convBase  = "https://conversations.twilio.com/v1"
	flexBase  = "https://flex-api.twilio.com/v1"
	mediaBase = "https://mcs.us1.twilio.com/v1"
	authToken = "12345678901234567890123456789012"
	convSID   = "CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	custSID   = "MBcccccccccccccccccccccccccccccccc"
	agentSID  = "MBaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
	service   = "ISaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// The documented answers (twilio-oai examples), with one conversation's
// sids.
const (
	conversationJSON = `{"sid":"` + convSID + `","account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","chat_service_sid":"` + service + `",
"messaging_service_sid":"MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","friendly_name":"friendly_name","unique_name":"unique_name","attributes":"{ \"topic\": \"feedback\" }",
"date_created":"2015-12-16T22:18:37Z","date_updated":"2015-12-16T22:18:38Z","state":"active","timers":{},"bindings":{},
"url":"https://conversations.twilio.com/v1/Conversations/` + convSID + `","links":{}}`
	webhookJSON     = `{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","conversation_sid":"` + convSID + `","sid":"WHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","target":"webhook","configuration":{"url":"https://example.com","method":"get","filters":["onMessageSent","onConversationDestroyed"]},"date_created":"2016-03-24T21:05:50Z","date_updated":"2016-03-24T21:05:50Z","url":"https://conversations.twilio.com/v1/Conversations/` + convSID + `/Webhooks/WHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`
	interactionJSON = `{"sid":"KDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","channel":{"type":"web","sid":"UOaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
"routing":{"reservation":null,"properties":{"workspace_sid":"WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","task_channel_unique_name":"chat","assignment_status":"pending","sid":"WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
"interaction_context_sid":null,"webhook_ttid":"flex_interactionwebhook_00000000000000000000000000","url":"https://flex-api.twilio.com/v1/Interactions/KDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","links":{}}`
)

func participantJSON(sid, identity string, read string) string {
	return `{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","conversation_sid":"` + convSID + `","sid":"` + sid + `","identity":"` + identity + `",
"attributes":"{}","messaging_binding":null,"role_sid":"RLaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","date_created":"2016-03-24T21:05:50Z","date_updated":"2016-03-24T21:05:50Z",
"url":"https://conversations.twilio.com/v1/Conversations/` + convSID + `/Participants/` + sid + `","last_read_message_index":` + read + `,"last_read_timestamp":null}`
}

func messageJSON(sid string, index int, author, body, attrs string) string {
	b, _ := json.Marshal(map[string]any{"sid": sid, "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "conversation_sid": convSID,
		"body": body, "media": nil, "author": author, "participant_sid": agentSID, "attributes": attrs,
		"date_created": "2016-03-24T20:37:57Z", "date_updated": "2016-03-24T20:37:57Z", "index": index,
		"delivery":    map[string]any{"total": 2, "sent": "all", "delivered": "some", "read": "some", "failed": "none", "undelivered": "none"},
		"content_sid": nil, "url": convBase + "/Conversations/" + convSID + "/Messages/" + sid, "links": map[string]any{}})
	return string(b)
}

func twilioError(status, code int, msg string) string {
	return fmt.Sprintf(`{"code":%d,"message":%q,"more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, code, msg, code, status)
}

// world is one kit on httpmock, its webhook handler on loopback.
type world struct {
	t    *testing.T
	mt   *httpmock.MockTransport
	kit  *twilio.Kit
	srv  *httptest.Server
	hook string
	rec  *sdtest.Recorder
	desk servicedesk.ServiceDesk

	mu       sync.Mutex
	messages []string // the conversation's messages, JSON, in index order
	posted   []url.Values
}

func newWorld(t *testing.T, mutate func(*twilio.Config)) *world {
	t.Helper()
	w := &world{t: t, mt: httpmock.NewMockTransport(), rec: &sdtest.Recorder{}}
	var h http.Handler = http.NotFoundHandler()
	var hmu sync.Mutex
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hmu.Lock()
		hh := h
		hmu.Unlock()
		hh.ServeHTTP(rw, r)
	}))
	t.Cleanup(w.srv.Close)
	w.hook = w.srv.URL + "/twilio/webhook"
	cfg := twilio.Config{AccountSID: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", AuthToken: authToken, WorkspaceSID: "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		WorkflowSID: "WWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", WebhookURL: w.hook, HTTPClient: &http.Client{Transport: w.mt},
		Backoff: retry.Backoff{Min: time.Millisecond, Max: 20 * time.Millisecond}, ReconcileInterval: -1,
		Identity: func(servicedesk.Instance) string { return "deskbridge-cust" }}
	if mutate != nil {
		mutate(&cfg)
	}
	kit, err := twilio.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = kit.Close() })
	hmu.Lock()
	h = kit.WebhookHandler()
	hmu.Unlock()
	w.kit = kit
	w.standard()
	d, err := kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: w.rec, Instance: sdtest.Instance("s1")})
	require.NoError(t, err)
	w.desk = d
	return w
}

// standard registers Twilio's answers to a hand-off that goes well.
func (w *world) standard() {
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations", httpmock.NewStringResponder(201, conversationJSON))
	w.mt.RegisterResponder(http.MethodGet, convBase+"/Conversations/"+convSID, httpmock.NewStringResponder(200, conversationJSON))
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID, httpmock.NewStringResponder(200, conversationJSON))
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID+"/Participants",
		httpmock.NewStringResponder(201, participantJSON(custSID, "deskbridge-cust", "null")))
	w.mt.RegisterResponder(http.MethodGet, convBase+"/Conversations/"+convSID+"/Participants",
		func(*http.Request) (*http.Response, error) {
			return httpmock.NewStringResponse(200, `{"participants":[`+participantJSON(custSID, "deskbridge-cust", "null")+`,`+participantJSON(agentSID, "ada@example.com", "null")+
				`],"meta":{"page":0,"page_size":100,"first_page_url":"","previous_page_url":null,"url":"","next_page_url":null,"key":"participants"}}`), nil
		})
	w.mt.RegisterResponder(http.MethodGet, convBase+"/Conversations/"+convSID+"/Webhooks",
		httpmock.NewStringResponder(200, `{"webhooks":[],"meta":{"page":0,"page_size":50,"next_page_url":null,"key":"webhooks"}}`))
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID+"/Webhooks", httpmock.NewStringResponder(201, webhookJSON))
	w.mt.RegisterResponder(http.MethodPost, flexBase+"/Interactions", httpmock.NewStringResponder(200, interactionJSON))
	w.mt.RegisterResponder(http.MethodPost, flexBase+"/Interactions/KDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Channels/UOaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		httpmock.NewStringResponder(200, `{"sid":"UOaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","interaction_sid":"KDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","type":"web","status":"closed","error_code":null,"error_message":null}`))
	w.mt.RegisterResponder(http.MethodGet, `=~^`+convBase+`/Users/`,
		func(r *http.Request) (*http.Response, error) {
			id := strings.TrimPrefix(r.URL.Path, "/v1/Users/")
			return httpmock.NewStringResponse(200, `{"sid":"USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","identity":"`+id+`","friendly_name":"Ada Lovelace","attributes":"{}"}`), nil
		})
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID+"/Messages", w.postMessage)
	w.mt.RegisterResponder(http.MethodGet, convBase+"/Conversations/"+convSID+"/Messages", func(r *http.Request) (*http.Response, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		var items []string
		for i := len(w.messages) - 1; i >= 0; i-- { // Order=desc
			items = append(items, w.messages[i])
		}
		return httpmock.NewStringResponse(200, `{"meta":{"page":0,"page_size":50,"next_page_url":null,"key":"messages"},"messages":[`+strings.Join(items, ",")+`]}`), nil
	})
}

// postMessage is Twilio creating a message.
func (w *world) postMessage(r *http.Request) (*http.Response, error) {
	_ = r.ParseForm()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.posted = append(w.posted, r.PostForm)
	idx := len(w.messages)
	m := messageJSON(fmt.Sprintf("IM%032d", idx), idx, r.PostForm.Get("Author"), r.PostForm.Get("Body"), r.PostForm.Get("Attributes"))
	w.messages = append(w.messages, m)
	return httpmock.NewStringResponse(201, m), nil
}

// agentMessage adds an agent's message to the conversation (as Flex
// would) and returns its webhook form.
func (w *world) agentMessage(body string) url.Values {
	w.mu.Lock()
	defer w.mu.Unlock()
	idx := len(w.messages)
	sid := fmt.Sprintf("IM%032d", idx)
	w.messages = append(w.messages, messageJSON(sid, idx, "ada@example.com", body, "{}"))
	return url.Values{"EventType": {"onMessageAdded"}, "AccountSid": {"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "ConversationSid": {convSID},
		"MessageSid": {sid}, "Index": {strconv.Itoa(idx)}, "Author": {"ada@example.com"}, "Body": {body}, "Attributes": {"{}"},
		"ParticipantSid": {agentSID}, "DateCreated": {"2022-05-18T13:42:17.312Z"}, "Source": {"SDK"}, "RetryCount": {"0"}}
}

// sign is Twilio's algorithm as its security guide gives it: the URL,
// then each parameter name and value, names sorted, HMAC-SHA1 with the
// auth token, base64.
func sign(token, u string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(u)
	for _, k := range keys {
		for _, v := range form[k] {
			b.WriteString(k + v)
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// send posts a webhook, signed with token, and returns the status.
func (w *world) send(form url.Values, token string) int {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.hook, strings.NewReader(form.Encode()))
	require.NoError(w.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sign(token, w.hook, form))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (w *world) start(h servicedesk.Handoff) {
	w.t.Helper()
	require.NoError(w.t, w.desk.StartChat(context.Background(), servicedesk.TextResponse("connecting"), servicedesk.StartChatOptions{Handoff: h}))
}

func (w *world) joined() {
	w.t.Helper()
	require.Equal(w.t, 200, w.send(url.Values{"EventType": {"onParticipantAdded"}, "ConversationSid": {convSID}, "ParticipantSid": {agentSID},
		"Identity": {"ada@example.com"}, "Attributes": {"{}"}, "DateCreated": {"2022-05-18T13:42:17.312Z"}, "Source": {"SDK"}, "RetryCount": {"0"}}, authToken))
	w.waitFor("joined(Ada Lovelace)")
}

// waitFor waits until the recorder saw call.
func (w *world) waitFor(call string) []string {
	w.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls := w.rec.Calls()
		for _, c := range calls {
			if c == call {
				return calls
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("no %s in %s", call, sdtest.Join(calls))
		}
		w.rec.Wait(len(calls)+1, 100*time.Millisecond)
	}
}

func TestStartChatHandsTheConversationToFlex(t *testing.T) {
	var conv, part, hook, inter url.Values
	w := newWorld(t, nil)
	capture := func(dst *url.Values, status int, body string) httpmock.Responder {
		return func(r *http.Request) (*http.Response, error) {
			require.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
			user, pass, ok := r.BasicAuth()
			require.True(t, ok && user == "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" && pass == authToken, "basic auth with the account sid and auth token")
			_ = r.ParseForm()
			*dst = r.PostForm
			return httpmock.NewStringResponse(status, body), nil
		}
	}
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations", capture(&conv, 201, conversationJSON))
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID+"/Participants", capture(&part, 201, participantJSON(custSID, "deskbridge-cust", "null")))
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID+"/Webhooks", capture(&hook, 201, webhookJSON))
	w.mt.RegisterResponder(http.MethodPost, flexBase+"/Interactions", capture(&inter, 200, interactionJSON))

	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w.start(servicedesk.Handoff{
		Customer:   &servicedesk.Customer{ID: "cust-42", Name: "Grace Hopper", Email: "grace@example.com", Claims: map[string]string{"tier": "gold"}},
		Unverified: map[string]string{"order": "A-17"},
		Attributes: map[string]string{"queue": "billing", "long": strings.Repeat("x", 5000)},
		Summary:    "Card declined twice.",
		Transcript: []servicedesk.Turn{{From: "user", Text: "my card fails", At: at}, {From: "bot", Text: "Let me get you a person."}},
	})

	assert.Equal(t, "Chat with Grace Hopper", conv.Get("FriendlyName"))
	assert.True(t, strings.HasPrefix(conv.Get("UniqueName"), "deskbridge-"), "unique name %q", conv.Get("UniqueName"))
	assert.JSONEq(t, `{"deskbridge":true,"summary":"Card declined twice."}`, conv.Get("Attributes"))
	assert.Equal(t, "deskbridge-cust", part.Get("Identity"))
	assert.JSONEq(t, `{"name":"Grace Hopper","verified":true}`, part.Get("Attributes"))
	assert.Equal(t, "webhook", hook.Get("Target"))
	assert.Equal(t, w.hook, hook.Get("Configuration.Url"))
	assert.Equal(t, "POST", hook.Get("Configuration.Method"))
	assert.Contains(t, hook["Configuration.Filters"], "onMessageAdded")
	assert.Contains(t, hook["Configuration.Filters"], "onConversationStateUpdated")

	// The transcript: the customer's turn as the customer, the bot's as
	// "bot", with their times.
	w.mu.Lock()
	posted := w.posted
	w.mu.Unlock()
	require.Len(t, posted, 2)
	assert.Equal(t, "deskbridge-cust", posted[0].Get("Author"))
	assert.Equal(t, "my card fails", posted[0].Get("Body"))
	assert.Equal(t, "2026-05-01T12:00:00Z", posted[0].Get("DateCreated"))
	assert.Equal(t, "bot", posted[1].Get("Author"))

	var channel, routing map[string]any
	require.NoError(t, json.Unmarshal([]byte(inter.Get("Channel")), &channel))
	require.NoError(t, json.Unmarshal([]byte(inter.Get("Routing")), &routing))
	assert.Equal(t, map[string]any{"type": "web", "initiated_by": "customer", "properties": map[string]any{"media_channel_sid": convSID}}, channel)
	props := routing["properties"].(map[string]any)
	assert.Equal(t, "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", props["workspace_sid"])
	assert.Equal(t, "WWaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", props["workflow_sid"])
	assert.Equal(t, "chat", props["task_channel_unique_name"])
	attrs := props["attributes"].(map[string]any)
	assert.Equal(t, "billing", attrs["queue"])
	assert.Equal(t, "Grace Hopper", attrs["customerName"])
	assert.Equal(t, "Grace Hopper", attrs["from"])
	assert.Equal(t, "deskbridge-cust", attrs["customerAddress"])
	assert.Equal(t, "Card declined twice.", attrs["conversationSummary"])
	assert.Equal(t, map[string]any{"external_id": "cust-42", "name": "Grace Hopper", "email": "grace@example.com"}, attrs["customers"])
	assert.Equal(t, "gold", attrs["verifiedCustomer"].(map[string]any)["tier"])
	assert.Equal(t, "A-17", attrs["unverifiedClaims"].(map[string]any)["order"])
	long := attrs["long"].(string)
	assert.LessOrEqual(t, len(long), 1024, "a long attribute is cut")
	assert.True(t, strings.HasSuffix(long, servicedesk.TruncatedMarker), "with the marker")
	assert.Contains(t, w.rec.Calls(), "caps(true)")

	var got twilio.Conversation
	require.True(t, servicedesk.As(w.desk, &got))
	assert.Equal(t, twilio.Conversation{ConversationSID: convSID, ParticipantSID: custSID, Identity: "deskbridge-cust",
		InteractionSID: "KDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ChannelSID: "UOaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, got)
}

func TestLongTranscriptKeepsTheLatestTurns(t *testing.T) {
	w := newWorld(t, func(c *twilio.Config) { c.TranscriptTurns = 3 })
	var turns []servicedesk.Turn
	for i := range 5 {
		turns = append(turns, servicedesk.Turn{From: "bot", Text: fmt.Sprintf("turn %d %s", i, strings.Repeat("é", 1000))})
	}
	w.start(servicedesk.Handoff{Transcript: turns})
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Len(t, w.posted, 4)
	assert.Equal(t, "[2 earlier messages with the bot are not shown]", w.posted[0].Get("Body"))
	assert.True(t, strings.HasPrefix(w.posted[1].Get("Body"), "turn 2 "))
	assert.LessOrEqual(t, len(w.posted[1].Get("Body")), 1600, "a body fits Twilio's 1,600")
}

func TestAgentJoinsSpeaksReadsAndEnds(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	w.joined()
	assert.Equal(t, 200, w.send(w.agentMessage("Hi, I'm **Ada**.\n\n![Your receipt](https://example.com/r.png)\n\n[Open the form](https://example.com/form)"), authToken))
	w.waitFor("message(Hi, I'm **Ada**.,ada@example.com)")
	// Read horizon: the agent read up to index 2.
	assert.Equal(t, 200, w.send(url.Values{"EventType": {"onParticipantUpdated"}, "ConversationSid": {convSID}, "ParticipantSid": {agentSID},
		"Identity": {"ada@example.com"}, "LastReadMessageIndex": {"0"}, "DateUpdated": {"2022-05-18T13:43:00Z"}}, authToken))
	w.waitFor("read")
	// Flex ends the chat: the conversation closes.
	assert.Equal(t, 200, w.send(url.Values{"EventType": {"onConversationStateUpdated"}, "ConversationSid": {convSID},
		"StateFrom": {"active"}, "StateTo": {"closed"}, "Reason": {"API"}}, authToken))
	w.waitFor("ended")
}

func TestAgentMessageItems(t *testing.T) {
	w := newWorld(t, nil)
	var got servicedesk.MessageResponse
	done := make(chan struct{})
	cb := &captureCallback{Recorder: w.rec, onMessage: func(m servicedesk.MessageResponse) { got = m; close(done) }}
	d, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: cb, Instance: sdtest.Instance("s2")})
	require.NoError(t, err)
	w.desk = d
	w.start(servicedesk.Handoff{})
	w.joined()
	w.mt.RegisterResponder(http.MethodGet, mediaBase+"/Services/"+service+"/Media/ME11111111111111111111111111111111",
		httpmock.NewStringResponder(200, `{"sid":"ME11111111111111111111111111111111","service_sid":"`+service+`","size":42056,"content_type":"application/pdf","filename":"invoice.pdf",
"links":{"content":"/v1/Services/`+service+`/Media/ME11111111111111111111111111111111/Content","content_direct_temporary":"https://media.us1.twilio.com/ME111?Expires=1"}}`))
	form := w.agentMessage("See [the policy](https://example.com/p).\n\n![Your receipt](https://example.com/r.png)\n\n[Open the form](https://example.com/form)")
	form.Set("Media", `[{"Sid":"ME11111111111111111111111111111111","Filename":"invoice.pdf","ContentType":"application/pdf","Size":42056,"Category":"media"}]`)
	require.Equal(t, 200, w.send(form, authToken))
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no agent message")
	}
	items := got.Output.Generic
	require.Len(t, items, 4)
	assert.Equal(t, servicedesk.TextItem("See [the policy](https://example.com/p)."), items[0])
	assert.Equal(t, servicedesk.ImageItem("https://example.com/r.png", "Your receipt"), items[1])
	assert.Equal(t, servicedesk.LinkButtonItem("Open the form", "https://example.com/form"), items[2])
	assert.Equal(t, servicedesk.LinkButtonItem("invoice.pdf", "https://media.us1.twilio.com/ME111?Expires=1"), items[3])
}

type captureCallback struct {
	*sdtest.Recorder
	onMessage func(servicedesk.MessageResponse)
}

func (c *captureCallback) SendMessageToUser(m servicedesk.MessageResponse, agentID string) {
	c.onMessage(m)
	c.Recorder.SendMessageToUser(m, agentID)
}

func TestWebhookSignatureChecked(t *testing.T) {
	w := newWorld(t, func(c *twilio.Config) { c.SecondaryAuthToken = "rotated-token" })
	w.start(servicedesk.Handoff{})
	form := w.agentMessage("hello")
	assert.Equal(t, http.StatusUnauthorized, w.send(form, "wrong-token"), "a bad signature")
	assert.Equal(t, http.StatusOK, w.send(form, "rotated-token"), "the secondary token while rotating")
	w.waitFor("joined(Ada Lovelace)")
	// The signature covers the parameters: a changed body fails.
	req, _ := http.NewRequest(http.MethodPost, w.hook, strings.NewReader(form.Encode()+"&Body=evil"))
	req.Header.Set("X-Twilio-Signature", sign(authToken, w.hook, form))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, err = http.Get(w.hook)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, http.StatusBadRequest, w.send(url.Values{"Foo": {"bar"}}, authToken), "not an event")
}

// TestDuplicateReorderedAndLostWebhooks: Twilio's webhooks come twice, out
// of order and not at all; the customer sees each agent message once, in
// the conversation's order.
func TestDuplicateReorderedAndLostWebhooks(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	w.joined()
	m0, m1, m2, m3 := w.agentMessage("zero"), w.agentMessage("one"), w.agentMessage("two"), w.agentMessage("three")
	assert.Equal(t, 200, w.send(m0, authToken))
	assert.Equal(t, 200, w.send(m0, authToken)) // a duplicate
	assert.Equal(t, 200, w.send(m2, authToken)) // before m1: the fill reads m1
	assert.Equal(t, 200, w.send(m1, authToken))
	// m3's webhook is lost; the next message shows the gap.
	m4 := w.agentMessage("four")
	assert.Equal(t, 200, w.send(m4, authToken))
	_ = m3
	w.waitFor("message(four,ada@example.com)")
	var texts []string
	for _, c := range w.rec.Calls() {
		if strings.HasPrefix(c, "message(") {
			texts = append(texts, c)
		}
	}
	assert.Equal(t, []string{"message(zero,ada@example.com)", "message(one,ada@example.com)", "message(two,ada@example.com)",
		"message(three,ada@example.com)", "message(four,ada@example.com)"}, texts)
}

// TestWebhookOutageFilledByReconcile: the last messages' webhooks never
// come (Twilio does not retry); the reconcile reads them.
func TestWebhookOutageFilledByReconcile(t *testing.T) {
	w := newWorld(t, func(c *twilio.Config) { c.ReconcileInterval = 50 * time.Millisecond })
	w.start(servicedesk.Handoff{})
	w.joined()
	w.agentMessage("lost one")
	w.agentMessage("lost two")
	w.waitFor("message(lost two,ada@example.com)")
	calls := w.rec.Calls()
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, "message(lost") {
			n++
		}
	}
	assert.Equal(t, 2, n, "each once: %s", sdtest.Join(calls))
}

func TestSendMessageRetriesWithoutDoubling(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	w.joined()
	var calls int
	ok := w.postMessage
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID+"/Messages", func(r *http.Request) (*http.Response, error) {
		calls++
		switch calls {
		case 1: // rate limited: not done
			resp := httpmock.NewStringResponse(429, twilioError(429, 20429, "Too Many Requests"))
			resp.Header.Set("Retry-After", "0")
			return resp, nil
		case 2: // done, but the answer is lost
			if _, err := ok(r); err != nil {
				return nil, err
			}
			return httpmock.NewStringResponse(503, twilioError(503, 20503, "Service Unavailable")), nil
		}
		return ok(r)
	})
	require.NoError(t, w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("my card"), "msg-1", servicedesk.AdditionalDataToAgent{}))
	assert.Equal(t, 2, calls, "the third try found the message instead of posting it again")
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Len(t, w.posted, 1)
	assert.Equal(t, "deskbridge-cust", w.posted[0].Get("Author"))
	assert.Equal(t, "my card", w.posted[0].Get("Body"))
	assert.JSONEq(t, `{"deskbridge_message_id":"msg-1"}`, w.posted[0].Get("Attributes"))
}

func TestSendMessageRefused(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID+"/Messages",
		httpmock.NewStringResponder(400, twilioError(400, 50511, "Message body is too long")))
	err := w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("x"), "msg-2", servicedesk.AdditionalDataToAgent{})
	require.ErrorIs(t, err, servicedesk.ErrRejected)
	var te *httpjson.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 400, te.Status)
	assert.Equal(t, "Message body is too long", te.Message, "Twilio's message")
}

func TestLongMessageSplit(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	text := strings.Repeat("ü", 1000) // 2,000 bytes
	require.NoError(t, w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest(text), "msg-3", servicedesk.AdditionalDataToAgent{}))
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Len(t, w.posted, 2)
	assert.Equal(t, text, w.posted[0].Get("Body")+w.posted[1].Get("Body"))
}

func TestMediaUpload(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	var got []byte
	var ctype, filename string
	w.mt.RegisterResponder(http.MethodPost, mediaBase+"/Services/"+service+"/Media", func(r *http.Request) (*http.Response, error) {
		got, _ = io.ReadAll(r.Body)
		ctype, filename = r.Header.Get("Content-Type"), r.URL.Query().Get("Filename")
		return httpmock.NewStringResponse(201, `{"sid":"ME22222222222222222222222222222222","service_sid":"`+service+`","size":4,"content_type":"image/png","filename":"receipt.png","links":{"content":"x","content_direct_temporary":"y"}}`), nil
	})
	f := file("f1", "receipt.png", "image/png", []byte("\x89PNG"))
	require.NoError(t, w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("see"), "msg-4",
		servicedesk.AdditionalDataToAgent{FilesToUpload: []servicedesk.FileUpload{f}}))
	assert.Equal(t, []byte("\x89PNG"), got)
	assert.Equal(t, "image/png", ctype)
	assert.Equal(t, "receipt.png", filename)
	w.mu.Lock()
	posted := w.posted
	w.mu.Unlock()
	require.Len(t, posted, 1)
	assert.Equal(t, "ME22222222222222222222222222222222", posted[0].Get("MediaSid"))
	assert.Equal(t, "see", posted[0].Get("Body"))
	calls := w.rec.Calls()
	assert.Contains(t, calls, "file(f1,false,)")
	// A file selected outside the offered types is warned about at once.
	bad := file("f2", "tool.exe", "application/x-msdownload", []byte("MZ"))
	require.NoError(t, w.desk.(servicedesk.FileSelectionValidator).FilesSelectedForUpload(context.Background(), []servicedesk.FileUpload{bad}))
	w.waitFor("file(f2,true,This type of file can't be uploaded.)")

	// The media service refuses a file: its message is the reason.
	w.mt.RegisterResponder(http.MethodPost, mediaBase+"/Services/"+service+"/Media",
		httpmock.NewStringResponder(413, twilioError(413, 20413, "Media exceeds the size limit")))
	require.NoError(t, w.desk.SendMessageToAgent(context.Background(), servicedesk.MessageRequest{}, "msg-5",
		servicedesk.AdditionalDataToAgent{FilesToUpload: []servicedesk.FileUpload{file("f3", "a.png", "image/png", []byte("x"))}}))
	w.waitFor("file(f3,true,Media exceeds the size limit)")
}

func file(id, name, typ string, data []byte) servicedesk.FileUpload {
	return servicedesk.FileUpload{ID: id, File: servicedesk.File{Name: name, Type: typ, Size: int64(len(data)),
		Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(string(data))), nil
		}}}
}

func TestUserReadMovesTheReadHorizon(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	w.joined()
	require.Equal(t, 200, w.send(w.agentMessage("hello"), authToken))
	w.waitFor("message(hello,ada@example.com)")
	var form url.Values
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID+"/Participants/"+custSID, func(r *http.Request) (*http.Response, error) {
		_ = r.ParseForm()
		form = r.PostForm
		return httpmock.NewStringResponse(200, participantJSON(custSID, "deskbridge-cust", "0")), nil
	})
	require.NoError(t, w.desk.(servicedesk.ReadNotifier).UserReadMessages(context.Background()))
	assert.Equal(t, "0", form.Get("LastReadMessageIndex"))
	_, err := time.Parse(time.RFC3339, form.Get("LastReadTimestamp"))
	assert.NoError(t, err)
}

func TestTaskCanceledBeforeAnAgent(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	attrs := `{"conversationSid":"` + convSID + `","channelType":"web","flexInteractionSid":"KDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`
	form := url.Values{"EventType": {"task.canceled"}, "Sid": {"EVaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "AccountSid": {"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		"WorkspaceSid": {"WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "ResourceType": {"task"}, "TaskSid": {"WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		"TaskAttributes": {attrs}, "TaskCanceledReason": {"Task TTL Exceeded"}, "Timestamp": {"1634845217"}}
	require.Equal(t, 200, w.send(form, authToken))
	w.waitFor("error(CONNECTING,false,Task TTL Exceeded)")
}

func TestEndChatClosesTheInteractionChannel(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	var status, state string
	w.mt.RegisterResponder(http.MethodPost, flexBase+"/Interactions/KDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Channels/UOaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", func(r *http.Request) (*http.Response, error) {
		_ = r.ParseForm()
		status = r.PostForm.Get("Status")
		return httpmock.NewStringResponse(200, `{"sid":"UOaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":"closed"}`), nil
	})
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID, func(r *http.Request) (*http.Response, error) {
		_ = r.ParseForm()
		state = r.PostForm.Get("State")
		return httpmock.NewStringResponse(200, conversationJSON), nil
	})
	require.NoError(t, w.desk.EndChat(context.Background(), servicedesk.EndChatInfo{}))
	assert.Equal(t, "closed", status)
	assert.Equal(t, "closed", state)
	// The conversation's own close comes back as a webhook: quiet.
	require.Equal(t, 200, w.send(url.Values{"EventType": {"onConversationStateUpdated"}, "ConversationSid": {convSID}, "StateTo": {"closed"}}, authToken))
	time.Sleep(50 * time.Millisecond)
	assert.NotContains(t, w.rec.Calls(), "ended")
}

// TestReconnectAfterRestart: a new process's desk resumes the persisted
// conversation and reads what it missed while it was down.
func TestReconnectAfterRestart(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	w.joined()
	require.Equal(t, 200, w.send(w.agentMessage("before"), authToken))
	w.waitFor("message(before,ada@example.com)")
	state := w.rec.PersistedState()
	require.NoError(t, w.desk.(io.Closer).Close())
	w.agentMessage("while down")

	rec := &sdtest.Recorder{}
	d, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("s1"), PersistedState: state})
	require.NoError(t, err)
	ok, err := d.(servicedesk.Reconnector).Reconnect(context.Background())
	require.NoError(t, err)
	require.True(t, ok)
	w.rec = rec
	w.waitFor("message(while down,ada@example.com)")
	assert.NotContains(t, rec.Calls(), "message(before,ada@example.com)", "nothing twice")
	// Webhooks reach the new desk.
	require.Equal(t, 200, w.send(w.agentMessage("after"), authToken))
	w.waitFor("message(after,ada@example.com)")
}

// TestReconnectToAnEndedChat: the conversation is gone (404) or closed.
func TestReconnectToAnEndedChat(t *testing.T) {
	for name, resp := range map[string]httpmock.Responder{
		"gone":   httpmock.NewStringResponder(404, twilioError(404, 20404, "The requested resource /Conversations/"+convSID+" was not found")),
		"closed": httpmock.NewStringResponder(200, strings.Replace(conversationJSON, `"state":"active"`, `"state":"closed"`, 1)),
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, nil)
			w.mt.RegisterResponder(http.MethodGet, convBase+"/Conversations/"+convSID, resp)
			state := json.RawMessage(`{"conversation":"` + convSID + `","participant":"` + custSID + `","identity":"deskbridge-cust","next":3,"joined":true}`)
			d, err := w.kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: w.rec, Instance: sdtest.Instance("s9"), PersistedState: state})
			require.NoError(t, err)
			ok, err := d.(servicedesk.Reconnector).Reconnect(context.Background())
			require.NoError(t, err)
			assert.False(t, ok)
		})
	}
}

func TestAuthFailureIsNotRetried(t *testing.T) {
	w := newWorld(t, nil)
	n := 0
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations", func(*http.Request) (*http.Response, error) {
		n++
		return httpmock.NewStringResponse(401, twilioError(401, 20003, "Authenticate")), nil
	})
	err := w.desk.StartChat(context.Background(), servicedesk.TextResponse("x"), servicedesk.StartChatOptions{})
	require.ErrorIs(t, err, servicedesk.ErrRejected)
	assert.Equal(t, 1, n)
}

func TestServerErrorsRetried(t *testing.T) {
	w := newWorld(t, nil)
	n := 0
	w.mt.RegisterResponder(http.MethodPost, flexBase+"/Interactions", func(*http.Request) (*http.Response, error) {
		n++
		if n < 3 {
			return httpmock.NewStringResponse(503, twilioError(503, 20503, "Service Unavailable")), nil
		}
		return httpmock.NewStringResponse(200, interactionJSON), nil
	})
	w.start(servicedesk.Handoff{})
	assert.Equal(t, 3, n)
}

// TestConversationCreateRetriedAfterALostAnswer: the first create worked,
// its answer was lost; the retry's 409 on the unique name finds it.
func TestConversationCreateRetriedAfterALostAnswer(t *testing.T) {
	w := newWorld(t, nil)
	n := 0
	var unique string
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations", func(r *http.Request) (*http.Response, error) {
		n++
		_ = r.ParseForm()
		unique = r.PostForm.Get("UniqueName")
		if n == 1 {
			return httpmock.NewStringResponse(502, "Bad Gateway"), nil
		}
		return httpmock.NewStringResponse(409, twilioError(409, 50353, "Conversation with provided unique name already exists")), nil
	})
	w.mt.RegisterResponder(http.MethodGet, `=~^`+convBase+`/Conversations/deskbridge-`, func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "/v1/Conversations/"+unique, r.URL.Path)
		return httpmock.NewStringResponse(200, conversationJSON), nil
	})
	w.start(servicedesk.Handoff{})
	var got twilio.Conversation
	require.True(t, servicedesk.As(w.desk, &got))
	assert.Equal(t, convSID, got.ConversationSID)
}

func TestConfigChecked(t *testing.T) {
	ok := twilio.Config{AccountSID: "AC1", AuthToken: "t", WorkspaceSID: "WS1", WebhookURL: "https://bridge.example.com/desk/webhook"}
	_, err := twilio.New(ok)
	require.NoError(t, err)
	for name, mutate := range map[string]func(*twilio.Config){
		"no account":     func(c *twilio.Config) { c.AccountSID = "" },
		"no token":       func(c *twilio.Config) { c.AuthToken = "" },
		"no workspace":   func(c *twilio.Config) { c.WorkspaceSID = "" },
		"no webhook url": func(c *twilio.Config) { c.WebhookURL = "" },
		"relative url":   func(c *twilio.Config) { c.WebhookURL = "/desk/webhook" },
		"half a key":     func(c *twilio.Config) { c.APIKeySID = "SK1" },
	} {
		c := ok
		mutate(&c)
		_, err := twilio.New(c)
		assert.Error(t, err, name)
	}
}

func TestAPIKeyAuth(t *testing.T) {
	w := newWorld(t, func(c *twilio.Config) {
		c.APIKeySID, c.APIKeySecret = "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "key-secret"
	})
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations", func(r *http.Request) (*http.Response, error) {
		user, pass, _ := r.BasicAuth()
		assert.Equal(t, "SKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", user)
		assert.Equal(t, "key-secret", pass)
		return httpmock.NewStringResponse(201, conversationJSON), nil
	})
	w.start(servicedesk.Handoff{})
}

// TestOutageMidChat: Twilio cannot be reached for a while mid-chat and the
// webhooks of that time never come; DISCONNECTED is raised and cleared,
// and what the agent said meanwhile arrives once, in order, before the
// clear.
func TestOutageMidChat(t *testing.T) {
	w := newWorld(t, nil)
	w.start(servicedesk.Handoff{})
	w.joined()
	require.Equal(t, 200, w.send(w.agentMessage("before"), authToken))
	w.waitFor("message(before,ada@example.com)")
	down := 3
	w.mt.RegisterResponder(http.MethodPost, convBase+"/Conversations/"+convSID+"/Messages", func(r *http.Request) (*http.Response, error) {
		w.mu.Lock()
		out := down > 0
		down--
		w.mu.Unlock()
		if out {
			return nil, fmt.Errorf("connection refused")
		}
		return w.postMessage(r)
	})
	w.agentMessage("during one") // their webhooks are lost
	w.agentMessage("during two")
	require.NoError(t, w.desk.SendMessageToAgent(context.Background(), servicedesk.NewTextRequest("still there?"), "m-out", servicedesk.AdditionalDataToAgent{}))
	calls := w.waitFor("error(DISCONNECTED,false,)")
	var seen []string
	for _, c := range calls {
		if strings.HasPrefix(c, "message(") || strings.HasPrefix(c, "error(DISCONNECTED") {
			seen = append(seen, c)
		}
	}
	assert.Equal(t, []string{"message(before,ada@example.com)", "error(DISCONNECTED,true,)", "message(during one,ada@example.com)",
		"message(during two,ada@example.com)", "error(DISCONNECTED,false,)"}, seen)
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, p := range w.posted {
		if p.Get("Body") == "still there?" {
			n++
		}
	}
	assert.Equal(t, 1, n, "the customer's message once")
}

// TestWebhookRelayedToTheInstanceThatFollows: with two instances behind
// one public URL, a webhook that reaches the one that does not follow the
// conversation is passed to the one that does.
func TestWebhookRelayedToTheInstanceThatFollows(t *testing.T) {
	owner := newWorld(t, nil)
	owner.start(servicedesk.Handoff{})
	owner.joined()
	var relayErr error
	other, err := twilio.New(twilio.Config{AccountSID: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", AuthToken: authToken, WorkspaceSID: "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		WebhookURL: owner.hook, HTTPClient: &http.Client{Transport: owner.mt},
		Elsewhere: func(delivery []byte) error {
			if relayErr != nil {
				return relayErr
			}
			assert.True(t, owner.kit.Deliver(delivery), "the owner follows the conversation")
			return nil
		}})
	require.NoError(t, err)
	defer other.Close()
	post := func(form url.Values) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, owner.hook, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sign(authToken, owner.hook, form))
		other.WebhookHandler().ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, 200, post(owner.agentMessage("via the other instance")))
	owner.waitFor("message(via the other instance,ada@example.com)")
	relayErr = fmt.Errorf("no instance listens")
	assert.Equal(t, http.StatusServiceUnavailable, post(owner.agentMessage("nobody")), "Twilio is told it failed")
}
