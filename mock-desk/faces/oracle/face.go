package oracleface

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// Paths of the API the face serves.
const (
	EstablishPath  = "/services/rest/crossChannelServices/latest/establishSessions"
	consumerPrefix = "/engagement/api/consumer/"
)

// Options configures a Face.
type Options struct {
	// User and Password are the chat API user's Basic credentials that
	// establishSessions wants.
	User, Password string
	// SiteName is the fully qualified site name in the consumer API's
	// paths. Default "mock_site".
	SiteName string
	// Pool is the pool id of the session server. Default "100:1".
	Pool string
	// TokenTTL is the lifetime of a JWT. Default 1 h.
	TokenTTL time.Duration
	// Hold is how long getMessages waits for messages. Default 30 s, the
	// documented maximum.
	Hold time.Duration
}

// Face serves Oracle B2C Service chat's establishSessions and consumer
// engagement API over a mock desk.
type Face struct {
	d    *mockdesk.Desk
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	tokens   map[string]token    // JWT → what establishSessions was told
	sessions map[string]*session // SessionId → its engagement
	nextID   int64

	agents  facekit.Directory // by clientId
	cmu     sync.Mutex
	clients map[string]int64 // agent id → its clientId
}

type token struct {
	expires time.Time
	info    sessionInformation
}

// sessionInformation is establishSessions' sessionInformation (a JSON
// string in the request): the attributes of the About Establish Sessions
// page that the face uses.
type sessionInformation struct {
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	EmailAddress string `json:"emailAddress"`
	QueueID      int64  `json:"queueId"`
	InterfaceID  int64  `json:"interfaceId"`
	Question     string `json:"question"`
	CustomFields []struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"customFields"`
}

// session is one consumer session: a mock-desk chat, the engagement's
// sequence of system messages, and where its getMessages answers are.
type session struct {
	id           string
	engagementID int64
	clientID     int64
	chat         *mockdesk.CustomerChat

	serve     sync.Mutex // one getMessages answer is made at a time
	mu        sync.Mutex
	cursor    uint64 // the desk's last event answered
	seq       int64  // the last sequenceNumber given
	agent     int64  // the clientId of the agent in the chat
	inFlight  int
	peak      int
	concluded bool
}

// New returns a Face for d.
func New(d *mockdesk.Desk, opts Options) *Face {
	if opts.SiteName == "" {
		opts.SiteName = "mock_site"
	}
	if opts.Pool == "" {
		opts.Pool = "100:1"
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.Hold <= 0 {
		opts.Hold = 30 * time.Second
	}
	f := &Face{d: d, opts: opts, mux: http.NewServeMux(), tokens: map[string]token{}, sessions: map[string]*session{},
		clients: map[string]int64{}, nextID: 1000}
	f.agents.Key = func(p servicedesk.AgentProfile) string {
		f.cmu.Lock()
		defer f.cmu.Unlock()
		return strconv.FormatInt(f.clients[p.ID], 10)
	}
	f.mux.HandleFunc("POST "+EstablishPath, f.establish)
	v1 := consumerPrefix + opts.SiteName + "/v1/"
	f.mux.HandleFunc("POST "+v1+"requestEngagement", f.consumer(false, f.requestEngagement))
	f.mux.HandleFunc("POST "+v1+"getMessages", f.consumer(true, f.getMessages))
	f.mux.HandleFunc("POST "+v1+"postMessage", f.consumer(true, f.postMessage))
	f.mux.HandleFunc("POST "+v1+"activity", f.consumer(true, f.activity))
	f.mux.HandleFunc("POST "+v1+"concludeEngagement", f.consumer(true, f.conclude))
	f.mux.HandleFunc("GET "+v1+"getQueueStats", f.consumer(false, f.queueStats))
	f.mux.Handle("/", d) // the desk's own: its console and control API
	return f
}

// ServeHTTP serves the API.
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns the whole profile of the agent the face shows as clientId
// (a directory outside the desk, as a kit's agent profile lookup reads).
func (f *Face) Agent(clientID string) (servicedesk.AgentProfile, bool) {
	return f.agents.Lookup(clientID)
}

// PeakGetMessages returns the most getMessages requests of session
// sessionID that were in flight at once (the documented rule is one).
func (f *Face) PeakGetMessages(sessionID string) int {
	f.mu.Lock()
	s := f.sessions[sessionID]
	f.mu.Unlock()
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// fail answers an error in the face's form: the status and a JSON body
// with errorCode and message (the consumer API's error body is not on the
// pages the face follows: inferred).
func fail(w http.ResponseWriter, status int, code, msg string) {
	facekit.WriteJSON(w, status, map[string]any{"errorCode": code, "message": msg})
}

// faulted answers a request that the desk's faults of site refuse.
func (f *Face) faulted(w http.ResponseWriter, r *http.Request, site mockdesk.FaultSite) bool {
	err := f.d.RequestFault(r.Context(), site)
	if err == nil {
		return false
	}
	var fe *mockdesk.FaultError
	if errors.As(err, &fe) {
		w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
		if errors.Is(err, mockdesk.ErrRateLimited) {
			fail(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Too Many Requests")
		} else {
			fail(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "Service Unavailable")
		}
		return true
	}
	fail(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", err.Error())
	return true
}

// deskError answers an error of the desk's customer side.
func deskError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, mockdesk.ErrChatEnded):
		fail(w, http.StatusConflict, "CONFLICT", "The engagement has been concluded.")
	case errors.Is(err, mockdesk.ErrChatNotFound), errors.Is(err, mockdesk.ErrUnauthorized):
		fail(w, http.StatusNotFound, "NOT_FOUND", "No such session.")
	case errors.Is(err, mockdesk.ErrUnavailable), errors.Is(err, mockdesk.ErrClosed):
		fail(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", err.Error())
	case errors.Is(err, mockdesk.ErrMessageRejected):
		fail(w, http.StatusBadRequest, "INVALID_FIELD", err.Error())
	default:
		fail(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// mint makes a JWT-shaped token with an exp claim, for info.
func (f *Face) mint(info sessionInformation) string {
	enc := base64.RawURLEncoding
	exp := time.Now().Add(f.opts.TokenTTL)
	claims, _ := json.Marshal(map[string]any{"exp": exp.Unix(), "jti": randomHex(8), "site": f.opts.SiteName})
	tok := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(claims) + "." + randomHex(8)
	f.mu.Lock()
	f.tokens[tok] = token{expires: exp, info: info}
	f.mu.Unlock()
	return tok
}

// establish serves establishSessions: Basic authentication, a body whose
// sessionInformation is a JSON string, and an answer with the JWT and the
// chat session server (sessionServerResponse, itself a JSON string).
func (f *Face) establish(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != f.opts.User || pass != f.opts.Password {
		fail(w, http.StatusUnauthorized, "UNAUTHORIZED", "Access Denied: the chat API user or password is wrong.")
		return
	}
	if f.faulted(w, r, mockdesk.SiteREST) {
		return
	}
	var req struct {
		SessionInformation string `json:"sessionInformation"`
	}
	var info sessionInformation
	if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req) != nil ||
		(req.SessionInformation != "" && json.Unmarshal([]byte(req.SessionInformation), &info) != nil) {
		fail(w, http.StatusBadRequest, "BAD_REQUEST", "sessionInformation must be a JSON object in a string")
		return
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, ""
	}
	server := map[string]any{"domain": host, "pool": f.opts.Pool}
	if p, err := strconv.Atoi(port); err == nil {
		server["port"] = p
	}
	ssr, _ := json.Marshal(server)
	tok := f.mint(info)
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"jwt": tok, "channelToken": tok, "siteName": f.opts.SiteName,
		"sessionServerResponse": string(ssr), "sessionId": randomHex(16)})
}

// consumer checks a consumer call: its Bearer JWT, its pool and, when
// sessional, its SessionId header; then the desk's REST faults (the
// held getMessages applies the poll faults itself).
func (f *Face) consumer(sessional bool, h func(w http.ResponseWriter, r *http.Request, t token, s *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		t, ok := f.tokens[bearer]
		s := f.sessions[r.Header.Get("SessionId")]
		f.mu.Unlock()
		if !ok || time.Now().After(t.expires) {
			fail(w, http.StatusUnauthorized, "ACCESS_DENIED", "The JWT is expired or invalid.")
			return
		}
		if r.URL.Query().Get("pool") != f.opts.Pool {
			fail(w, http.StatusBadRequest, "INVALID_FIELD", "pool "+r.URL.Query().Get("pool")+" is not this server's")
			return
		}
		if sessional && s == nil {
			fail(w, http.StatusNotFound, "NOT_FOUND", "No such session.")
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/getMessages") && f.faulted(w, r, mockdesk.SiteREST) {
			return
		}
		h(w, r, t, s)
	}
}

// requestEngagement starts the chat with what establishSessions was told:
// the customer's name, the question as the agent's summary, the custom
// fields as the contact's attributes.
func (f *Face) requestEngagement(w http.ResponseWriter, r *http.Request, t token, _ *session) {
	var req struct {
		ClientTransactionID int64 `json:"clientTransactionId"`
	}
	if err := decode(r, &req); err != nil {
		fail(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
		return
	}
	attrs := map[string]string{}
	for _, c := range t.info.CustomFields {
		attrs[c.Name] = c.Value
	}
	if t.info.EmailAddress != "" {
		attrs["emailAddress"] = t.info.EmailAddress
	}
	name := strings.TrimSpace(t.info.FirstName + " " + t.info.LastName)
	cc, err := f.d.StartCustomerChat(r.Context(), mockdesk.ChatStart{
		Customer: deskproto.Customer{ID: t.info.EmailAddress, Name: name}, Summary: t.info.Question, Attributes: attrs})
	if err != nil {
		deskError(w, err)
		return
	}
	f.mu.Lock()
	f.nextID++
	s := &session{id: randomHex(16), engagementID: f.nextID, clientID: f.nextID + 500000, chat: cc}
	f.sessions[s.id] = s
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusOK, map[string]any{
		"engagementId": s.engagementID, "engagementIdString": strconv.FormatInt(s.engagementID, 10),
		"sessionId": s.id, "clientId": s.clientID, "clientIdString": strconv.FormatInt(s.clientID, 10),
		"resultType": "SUCCESS", "clientTransactionId": req.ClientTransactionID, "cancelledSurveyId": 0})
}

func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("the body is not the operation's JSON object: " + err.Error())
	}
	return nil
}

// postMessage stores the end user's message. Its messageId names it for
// the agent side (clientTransactionId, a number, when there is none); the documents promise no deduplication by it,
// and the face makes none.
func (f *Face) postMessage(w http.ResponseWriter, r *http.Request, _ token, s *session) {
	var req struct {
		Body                string `json:"body"`
		ClientTransactionID int64  `json:"clientTransactionId"`
		MessageID           string `json:"messageId"`
		RichText            bool   `json:"richText"`
	}
	if err := decode(r, &req); err != nil || req.Body == "" {
		fail(w, http.StatusBadRequest, "INVALID_FIELD", "body is required")
		return
	}
	msg := servicedesk.NewTextRequest(req.Body)
	switch {
	case req.MessageID != "":
		msg.ID = req.MessageID // the client's own id for its message
	case req.ClientTransactionID != 0:
		msg.ID = strconv.FormatInt(req.ClientTransactionID, 10)
	}
	if _, err := s.chat.Send(r.Context(), deskproto.Message{Message: msg}); err != nil {
		deskError(w, err)
		return
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"clientTransactionId": req.ClientTransactionID,
		"messageId": "m" + randomHex(6), "createdTime": time.Now().UTC().Format(time.RFC3339Nano)})
}

// activity is the end user's interaction activity: RESPONDING is typing.
func (f *Face) activity(w http.ResponseWriter, r *http.Request, _ token, s *session) {
	var req struct {
		Mode string `json:"mode"`
	}
	if err := decode(r, &req); err != nil {
		fail(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
		return
	}
	switch req.Mode {
	case "RESPONDING", "LISTENING", "NONE", "ABSENT":
	default:
		fail(w, http.StatusBadRequest, "INVALID_FIELD", "mode "+req.Mode+" is not an activity")
		return
	}
	if err := s.chat.Typing(r.Context(), req.Mode == "RESPONDING"); err != nil {
		deskError(w, err)
		return
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{})
}

// conclude ends the engagement as the end user.
func (f *Face) conclude(w http.ResponseWriter, r *http.Request, _ token, s *session) {
	if err := s.chat.End(r.Context()); err != nil && !errors.Is(err, mockdesk.ErrChatEnded) {
		deskError(w, err)
		return
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"sessionId": s.id})
}

// queueStats answers getQueueStats: the request query parameter is a URL
// encoded JSON object; availableAgentSessions counts the agents online.
func (f *Face) queueStats(w http.ResponseWriter, r *http.Request, _ token, _ *session) {
	var req struct {
		QueueID                    int64  `json:"queueId"`
		ChatProactiveAvailableType string `json:"chatProactiveAvailableType"`
	}
	if err := json.Unmarshal([]byte(r.URL.Query().Get("request")), &req); err != nil {
		fail(w, http.StatusBadRequest, "BAD_REQUEST", "request must be a URL encoded JSON object")
		return
	}
	a, err := f.d.Availability(r.Context())
	if err != nil {
		deskError(w, err)
		return
	}
	n := 0
	if a.Online {
		n = max(a.AgentsOnline, 1)
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"availableAgentSessions": n, "expectedWaitSeconds": a.WaitMinutes * 60,
		"queueId": req.QueueID})
}
