package livechatface

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// Face is a LiveChat Customer Chat API face on a Desk: an http.Handler.
type Face struct {
	d    *mockdesk.Desk
	opts Options
	mux  *http.ServeMux

	mu        sync.Mutex
	customers map[string]*customer // by entity id
	tokens    map[string]*token    // by access token
	chats     map[string]*lcChat   // by LiveChat chat id
	uploads   map[string]*upload   // by URL
	agents    facekit.Directory    // by agent id
}

// Options configure a Face.
type Options struct {
	// OrganizationID is the only organization the face serves. Default:
	// any.
	OrganizationID string
	// ClientID is the only app the token grant accepts. Default: any.
	ClientID string
	// AgentToken is the agent access token the token grant accepts.
	// Default: any non-empty one.
	AgentToken string
	// TokenTTL is a customer access token's lifetime. Default 8 h
	// (LiveChat's 28800 s).
	TokenTTL time.Duration
	// LoginTimeout closes a connection that has not logged in. Default
	// 30 s.
	LoginTimeout time.Duration
}

type token struct {
	c       *customer
	expires time.Time
}

// customer is one customer identity; mu is held while one of its
// requests runs, whichever connection it comes on.
type customer struct {
	mu     sync.Mutex
	id     string
	name   string
	fields map[string]string // session fields, flattened
	chat   *lcChat           // the customer's chat, nil until the first
}

// lcChat is a LiveChat chat: each thread is one desk chat.
type lcChat struct {
	id      string
	threads []*thread
}

func (c *lcChat) current() *thread { return c.threads[len(c.threads)-1] }

type thread struct {
	id     string
	cc     *mockdesk.CustomerChat
	mu     sync.Mutex
	events []map[string]any // the customer's own events, as sent
}

type upload struct {
	id, name, ctype string
	c               *customer
}

// New puts a LiveChat face on d.
func New(d *mockdesk.Desk, opts Options) *Face {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 8 * time.Hour
	}
	if opts.LoginTimeout <= 0 {
		opts.LoginTimeout = 30 * time.Second
	}
	f := &Face{d: d, opts: opts, customers: map[string]*customer{}, tokens: map[string]*token{},
		chats: map[string]*lcChat{}, uploads: map[string]*upload{},
		agents: facekit.Directory{Key: func(p servicedesk.AgentProfile) string { return p.ID }}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/customer/token", f.tokenGrant)
	mux.HandleFunc("GET /v3.6/customer/rtm/ws", f.websocket)
	mux.HandleFunc("POST /v3.6/customer/action/list_group_statuses", f.webGroupStatuses)
	mux.HandleFunc("POST /v3.6/customer/action/upload_file", f.uploadFile)
	mux.Handle("/", d)
	f.mux = mux
	return f
}

// ServeHTTP serves the LiveChat face, and the Desk for every other path.
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns an agent's whole profile by id.
func (f *Face) Agent(id string) (servicedesk.AgentProfile, bool) { return f.agents.Lookup(id) }

// ExpireTokens makes every customer access token issued so far expired
// (tests of the refresh).
func (f *Face) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tokens {
		t.expires = time.Now().Add(-time.Second)
	}
}

// tokenGrant is the agent token grant: a new customer identity, or a new
// token for entity_id.
func (f *Face) tokenGrant(w http.ResponseWriter, r *http.Request) {
	if err := f.d.RequestFault(r.Context(), mockdesk.SiteREST); err != nil {
		restFault(w, err, func(status int, msg string) any {
			return map[string]string{"error": "temporarily_unavailable", "error_description": msg}
		})
		return
	}
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if bearer == "" || (f.opts.AgentToken != "" && bearer != f.opts.AgentToken) {
		facekit.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "Invalid agent access token."})
		return
	}
	var req struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ResponseType string `json:"response_type"`
		EntityID     string `json:"entity_id"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil || req.GrantType != "agent_token" || req.ResponseType != "token" || req.ClientID == "" {
		facekit.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "grant_type agent_token, response_type token and client_id are required."})
		return
	}
	if f.opts.ClientID != "" && req.ClientID != f.opts.ClientID {
		facekit.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client", "error_description": "Unknown client_id."})
		return
	}
	f.mu.Lock()
	c := f.customers[req.EntityID]
	if c == nil && req.EntityID != "" {
		f.mu.Unlock()
		facekit.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Unknown entity_id."})
		return
	}
	if c == nil {
		c = &customer{id: facekit.NewID("", 16)}
		f.customers[c.id] = c
	}
	tok := "dal:" + facekit.NewID("", 18)
	f.tokens[tok] = &token{c: c, expires: time.Now().Add(f.opts.TokenTTL)}
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"access_token": tok, "client_id": req.ClientID, "entity_id": c.id,
		"expires_in": int(f.opts.TokenTTL / time.Second), "token_type": "Bearer", "organization_id": f.opts.OrganizationID})
}

// customerOf is the customer whose access token r (or a login) carries;
// expired says the token was good once.
func (f *Face) customerOf(tok string) (c *customer, expired bool) {
	tok, _ = strings.CutPrefix(tok, "Bearer ")
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tokens[tok]
	if t == nil {
		return nil, false
	}
	if time.Now().After(t.expires) {
		return nil, true
	}
	return t.c, false
}

// webAuth checks a Web API call's organization and token, answering it
// when they are wrong.
func (f *Face) webAuth(w http.ResponseWriter, r *http.Request) *customer {
	if org := r.URL.Query().Get("organization_id"); org == "" || (f.opts.OrganizationID != "" && org != f.opts.OrganizationID) {
		webError(w, http.StatusBadRequest, "validation", "Wrong organization_id.")
		return nil
	}
	if err := f.d.RequestFault(r.Context(), mockdesk.SiteREST); err != nil {
		restFault(w, err, func(status int, msg string) any { return errorBody(faultType(status), msg) })
		return nil
	}
	c, _ := f.customerOf(r.Header.Get("Authorization"))
	if c == nil {
		webError(w, http.StatusUnauthorized, "authentication", "Invalid access token.")
		return nil
	}
	return c
}

// webGroupStatuses is the Web API's list_group_statuses.
func (f *Face) webGroupStatuses(w http.ResponseWriter, r *http.Request) {
	if f.webAuth(w, r) == nil {
		return
	}
	var req groupStatusesRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		webError(w, http.StatusBadRequest, "validation", "Wrong format of request.")
		return
	}
	out, err := f.groupStatuses(r.Context(), req)
	if err != nil {
		webError(w, http.StatusServiceUnavailable, "service_unavailable", err.Error())
		return
	}
	facekit.WriteJSON(w, http.StatusOK, out)
}

type groupStatusesRequest struct {
	All      bool  `json:"all"`
	GroupIDs []int `json:"group_ids"`
}

// groupStatuses answers for group 0, the only group: online while the
// desk has an agent online.
func (f *Face) groupStatuses(ctx context.Context, req groupStatusesRequest) (map[string]any, error) {
	av, err := f.d.Availability(ctx)
	if err != nil {
		return nil, err
	}
	status := "offline"
	if av.Online {
		status = "online"
	}
	groups := map[string]string{}
	if req.All || len(req.GroupIDs) == 0 {
		groups["0"] = status
	}
	for _, g := range req.GroupIDs {
		if g == 0 {
			groups["0"] = status
		}
	}
	return map[string]any{"groups_status": groups}, nil
}

// uploadFile is the Web API's upload_file: multipart "file", at most
// 10 MB, executables refused. The desk checks the file against the
// customer's current chat; a refused one is recorded as the customer's
// message with that file.
func (f *Face) uploadFile(w http.ResponseWriter, r *http.Request) {
	c := f.webAuth(w, r)
	if c == nil {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 10<<20+1<<16)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			webError(w, http.StatusRequestEntityTooLarge, "entity_too_large", "Upload limit exceeded (10MB).")
			return
		}
		webError(w, http.StatusBadRequest, "validation", "The file field is required.")
		return
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		webError(w, http.StatusRequestEntityTooLarge, "entity_too_large", "Upload limit exceeded (10MB).")
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chat == nil {
		webError(w, http.StatusBadRequest, "chat_inactive", "The customer has no active chat.")
		return
	}
	cc := c.chat.current().cc
	name, ctype := hdr.Filename, hdr.Header.Get("Content-Type")
	id := facekit.NewID("f", 8)
	var caps servicedesk.Capabilities
	if info, err := cc.Info(r.Context()); err == nil && info.Capabilities != nil {
		caps = *info.Capabilities
	}
	accepted, _ := caps.Accepts(name, ctype, int64(len(data)))
	if !accepted || executable(name) {
		// The desk records the refused file with its message.
		_, err := cc.Send(r.Context(), deskMessage(id, "", []string{id}))
		if err == nil {
			_, err = cc.Upload(r.Context(), mockdesk.Upload{FileID: id, MessageID: id, Name: name, Type: ctype, Content: data})
		}
		if err == nil {
			err = fmt.Errorf("file %s: executable files are rejected: %w", name, mockdesk.ErrFileTypeNotAllowed)
		}
		webError(w, http.StatusBadRequest, "validation", mockdesk.Reason(err))
		return
	}
	if _, err := cc.Upload(r.Context(), mockdesk.Upload{FileID: id, Name: name, Type: ctype, Content: data}); err != nil {
		if errors.Is(err, mockdesk.ErrUnavailable) {
			webError(w, http.StatusServiceUnavailable, "service_unavailable", "Service unavailable.")
			return
		}
		webError(w, http.StatusBadRequest, "validation", mockdesk.Reason(err))
		return
	}
	u := "https://cdn.livechat-files.example/api/file/lc/att/" + id + "/" + strings.ReplaceAll(name, "/", "_")
	f.mu.Lock()
	f.uploads[u] = &upload{id: id, name: name, ctype: ctype, c: c}
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusOK, map[string]string{"url": u})
}

func executable(name string) bool {
	n := strings.ToLower(name)
	for _, ext := range []string{".exe", ".bat", ".cmd", ".com", ".msi", ".scr", ".vbs", ".dll"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

func errorBody(typ, msg string) map[string]any {
	return map[string]any{"error": map[string]string{"type": typ, "message": msg}}
}

func webError(w http.ResponseWriter, status int, typ, msg string) {
	facekit.WriteJSON(w, status, errorBody(typ, msg))
}

func faultType(status int) string {
	if status == http.StatusTooManyRequests {
		return "too_many_requests"
	}
	return "service_unavailable"
}

// restFault answers a request the desk's faults refused, 429 or 503 with
// Retry-After, in the body shape body makes.
func restFault(w http.ResponseWriter, err error, body func(status int, msg string) any) {
	status := http.StatusServiceUnavailable
	var fe *mockdesk.FaultError
	if errors.As(err, &fe) {
		w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
		if errors.Is(err, mockdesk.ErrRateLimited) {
			status = http.StatusTooManyRequests
		}
	}
	facekit.WriteJSON(w, status, body(status, http.StatusText(status)))
}
