package salesforceface

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// Options configures a Face.
type Options struct {
	// OrgID and DeveloperName are what token requests must name.
	OrgID         string
	DeveloperName string
	// TokenTTL is the lifetime of an access token. Default 1 h.
	TokenTTL time.Duration
}

// Face serves the Messaging for In-App and Web API over a mock desk.
type Face struct {
	d    *mockdesk.Desk
	opts Options
	mux  *http.ServeMux

	mu     sync.Mutex
	tokens map[string]string          // access token → subject
	convs  map[string]*conversation   // conversation id → its chat
	bySub  map[string][]*conversation // subject → conversations
	agents map[string]servicedesk.AgentProfile
}

type conversation struct {
	id, subject string
	chat        *mockdesk.CustomerChat
}

// New returns a Face for d.
func New(d *mockdesk.Desk, opts Options) *Face {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	f := &Face{d: d, opts: opts, mux: http.NewServeMux(), tokens: map[string]string{}, convs: map[string]*conversation{},
		bySub: map[string][]*conversation{}, agents: map[string]servicedesk.AgentProfile{}}
	const v2 = "/iamessage/api/v2"
	f.mux.HandleFunc("POST "+v2+"/authorization/unauthenticated/access-token", f.token(false))
	f.mux.HandleFunc("POST "+v2+"/authorization/authenticated/access-token", f.token(true))
	f.mux.HandleFunc("GET "+v2+"/authorization/continuation-access-token", f.authed(f.continuation))
	f.mux.HandleFunc("POST "+v2+"/conversation", f.authed(f.create))
	f.mux.HandleFunc("GET "+v2+"/conversation/list", f.authed(f.list))
	f.mux.HandleFunc("POST "+v2+"/conversation/{id}/message", f.authed(f.conv(f.message)))
	f.mux.HandleFunc("POST "+v2+"/conversation/{id}/entry", f.authed(f.conv(f.entry)))
	f.mux.HandleFunc("POST "+v2+"/conversation/{id}/acknowledge-entries", f.authed(f.conv(f.ack)))
	f.mux.HandleFunc("GET "+v2+"/conversation/{id}/entries", f.authed(f.conv(f.entries)))
	f.mux.HandleFunc("DELETE "+v2+"/conversation/{id}", f.authed(f.conv(f.close)))
	f.mux.HandleFunc("GET /eventrouter/v1/sse", f.sse)
	// The rest is the desk's own: its console and control API.
	f.mux.Handle("/", d)
	return f
}

// ServeHTTP serves the API.
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns the whole profile of an agent by the subject the face
// shows for it (a directory outside the desk, as a kit's
// Config.AgentProfile would read).
func (f *Face) Agent(subject string) (servicedesk.AgentProfile, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.agents[subject]
	return p, ok
}

func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "error": http.StatusText(status), "message": msg})
}

// faulted answers a request the desk's REST faults refuse.
func (f *Face) faulted(w http.ResponseWriter, r *http.Request) bool {
	err := f.d.RequestFault(r.Context(), mockdesk.SiteREST)
	if err == nil {
		return false
	}
	var fe *mockdesk.FaultError
	if errors.As(err, &fe) {
		w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
		if errors.Is(err, mockdesk.ErrRateLimited) {
			fail(w, http.StatusTooManyRequests, "Too Many Requests")
		} else {
			fail(w, http.StatusServiceUnavailable, "Service Unavailable")
		}
		return true
	}
	fail(w, http.StatusServiceUnavailable, err.Error())
	return true
}

// mint makes an access token for subject: JWT-shaped, with sub and exp.
func (f *Face) mint(subject string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	enc := base64.RawURLEncoding
	claims, _ := json.Marshal(map[string]any{"sub": subject, "exp": time.Now().Add(f.opts.TokenTTL).Unix(), "jti": enc.EncodeToString(b)})
	tok := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString(b)
	f.mu.Lock()
	f.tokens[tok] = subject
	f.mu.Unlock()
	return tok
}

func (f *Face) token(authenticated bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.faulted(w, r) {
			return
		}
		var req struct {
			OrgID                 string `json:"orgId"`
			ESDeveloperName       string `json:"esDeveloperName"`
			CapabilitiesVersion   string `json:"capabilitiesVersion"`
			Platform              string `json:"platform"`
			AuthorizationType     string `json:"authorizationType"`
			CustomerIdentityToken string `json:"customerIdentityToken"`
		}
		if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req) != nil || req.CapabilitiesVersion == "" || req.Platform == "" {
			fail(w, http.StatusBadRequest, "orgId, esDeveloperName, capabilitiesVersion and platform are required")
			return
		}
		if req.OrgID != f.opts.OrgID || req.ESDeveloperName != f.opts.DeveloperName {
			fail(w, http.StatusBadRequest, "no Custom Client deployment "+req.ESDeveloperName+" in org "+req.OrgID)
			return
		}
		subject := "guest-" + f.mintID()
		if authenticated {
			sub, ok := identitySubject(req.CustomerIdentityToken)
			if req.AuthorizationType != "JWT" || !ok {
				fail(w, http.StatusUnauthorized, "user verification failed: a JWT identity token with a sub claim is required")
				return
			}
			subject = "verified-" + sub
		}
		facekit.WriteJSON(w, http.StatusOK, map[string]any{"accessToken": f.mint(subject), "lastEventId": "0",
			"context": map[string]any{"configuration": map[string]any{"embeddedServiceConfig": map[string]any{"name": f.opts.DeveloperName, "deploymentType": "api"}}}})
	}
}

func (f *Face) mintID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// identitySubject reads the sub claim of an identity JWT (the face checks
// no signature: the keyset is the org's).
func identitySubject(tok string) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var c struct {
		Sub string `json:"sub"`
	}
	return c.Sub, json.Unmarshal(b, &c) == nil && c.Sub != ""
}

// authed checks the bearer token and the desk's faults.
func (f *Face) authed(h func(w http.ResponseWriter, r *http.Request, subject string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		subject, ok := f.subject(r)
		if !ok {
			fail(w, http.StatusUnauthorized, "Jwt is expired or invalid")
			return
		}
		if f.faulted(w, r) {
			return
		}
		h(w, r, subject)
	}
}

func (f *Face) subject(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	f.mu.Lock()
	sub, ok := f.tokens[tok]
	f.mu.Unlock()
	if !ok {
		return "", false
	}
	parts := strings.Split(tok, ".")
	if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
		var c struct {
			Exp int64 `json:"exp"`
		}
		if json.Unmarshal(b, &c) == nil && time.Now().Unix() > c.Exp {
			return "", false
		}
	}
	return sub, true
}

func (f *Face) continuation(w http.ResponseWriter, r *http.Request, subject string) {
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"accessToken": f.mint(subject), "lastEventId": "0"})
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (f *Face) create(w http.ResponseWriter, r *http.Request, subject string) {
	var req struct {
		ConversationID    string            `json:"conversationId"`
		ESDeveloperName   string            `json:"esDeveloperName"`
		RoutingAttributes map[string]string `json:"routingAttributes"`
	}
	if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req) != nil || !uuidRE.MatchString(req.ConversationID) || req.ESDeveloperName != f.opts.DeveloperName {
		fail(w, http.StatusBadRequest, "conversationId must be a lowercase UUID and esDeveloperName the deployment's")
		return
	}
	f.mu.Lock()
	_, exists := f.convs[req.ConversationID]
	f.mu.Unlock()
	if exists {
		fail(w, http.StatusConflict, "a conversation with this id exists")
		return
	}
	chat, err := f.d.StartCustomerChat(r.Context(), mockdesk.ChatStart{
		Customer:   deskproto.Customer{ID: subject},
		Summary:    req.RoutingAttributes["Summary"],
		Attributes: req.RoutingAttributes,
	})
	if err != nil {
		fail(w, http.StatusServiceUnavailable, mockdesk.Reason(err))
		return
	}
	c := &conversation{id: req.ConversationID, subject: subject, chat: chat}
	f.mu.Lock()
	f.convs[c.id] = c
	f.bySub[subject] = append(f.bySub[subject], c)
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusCreated, nil)
}

// conv finds the path's conversation among the subject's.
func (f *Face) conv(h func(w http.ResponseWriter, r *http.Request, c *conversation)) func(w http.ResponseWriter, r *http.Request, subject string) {
	return func(w http.ResponseWriter, r *http.Request, subject string) {
		f.mu.Lock()
		c := f.convs[r.PathValue("id")]
		f.mu.Unlock()
		if c == nil || c.subject != subject {
			fail(w, http.StatusNotFound, "conversation not found")
			return
		}
		h(w, r, c)
	}
}

func (f *Face) list(w http.ResponseWriter, r *http.Request, subject string) {
	closed := r.URL.Query().Get("inclClosedConvs") == "true"
	f.mu.Lock()
	convs := append([]*conversation(nil), f.bySub[subject]...)
	f.mu.Unlock()
	var out []map[string]any
	open, shut := 0, 0
	for _, c := range convs {
		info, err := c.chat.Info(r.Context())
		ended := err != nil || info.State == mockdesk.StateEnded
		if ended {
			shut++
		} else {
			open++
		}
		if !ended || closed {
			out = append(out, map[string]any{"conversationId": c.id, "startTimestamp": 0, "endTimestamp": 0})
		}
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"openConversationsFound": open, "closedConversationsFound": shut, "conversations": out})
}

// status maps a desk error to the API's answer.
func status(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, mockdesk.ErrChatEnded):
		fail(w, http.StatusExpectationFailed, "no active messaging session")
	case errors.Is(err, mockdesk.ErrIdempotencyReused):
		fail(w, http.StatusConflict, "an entry with this id exists")
	case errors.Is(err, mockdesk.ErrMessageRejected), errors.Is(err, mockdesk.ErrBadRequest):
		fail(w, http.StatusBadRequest, mockdesk.Reason(err))
	case errors.Is(err, mockdesk.ErrUnavailable):
		fail(w, http.StatusServiceUnavailable, "Service Unavailable")
	default:
		fail(w, http.StatusInternalServerError, err.Error())
	}
}

func (f *Face) message(w http.ResponseWriter, r *http.Request, c *conversation) {
	var req struct {
		Message struct {
			ID            string `json:"id"`
			MessageType   string `json:"messageType"`
			StaticContent struct {
				FormatType string `json:"formatType"`
				Text       string `json:"text"`
			} `json:"staticContent"`
		} `json:"message"`
		ESDeveloperName string `json:"esDeveloperName"`
	}
	if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req) != nil || req.Message.ID == "" || req.Message.MessageType != "StaticContentMessage" {
		fail(w, http.StatusBadRequest, "message.id and a StaticContentMessage are required")
		return
	}
	res, err := c.chat.Send(r.Context(), deskproto.Message{IdempotencyKey: req.Message.ID,
		Message: servicedesk.MessageRequest{Input: servicedesk.MessageInput{Text: req.Message.StaticContent.Text}}})
	if err != nil {
		status(w, err)
		return
	}
	facekit.WriteJSON(w, http.StatusAccepted, map[string]any{"conversationEntries": []any{map[string]any{"id": req.Message.ID, "clientTimestamp": res.CreatedAt.UnixMilli()}}})
}

func (f *Face) entry(w http.ResponseWriter, r *http.Request, c *conversation) {
	var req struct {
		EntryType string `json:"entryType"`
		ID        string `json:"id"`
	}
	_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req)
	var err error
	switch req.EntryType {
	case "TypingStartedIndicator":
		err = c.chat.Typing(r.Context(), true)
	case "TypingStoppedIndicator":
		err = c.chat.Typing(r.Context(), false)
	default:
		fail(w, http.StatusBadRequest, "unknown entryType "+req.EntryType)
		return
	}
	if err != nil {
		status(w, err)
		return
	}
	facekit.WriteJSON(w, http.StatusAccepted, nil)
}

func (f *Face) ack(w http.ResponseWriter, r *http.Request, c *conversation) {
	var req struct {
		Acks []struct {
			ID                  string `json:"id"`
			EntryType           string `json:"entryType"`
			ConversationEntryID string `json:"conversationEntryId"`
		} `json:"acks"`
	}
	if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req) != nil {
		fail(w, http.StatusBadRequest, "acks are required")
		return
	}
	for _, a := range req.Acks {
		if a.EntryType != "Read" {
			continue // deliveries change nothing an agent sees here
		}
		if err := c.chat.Read(r.Context(), a.ConversationEntryID); err != nil {
			status(w, err)
			return
		}
	}
	facekit.WriteJSON(w, http.StatusAccepted, nil)
}

func (f *Face) close(w http.ResponseWriter, r *http.Request, c *conversation) {
	if r.URL.Query().Get("esDeveloperName") != f.opts.DeveloperName {
		fail(w, http.StatusBadRequest, "esDeveloperName is required")
		return
	}
	if err := c.chat.End(r.Context()); err != nil && !errors.Is(err, mockdesk.ErrChatEnded) {
		status(w, err)
		return
	}
	facekit.WriteJSON(w, http.StatusNoContent, nil)
}

// entries lists the conversation's entries (messages, participant changes,
// routing results), filtered by startTimestamp, in direction order.
func (f *Face) entries(w http.ResponseWriter, r *http.Request, c *conversation) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 50 {
		limit = 20
	}
	start, _ := strconv.ParseInt(q.Get("startTimestamp"), 10, 64)
	var all []map[string]any
	var after uint64
	r2 := newRenderer(f)
	for {
		page, err := c.chat.Events(r.Context(), after, 0)
		if err != nil {
			status(w, err)
			return
		}
		for _, e := range page.Events {
			for _, en := range r2.render(c, e) {
				if en.listed && en.ts >= start {
					all = append(all, en.object())
				}
			}
			after = e.Seq
		}
		if len(page.Events) == 0 {
			break
		}
	}
	if q.Get("direction") != "FromStart" {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	if len(all) > limit {
		all = all[:limit]
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"conversationEntries": all})
}
