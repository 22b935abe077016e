package oracle_test

// Fixture tests: the requests the kit sends and the answers it reads,
// pinned against the shapes of "REST API for Chat in B2C Service" (About
// Establish Sessions; the consumer requestEngagement, getMessages,
// postMessage, concludeEngagement and getQueueStats operations) and the
// IBM service desk starter's Oracle client (the activity call, the pool
// query parameter, the SessionId header). The held getMessages is a
// loopback server that answers from a script and holds when the script
// is out; the REST-only calls are jarcoal/httpmock.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/oracle"
)

// jwtFor makes a JWT-shaped token that expires at exp.
func jwtFor(n int, exp time.Time) string {
	enc := base64.RawURLEncoding
	claims := fmt.Sprintf(`{"exp":%d,"n":%d}`, exp.Unix(), n)
	return enc.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + enc.EncodeToString([]byte(claims)) + ".sig"
}

// request is one request the fake site saw.
type request struct {
	Op, Auth, Session, Pool string
	Body                    map[string]any
}

// site is a loopback B2C Service site and chat session server: JWTs
// that live ttl, getMessages answered from answers, one at a time, then
// held until the request ends.
type site struct {
	*httptest.Server
	t   *testing.T
	ttl time.Duration

	mu       sync.Mutex
	jwts     int
	seen     []request
	answers  []string       // getMessages bodies, in turn ("409" for a 409)
	more     chan struct{}  // rung when answers grow
	refuse   map[string]int // op → how many more to refuse with 401
	inFlight int
	peak     int
}

func newSite(t *testing.T, ttl time.Duration) *site {
	s := &site{t: t, ttl: ttl, more: make(chan struct{}, 1), refuse: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *site) script(bodies ...string) {
	s.mu.Lock()
	s.answers = append(s.answers, bodies...)
	s.mu.Unlock()
	select {
	case s.more <- struct{}{}:
	default:
	}
}

func (s *site) requests(op string) []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []request
	for _, r := range s.seen {
		if r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

func (s *site) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	op := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	s.mu.Lock()
	s.seen = append(s.seen, request{Op: op, Auth: r.Header.Get("Authorization"), Session: r.Header.Get("SessionId"), Pool: r.URL.Query().Get("pool"), Body: body})
	refused := s.refuse[op] > 0
	if refused {
		s.refuse[op]--
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if refused {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errorCode":"ACCESS_DENIED","message":"The JWT is expired."}`)
		return
	}
	switch op {
	case "establishSessions":
		s.mu.Lock()
		s.jwts++
		tok := jwtFor(s.jwts, time.Now().Add(s.ttl))
		s.mu.Unlock()
		host, port, _ := strings.Cut(strings.TrimPrefix(s.URL, "http://"), ":")
		ssr, _ := json.Marshal(map[string]any{"domain": host, "port": json.Number(port), "pool": "123:45"})
		_ = json.NewEncoder(w).Encode(map[string]any{"jwt": tok, "channelToken": tok, "siteName": "mysite", "sessionServerResponse": string(ssr)})
	case "requestEngagement":
		_, _ = io.WriteString(w, `{"engagementId":9001,"engagementIdString":"9001","sessionId":"sess-1","clientId":501,"clientIdString":"501","resultType":"SUCCESS"}`)
	case "getMessages":
		s.mu.Lock()
		s.inFlight++
		s.peak = max(s.peak, s.inFlight)
		s.mu.Unlock()
		defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
		for {
			s.mu.Lock()
			if len(s.answers) > 0 {
				a := s.answers[0]
				s.answers = s.answers[1:]
				s.mu.Unlock()
				if a == "409" {
					w.WriteHeader(http.StatusConflict)
					a = `{"errorCode":"CONFLICT","message":"The engagement has been concluded."}`
				}
				_, _ = io.WriteString(w, a)
				return
			}
			s.mu.Unlock()
			select {
			case <-s.more:
			case <-r.Context().Done():
				return
			}
		}
	default: // postMessage, activity, concludeEngagement
		_, _ = io.WriteString(w, `{}`)
	}
}

// msgs is a getMessages answer of the documented system messages.
func msgs(m ...string) string { return `{"systemMessages":[` + strings.Join(m, ",") + `]}` }

func msg(seq int, name, fields string) string {
	if fields != "" {
		fields = "," + fields
	}
	return fmt.Sprintf(`{"messageName":"%s","engagementId":9001,"engagementIdString":"9001","createdTime":"2026-12-03T10:00:00Z","sequenceNumber":%d,"sequenceNumberString":"%d"%s}`,
		name, seq, seq, fields)
}

func fixtureKit(t *testing.T, s *site, mutate func(*oracle.Config)) *oracle.Kit {
	cfg := oracle.Config{URL: s.URL, User: "chat_api", Password: "pw", QueueID: 12, InterfaceID: 1,
		HTTPClient: s.Client(), RequestTimeout: 2 * time.Second, PollTimeout: 5 * time.Second,
		Backoff: retry.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}, Logger: debugLogger()}
	if mutate != nil {
		mutate(&cfg)
	}
	k, err := oracle.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close() })
	return k
}

func startChat(t *testing.T, k *oracle.Kit, rec *sdtest.Recorder) servicedesk.ServiceDesk {
	sd, err := k.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sd.(interface{ Close() error }).Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	connect := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: "Wants a refund"})
	h := servicedesk.Handoff{Customer: &servicedesk.Customer{ID: "c-42", Name: "Jo Doe", Email: "jo@example.com"},
		Attributes: map[string]string{"tier": "gold"},
		Transcript: []servicedesk.Turn{{From: "user", Text: "refund"}, {From: "bot", Text: "I will get you an agent"}}}
	require.NoError(t, sd.StartChat(ctx, connect, servicedesk.StartChatOptions{Handoff: h}))
	return sd
}

// TestFixtureConversation pins the hand-off in sessionInformation, the
// consumer calls' headers and bodies, and the mapping of every system
// message the kit reads, delivered across answers in sequenceNumber order
// with the duplicates dropped and a reordered answer put right.
func TestFixtureConversation(t *testing.T) {
	s := newSite(t, time.Hour)
	k := fixtureKit(t, s, nil)
	rec := &sdtest.Recorder{}
	sd := startChat(t, k, rec)

	est := s.requests("establishSessions")
	require.Len(t, est, 1)
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("chat_api:pw")), est[0].Auth)
	var info map[string]any
	require.NoError(t, json.Unmarshal([]byte(est[0].Body["sessionInformation"].(string)), &info), "sessionInformation is a JSON string")
	assert.Equal(t, "Jo", info["firstName"])
	assert.Equal(t, "Doe", info["lastName"])
	assert.Equal(t, "jo@example.com", info["emailAddress"])
	assert.Equal(t, 12.0, info["queueId"])
	assert.Equal(t, 1.0, info["interfaceId"])
	assert.Contains(t, info["question"], "Wants a refund")
	assert.Contains(t, info["question"], "user: refund")
	fields := map[string]string{}
	for _, f := range info["customFields"].([]any) {
		m := f.(map[string]any)
		fields[m["name"].(string)] = m["value"].(string)
	}
	assert.Equal(t, "gold", fields["tier"])
	assert.Equal(t, "c-42", fields["customer_id"])
	eng := s.requests("requestEngagement")
	require.Len(t, eng, 1)
	assert.True(t, strings.HasPrefix(eng[0].Auth, "Bearer "), "the JWT as a Bearer")
	assert.Equal(t, "123:45", eng[0].Pool, "the pool sessionServerResponse named")

	agent := `"clientId":77,"clientIdString":"77"`
	s.script(
		msgs(msg(1, "RNEngagementWaitInformationChangedMessage", `"position":2,"expectedWaitTimeSeconds":90`)),
		// Reordered and duplicated within an answer and across answers.
		msgs(msg(3, "RNEngagementMessagePostedMessage", agent+`,"body":"Hello <b>Jo</b><br>How can I help?","richText":true`),
			msg(2, "RNEngagementParticipantAddedMessage", agent+`,"name":"Ada","role":"LEAD","greeting":"Hi, I am Ada"`),
			msg(1, "RNEngagementWaitInformationChangedMessage", `"position":2,"expectedWaitTimeSeconds":90`)),
		msgs(msg(3, "RNEngagementMessagePostedMessage", agent+`,"body":"dup","richText":false`),
			msg(4, "RNEngagementMessagePostedMessage", `"clientId":501,"clientIdString":"501","body":"my own words","richText":false`),
			msg(5, "RNEngagementActivityChangedMessage", agent+`,"mode":"RESPONDING"`),
			msg(6, "RNEngagementActivityChangedMessage", agent+`,"mode":"LISTENING"`),
			msg(7, "RNEngagementParticipantLeftMessage", agent+`,"role":"LEAD","disconnectReason":"TRANSFERRED_TO_AGENT"`),
			msg(8, "RNEngagementParticipantAddedMessage", `"clientId":78,"clientIdString":"78","name":"Grace","role":"LEAD","greeting":""`),
			msg(9, "RNEngagementSomethingNewMessage", ""),
			msg(10, "RNEngagementMessagePostedMessage", `"clientId":78,"clientIdString":"78","body":"Grace here","richText":false`)),
	)
	want := []string{"queue(2,2)", "joined(Ada)", "message(Hi, I am Ada,77)", "message(Hello Jo\nHow can I help?,77)",
		"typing(true)", "typing(false)", "transfer()", "joined(Grace)", "message(Grace here,78)"}
	assert.Equal(t, want, rec.Wait(len(want), 5*time.Second))

	ctx := context.Background()
	require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("my card"), "m-1", servicedesk.AdditionalDataToAgent{}))
	post := s.requests("postMessage")
	require.Len(t, post, 1)
	assert.Equal(t, "sess-1", post[0].Session, "the SessionId header")
	assert.Equal(t, "my card", post[0].Body["body"])
	assert.Equal(t, "m-1", post[0].Body["messageId"], "the engine's id as messageId")
	assert.Equal(t, false, post[0].Body["richText"])
	require.NoError(t, sd.(servicedesk.TypingNotifier).UserTyping(ctx, true))
	act := s.requests("activity")
	require.Len(t, act, 1)
	assert.Equal(t, "RESPONDING", act[0].Body["mode"])
	assert.Equal(t, uint64(10), lastSeq(t, rec), "the last sequenceNumber persisted")

	require.NoError(t, sd.EndChat(ctx, servicedesk.EndChatInfo{}))
	require.Len(t, s.requests("concludeEngagement"), 1)
	assert.Empty(t, rec.State(), "the persisted state cleared")
	assert.Equal(t, 1, s.peakGetMessages(), "one getMessages in flight at a time")
}

func (s *site) peakGetMessages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

func lastSeq(t *testing.T, rec *sdtest.Recorder) uint64 {
	v, _ := rec.State()["last_seq"].(float64)
	return uint64(v)
}

// TestFixtureGapGivenUp: getMessages hands each message out once, so a
// gap still open after the next answer is given up and what waited
// behind it is delivered in order; the engagement concluded by the agent
// ends the chat and the loop.
func TestFixtureGapGivenUp(t *testing.T) {
	s := newSite(t, time.Hour)
	rec := &sdtest.Recorder{}
	startChat(t, fixtureKit(t, s, nil), rec)
	agent := `"clientId":77,"clientIdString":"77"`
	s.script(
		msgs(msg(1, "RNEngagementParticipantAddedMessage", agent+`,"name":"Ada","role":"LEAD"`)),
		msgs(msg(3, "RNEngagementMessagePostedMessage", agent+`,"body":"three"`)),
		msgs(msg(4, "RNEngagementMessagePostedMessage", agent+`,"body":"four"`)),
		msgs(msg(5, "RNEngagementConcludedMessage", `"reason":"AGENT_CONCLUDED"`)),
	)
	assert.Equal(t, []string{"joined(Ada)", "message(three,77)", "message(four,77)", "ended"}, rec.Wait(4, 5*time.Second))
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, s.requests("getMessages"), 4, "no getMessages after the conclusion")
}

// TestFixtureRefusedAndGone: a chat concluded before an agent came is a
// CONNECTING error with the reason; a 409 from getMessages (the
// engagement concluded) ends a chat with an agent in it.
func TestFixtureRefusedAndGone(t *testing.T) {
	s := newSite(t, time.Hour)
	rec := &sdtest.Recorder{}
	startChat(t, fixtureKit(t, s, nil), rec)
	s.script(msgs(msg(1, "RNEngagementConcludedMessage", `"reason":"NO_AGENTS_AVAILABLE"`)))
	assert.Equal(t, []string{"error(CONNECTING,false,No agent is available right now.)"}, rec.Wait(1, 5*time.Second))

	s2 := newSite(t, time.Hour)
	rec2 := &sdtest.Recorder{}
	startChat(t, fixtureKit(t, s2, nil), rec2)
	s2.script(msgs(msg(1, "RNEngagementParticipantAddedMessage", `"clientId":77,"name":"Ada","role":"LEAD"`)), "409")
	assert.Equal(t, []string{"joined(Ada)", "ended"}, rec2.Wait(2, 5*time.Second))
}

// TestFixtureJWTRenewed: a JWT about to expire is replaced by a new
// establishSessions before the next call, which carries it with the same
// SessionId, and the new one is persisted; a call refused with 401 is
// made again once with a new JWT.
func TestFixtureJWTRenewed(t *testing.T) {
	s := newSite(t, 3*time.Second)
	k := fixtureKit(t, s, func(c *oracle.Config) { c.RefreshBefore = 2500 * time.Millisecond })
	rec := &sdtest.Recorder{}
	sd := startChat(t, k, rec)
	first := rec.State()["jwt"]
	require.NotEmpty(t, first)
	time.Sleep(700 * time.Millisecond) // now within RefreshBefore of the expiry
	ctx := context.Background()
	require.NoError(t, sd.SendMessageToAgent(ctx, servicedesk.NewTextRequest("hi"), "m-1", servicedesk.AdditionalDataToAgent{}))
	post := s.requests("postMessage")
	require.Len(t, post, 1)
	assert.Equal(t, "sess-1", post[0].Session)
	renewed := rec.State()["jwt"]
	assert.NotEqual(t, first, renewed, "a new JWT persisted")
	assert.Equal(t, "Bearer "+renewed.(string), post[0].Auth, "the call carries the new JWT")
	assert.GreaterOrEqual(t, len(s.requests("establishSessions")), 2)

	n := len(s.requests("establishSessions"))
	s.mu.Lock()
	s.refuse["activity"] = 1
	s.mu.Unlock()
	require.NoError(t, sd.(servicedesk.TypingNotifier).UserTyping(ctx, true))
	assert.Len(t, s.requests("activity"), 2, "refused with 401, then sent again")
	assert.Greater(t, len(s.requests("establishSessions")), n, "with a new JWT")
}
