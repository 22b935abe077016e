package nice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/nice"
)

// gateway is a loopback CXone chat gateway: it logs every request frame
// and answers as the test says, replaying the SDK's documented frames
// (answers in the postback form the SDK reads, index.js).
type gateway struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	conn   *websocket.Conn
	conns  int
	query  url.Values
	reqs   chan map[string]any
	answer func(req map[string]any) []string // frames for a request; nil: the default
}

var upgrader = websocket.Upgrader{}

func newGateway(t *testing.T) *gateway {
	g := &gateway{t: t, reqs: make(chan map[string]any, 100)}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		g.mu.Lock()
		g.conn, g.query = c, r.URL.Query()
		g.conns++
		g.mu.Unlock()
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			var req map[string]any
			if json.Unmarshal(b, &req) != nil {
				continue
			}
			if req["action"] == "heartbeat" {
				g.write(`"pong"`)
				continue
			}
			g.reqs <- req
			g.mu.Lock()
			answer := g.answer
			g.mu.Unlock()
			frames := defaultAnswer(req)
			if answer != nil {
				if f := answer(req); f != nil {
					frames = f
				}
			}
			for _, f := range frames {
				g.write(f)
			}
		}
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) write(frame string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn != nil {
		_ = g.conn.WriteMessage(websocket.TextMessage, []byte(frame))
	}
}

// drop cuts the current connection.
func (g *gateway) drop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn != nil {
		_ = g.conn.NetConn().Close()
		g.conn = nil
	}
}

// next returns the next request of eventType, skipping others.
func (g *gateway) next(eventType string) map[string]any {
	g.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case r := <-g.reqs:
			if eventType == "" || eventOf(r) == eventType {
				return r
			}
		case <-timeout:
			g.t.Fatalf("no %s request", eventType)
		}
	}
}

func eventOf(r map[string]any) string {
	p, _ := r["payload"].(map[string]any)
	s, _ := p["eventType"].(string)
	return s
}

func dataOf(r map[string]any) map[string]any {
	p, _ := r["payload"].(map[string]any)
	d, _ := p["data"].(map[string]any)
	return d
}

func postback(r map[string]any, eventType, data string) string {
	return fmt.Sprintf(`{"eventId":%q,"postback":{"eventType":%q,"data":%s}}`, r["eventId"], eventType, data)
}

func errorFrame(r map[string]any, code, msg string) string {
	return fmt.Sprintf(`{"eventId":%q,"error":{"errorCode":%q,"errorMessage":%q,"transactionId":"tr-1"}}`, r["eventId"], code, msg)
}

// The documented shapes (index.d.ts: User, Case, Message).
const (
	userAda  = `{"id":1234,"firstName":"Ada","surname":"Lovelace","nickname":"Ada","publicImageUrl":"https://cdn.example.com/ada.png","isBotUser":false,"isSurveyUser":false}`
	userBob  = `{"id":5678,"firstName":"Bob","surname":"","nickname":"","isBotUser":false,"isSurveyUser":false}`
	caseOpen = `{"id":"4567","threadIdOnExternalPlatform":"th","status":"open"}`
)

func defaultAnswer(r map[string]any) []string {
	switch eventOf(r) {
	case "AuthorizeCustomer":
		return []string{postback(r, "ConsumerAuthorized", `{"status":"success","consumerIdentity":{"idOnExternalPlatform":"cust-oauth-1"},"accessToken":{"token":"tok-1","expiresIn":3600}}`)}
	case "SendMessage":
		d := dataOf(r)
		return []string{postback(r, "MessageCreated", fmt.Sprintf(`{"case":{"id":"4567","status":"new"},"message":{"id":"m-%s","idOnExternalPlatform":%q,"direction":"inbound","createdAt":"2026-12-03T08:00:00.000Z"}}`, d["idOnExternalPlatform"], d["idOnExternalPlatform"]))}
	case "RecoverLivechat":
		return []string{postback(r, "LivechatRecovered", `{"thread":{"id":"th","idOnExternalPlatform":"th"},"contact":`+caseOpen+`,"inboxAssignee":null,"messages":[]}`)}
	}
	return []string{postback(r, eventOf(r), `{}`)}
}

// push sends a push event as the gateway does: {"eventId","eventObject",
// "eventType","createdAt","data"}.
func (g *gateway) push(id, object, eventType, data string) {
	g.write(fmt.Sprintf(`{"eventId":%q,"eventObject":%q,"eventType":%q,"createdAt":"2026-12-03T08:00:01.000Z","data":%s}`, id, object, eventType, data))
}

func (g *gateway) kit(t *testing.T, mutate func(*nice.Config)) *nice.Kit {
	cfg := nice.Config{Logger: testLogger(), BrandID: 1086, ChannelID: "chat_1", GatewayURL: "ws" + strings.TrimPrefix(g.srv.URL, "http"), ChatURL: g.srv.URL,
		PingInterval: 200 * time.Millisecond, RequestTimeout: time.Second, Backoff: retry.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond, MaxRetryAfter: 2 * time.Second}}
	if mutate != nil {
		mutate(&cfg)
	}
	k, err := nice.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close() })
	return k
}

func startDesk(t *testing.T, k *nice.Kit, rec *sdtest.Recorder) servicedesk.ServiceDesk {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sd, err := k.Factory(ctx, servicedesk.FactoryParams{Callback: rec, PersistedState: rec.PersistedState()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sd.(interface{ Close() error }).Close() })
	return sd
}

func handoffOpts() servicedesk.StartChatOptions {
	return servicedesk.StartChatOptions{Handoff: servicedesk.Handoff{Summary: "card declined", Attributes: map[string]string{"topic": "billing"},
		Customer: &servicedesk.Customer{ID: "c-42", Name: "Ann Smith"}}}
}

// TestFixtureGuestChat: a guest's gateway URL and first SendMessage carry
// the SDK's fields and the hand-off; the documented pushes become the
// callbacks, a duplicated push changes nothing twice, "pong" is ignored,
// and the contact's close ends the chat.
func TestFixtureGuestChat(t *testing.T) {
	g := newGateway(t)
	rec := &sdtest.Recorder{}
	sd := startDesk(t, g.kit(t, nil), rec)
	ctx := context.Background()
	require.NoError(t, sd.StartChat(ctx, servicedesk.MessageResponse{}, handoffOpts()))
	first := g.next("SendMessage")
	require.Equal(t, "chatWindowEvent", first["action"])
	p := first["payload"].(map[string]any)
	require.EqualValues(t, 1086, p["brand"].(map[string]any)["id"])
	require.Equal(t, "chat_1", p["channel"].(map[string]any)["id"])
	ident := p["consumerIdentity"].(map[string]any)
	g.mu.Lock()
	q := g.query
	g.mu.Unlock()
	require.Equal(t, q.Get("customerId"), ident["idOnExternalPlatform"], "the guest's id, in the URL and the payload")
	require.Equal(t, "1086", q.Get("brandId"))
	require.Equal(t, "chat_1", q.Get("channelId"))
	require.Equal(t, "Ann", ident["firstName"])
	d := dataOf(first)
	thread := d["thread"].(map[string]any)["idOnExternalPlatform"].(string)
	require.NotEmpty(t, thread)
	require.Contains(t, d["messageContent"].(map[string]any)["payload"].(map[string]any)["text"], "Summary: card declined")
	fields, _ := json.Marshal(d["consumerContact"].(map[string]any)["customFields"])
	require.Contains(t, string(fields), `{"ident":"topic","value":"billing"}`)
	require.Contains(t, string(fields), `{"ident":"customer_id","value":"c-42"}`)
	require.NotContains(t, dataOf(first), "accessToken", "a guest has no token")

	g.push("e1", "Routing", "SetPositionInQueue", `{"consumerContact":{"id":"4567"},"positionInQueue":3,"routingQueue":{},"isAnyAgentOnlineForQueue":true}`)
	g.push("e2", "Case", "CaseInboxAssigneeChanged", `{"case":`+caseOpen+`,"inboxAssignee":`+userAda+`,"previousInboxAssignee":null}`)
	g.push("e2", "Case", "CaseInboxAssigneeChanged", `{"case":`+caseOpen+`,"inboxAssignee":`+userAda+`,"previousInboxAssignee":null}`)
	g.write(`"pong"`)
	g.push("e3", "SenderAction", "SenderTypingStarted", `{"thread":{"idOnExternalPlatform":"`+thread+`"},"user":`+userAda+`,"direction":"outbound"}`)
	msg := `{"case":` + caseOpen + `,"message":{"id":"msg-1","idOnExternalPlatform":"msg-1","direction":"outbound","createdAt":"2026-12-03T08:00:02.000Z","authorUser":` + userAda +
		`,"messageContent":{"type":"TEXT","payload":{"text":"Hello Ann","elements":[{"type":"BUTTON","text":"Open the form","url":"https://example.com/form"}]}},` +
		`"attachments":[{"id":"a1","friendlyName":"receipt.png","url":"https://example.com/receipt.png","mimeType":"image/png"}]}}`
	g.push("e4", "Message", "MessageCreated", msg)
	g.push("e4b", "Message", "MessageCreated", msg) // the same message again
	g.push("e5", "Message", "MessageSeenChanged", `{"contact":`+caseOpen+`,"message":{"id":"m-x","direction":"inbound"}}`)
	g.push("e6", "Case", "CaseInboxAssigneeChanged", `{"case":`+caseOpen+`,"inboxAssignee":`+userBob+`,"previousInboxAssignee":`+userAda+`}`)
	g.push("e7", "Case", "CaseStatusChanged", `{"case":{"id":"4567","status":"closed"}}`)
	calls := rec.Wait(10, 5*time.Second)
	require.Equal(t, []string{"caps(true)", "queue(3,-1)", "joined(Ada)", "typing(true)", "typing(false)", "message(Hello Ann,1234)", "read",
		"transfer(Bob)", "joined(Bob)", "ended"}, calls[:10], sdtest.Join(calls))
}

// TestFixtureErrors: an event answered TooManyRequests is sent again; one
// answered with a refusal fails with CXone's reason; a refused chat ends
// with a CONNECTING error.
func TestFixtureErrors(t *testing.T) {
	g := newGateway(t)
	var mu sync.Mutex
	tries := map[string]int{}
	g.answer = func(r map[string]any) []string {
		if eventOf(r) != "SendMessage" {
			return nil
		}
		text := dataOf(r)["messageContent"].(map[string]any)["payload"].(map[string]any)["text"].(string)
		mu.Lock()
		tries[text]++
		n := tries[text]
		mu.Unlock()
		switch {
		case text == "busy" && n == 1:
			return []string{errorFrame(r, "TooManyRequests", "Too many requests.")}
		case text == "refused":
			return []string{errorFrame(r, "MessageRejected", "Messages with links are not allowed.")}
		}
		return nil
	}
	rec := &sdtest.Recorder{}
	sd := startDesk(t, g.kit(t, nil), rec)
	ctx := context.Background()
	require.NoError(t, sd.StartChat(ctx, servicedesk.MessageResponse{}, handoffOpts()))
	require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("busy"), "m1", servicedesk.AdditionalDataToAgent{}))
	mu.Lock()
	require.Equal(t, 2, tries["busy"], "the rate-limited message, sent again once")
	mu.Unlock()
	err := sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("refused"), "m2", servicedesk.AdditionalDataToAgent{})
	var e *nice.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "Messages with links are not allowed.", e.Reason())
	require.ErrorIs(t, err, servicedesk.ErrRejected)
	mu.Lock()
	require.Equal(t, 1, tries["refused"], "a refusal is not sent again")
	mu.Unlock()
	// The contact closes before an agent came: a refused chat.
	g.push("c1", "Case", "CaseStatusChanged", `{"case":{"id":"4567","status":"closed"}}`)
	calls := rec.Wait(2, 5*time.Second)
	require.Equal(t, "error(CONNECTING,false,The chat was closed.)", calls[1], sdtest.Join(calls))
}

// TestFixtureLostAnswer: a SendMessage whose answer never came is looked
// up in the recovered thread by its idOnExternalPlatform and not sent
// again when CXone has it.
func TestFixtureLostAnswer(t *testing.T) {
	g := newGateway(t)
	var mu sync.Mutex
	sends := 0
	g.answer = func(r map[string]any) []string {
		mu.Lock()
		defer mu.Unlock()
		switch eventOf(r) {
		case "SendMessage":
			if dataOf(r)["idOnExternalPlatform"] == "m1" {
				sends++
				return []string{} // taken, the answer lost
			}
		case "RecoverLivechat":
			return []string{postback(r, "LivechatRecovered", `{"contact":`+caseOpen+`,"inboxAssignee":null,"messages":[{"id":"x1","idOnExternalPlatform":"m1","direction":"inbound","createdAt":"2026-12-03T08:00:03.000Z"}]}`)}
		}
		return nil
	}
	rec := &sdtest.Recorder{}
	sd := startDesk(t, g.kit(t, nil), rec)
	ctx := context.Background()
	require.NoError(t, sd.StartChat(ctx, servicedesk.MessageResponse{}, handoffOpts()))
	require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("hello"), "m1", servicedesk.AdditionalDataToAgent{}))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 1, sends, "the message whose answer was lost, sent once")
}

// TestFixtureAuthorizedToken: an authorized customer registers with
// AuthorizeCustomer and its code, carries the token in data.accessToken,
// renews it with RefreshToken before it expires (TokenRefreshed), and,
// when CXone refuses the token, authorizes anew with a new code on the
// next connection.
func TestFixtureAuthorizedToken(t *testing.T) {
	g := newGateway(t)
	var mu sync.Mutex
	authorized, refreshed := 0, 0
	g.answer = func(r map[string]any) []string {
		mu.Lock()
		defer mu.Unlock()
		switch eventOf(r) {
		case "AuthorizeCustomer":
			authorized++
			if authorized > 1 {
				return []string{postback(r, "ConsumerAuthorized", `{"status":"success","consumerIdentity":{"idOnExternalPlatform":"cust-oauth-1"},"accessToken":{"token":"tok-3","expiresIn":3600}}`)}
			}
			return []string{postback(r, "ConsumerAuthorized", `{"status":"success","consumerIdentity":{"idOnExternalPlatform":"cust-oauth-1"},"accessToken":{"token":"tok-1","expiresIn":1}}`)}
		case "RefreshToken":
			refreshed++
			if refreshed > 1 {
				return []string{errorFrame(r, "AuthorizationFailed", "The access token is invalid or expired.")}
			}
			return []string{postback(r, "TokenRefreshed", `{"accessToken":{"token":"tok-2","expiresIn":1}}`)}
		}
		return nil
	}
	codes := make(chan string, 10)
	n := 0
	rec := &sdtest.Recorder{}
	sd := startDesk(t, g.kit(t, func(c *nice.Config) {
		c.AuthorizationCode = func(_ context.Context, customer string) (string, error) {
			n++
			codes <- customer
			return fmt.Sprintf("code-%d", n), nil
		}
	}), rec)
	ctx := context.Background()
	require.NoError(t, sd.StartChat(ctx, servicedesk.MessageResponse{}, handoffOpts()))
	auth := g.next("AuthorizeCustomer")
	require.Equal(t, "register", auth["action"])
	require.Equal(t, "code-1", dataOf(auth)["authorization"].(map[string]any)["authorizationCode"])
	require.Equal(t, "c-42", <-codes, "the code is asked for the verified customer")
	g.mu.Lock()
	require.False(t, g.query.Has("customerId"), "an authorized customer is not named in the URL")
	g.mu.Unlock()
	first := g.next("SendMessage")
	require.Equal(t, "tok-1", dataOf(first)["accessToken"].(map[string]any)["token"])
	require.Equal(t, "cust-oauth-1", first["payload"].(map[string]any)["consumerIdentity"].(map[string]any)["idOnExternalPlatform"])
	// After 90 % of each token's second, RefreshToken with it: the second
	// carries the token the first brought.
	require.Equal(t, "tok-1", dataOf(g.next("RefreshToken"))["accessToken"].(map[string]any)["token"])
	require.Equal(t, "tok-2", dataOf(g.next("RefreshToken"))["accessToken"].(map[string]any)["token"])
	// That one was refused: the connection is dropped, the next authorizes
	// anew with a new code, and events carry its token.
	again := g.next("AuthorizeCustomer")
	require.Equal(t, "code-2", dataOf(again)["authorization"].(map[string]any)["authorizationCode"])
	require.NoError(t, sd.(servicedesk.TypingNotifier).UserTyping(ctx, true))
	typing := g.next("SenderTypingStarted")
	require.Equal(t, "tok-3", dataOf(typing)["accessToken"].(map[string]any)["token"], "the new authorization's token")
}

func testLogger() *slog.Logger {
	if os.Getenv("KIT_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
