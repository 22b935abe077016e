package egainface

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// Face is an eGain chat face on a Desk: an http.Handler.
type Face struct {
	d    *mockdesk.Desk
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*session // by sessionId
	agents   facekit.Directory   // by agentName
}

// Options configure a Face.
type Options struct {
	// EntryPointID is the only entry point the face knows. Default "1000".
	EntryPointID string
	// CustomerID is the tenant's customer id, whose base64 every
	// initialize carries as its Authorization. Default: any.
	CustomerID string
	// SummaryAttribute is the attribute holding the agent's summary.
	// Default "summary".
	SummaryAttribute string
}

// session is one relay session: its chat, once initialized.
type session struct {
	id, user, token string
	chat            *mockdesk.CustomerChat
}

// New puts an eGain chat face on d.
func New(d *mockdesk.Desk, opts Options) *Face {
	if opts.EntryPointID == "" {
		opts.EntryPointID = "1000"
	}
	if opts.SummaryAttribute == "" {
		opts.SummaryAttribute = "summary"
	}
	f := &Face{d: d, opts: opts, sessions: map[string]*session{},
		agents: facekit.Directory{Key: func(p servicedesk.AgentProfile) string { return agentName(p) }}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system/egain/chat/entrypoint/agentAvailability/{id}", f.availability)
	mux.HandleFunc("POST /initialize", f.initialize)
	mux.HandleFunc("GET /ws", f.websocket)
	mux.Handle("/", d)
	f.mux = mux
	return f
}

// ServeHTTP serves the eGain face, and the Desk for every other path.
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns an agent's whole profile by the name customers see, as a
// directory outside eGain would (the relay tells only agentName).
func (f *Face) Agent(name string) (servicedesk.AgentProfile, bool) { return f.agents.Lookup(name) }

// agentName is the name eGain shows a customer of an agent.
func agentName(p servicedesk.AgentProfile) string {
	if p.Nickname != "" {
		return p.Nickname
	}
	return p.ID
}

// restFault answers a request the desk's REST faults refuse; true when it
// did.
func (f *Face) restFault(w http.ResponseWriter, r *http.Request) bool {
	err := f.d.RequestFault(r.Context(), mockdesk.SiteREST)
	if err == nil {
		return false
	}
	status := http.StatusServiceUnavailable
	var fe *mockdesk.FaultError
	if errors.As(err, &fe) {
		w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
		if errors.Is(err, mockdesk.ErrRateLimited) {
			status = http.StatusTooManyRequests
		}
	}
	facekit.WriteJSON(w, status, errorBody{Code: strconv.Itoa(status), Message: err.Error()})
	return true
}

type errorBody struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	RetryAfter int    `json:"retryAfter,omitempty"`
}

// availability answers the entry point's agent availability, as eGain's
// chat server does: XML.
func (f *Face) availability(w http.ResponseWriter, r *http.Request) {
	if f.restFault(w, r) {
		return
	}
	if r.PathValue("id") != f.opts.EntryPointID {
		http.Error(w, "entry point not found", http.StatusNotFound)
		return
	}
	a, err := f.d.Availability(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<agentAvailability available="` + strconv.FormatBool(a.Online) + `" xmlns:ns2="http://bindings.egain.com/chat"/>`))
}

// initRequest is initialize's body.
type initRequest struct {
	SessionID    string      `json:"sessionId"`
	UserID       string      `json:"userId"`
	EntryPointID string      `json:"entryPointId,omitempty"`
	Customer     *customer   `json:"customer,omitempty"`
	Attributes   []attribute `json:"attributes,omitempty"`
}

type customer struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

type attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// initialize starts a session's chat and answers its token; a session
// initialized before answers its token again.
func (f *Face) initialize(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r.Header.Get("Authorization")) {
		facekit.WriteJSON(w, http.StatusUnauthorized, errorBody{Code: "401", Message: "Authorization is not the customer id in base64"})
		return
	}
	if f.restFault(w, r) {
		return
	}
	var req initRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, f.d.Options().MaxBodyBytes)).Decode(&req); err != nil || req.SessionID == "" || req.UserID == "" {
		facekit.WriteJSON(w, http.StatusBadRequest, errorBody{Code: "400", Message: "sessionId and userId are required"})
		return
	}
	if req.EntryPointID != "" && req.EntryPointID != f.opts.EntryPointID {
		facekit.WriteJSON(w, http.StatusNotFound, errorBody{Code: "404", Message: "entry point " + req.EntryPointID + " not found"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock() // one initialize at a time: a retry finds the first's session
	if s, ok := f.sessions[req.SessionID]; ok {
		if s.user != req.UserID {
			facekit.WriteJSON(w, http.StatusConflict, errorBody{Code: "409", Message: "the session belongs to another user"})
			return
		}
		facekit.WriteJSON(w, http.StatusOK, map[string]string{"sessionToken": s.token})
		return
	}
	start := mockdesk.ChatStart{Customer: deskproto.Customer{ID: req.UserID}}
	if c := req.Customer; c != nil {
		start.Customer.ID, start.Customer.Name = cmp.Or(c.ID, req.UserID), c.Name
	}
	if len(req.Attributes) > 0 {
		start.Attributes = map[string]string{}
		for _, a := range req.Attributes {
			start.Attributes[a.Name] = a.Value
		}
		start.Summary = start.Attributes[f.opts.SummaryAttribute]
	}
	cc, err := f.d.StartCustomerChat(r.Context(), start)
	if err != nil {
		facekit.WriteJSON(w, http.StatusServiceUnavailable, errorBody{Code: "503", Message: err.Error()})
		return
	}
	s := &session{id: req.SessionID, user: req.UserID, token: facekit.NewID("", 16), chat: cc}
	f.sessions[req.SessionID] = s
	facekit.WriteJSON(w, http.StatusOK, map[string]string{"sessionToken": s.token})
}

func (f *Face) authorized(auth string) bool {
	id, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth))
	if err != nil || len(id) == 0 {
		return false
	}
	return f.opts.CustomerID == "" || string(id) == f.opts.CustomerID
}

// lookup returns the session of a sessionId and token.
func (f *Face) lookup(sessionID, user, token string) (*session, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[sessionID]
	if !ok || s.token != token || s.user != user {
		return nil, false
	}
	return s, true
}
