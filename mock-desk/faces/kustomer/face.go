package kustomerface

import (
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
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

// Options configure a Face.
type Options struct {
	// APIKey is the one API key accepted (Bearer). Default
	// "mock-kustomer-api-key".
	APIKey string
	// WebhookURL receives the outbound webhook's deliveries; set it later
	// with SetWebhookURL.
	WebhookURL string
	// WebhookToken is the webhook's token, the HMAC key of its
	// signatures. Default "mock-kustomer-webhook-token".
	WebhookToken string
	// Org is the org id in the event envelopes. Default
	// "5f8481c6a22ab5b9d5f2dd8a".
	Org string
	// HTTPClient posts the webhooks. Default: a 10 s timeout.
	HTTPClient *http.Client
	// RetryBase stands for Kustomer's minute between delivery tries.
	// Default 100 ms.
	RetryBase time.Duration
}

// Face serves Kustomer's chat API and webhooks in front of a mock-desk,
// and the desk itself (console, control API) on every other path.
type Face struct {
	d    *mockdesk.Desk
	opts Options
	mux  *http.ServeMux

	mu          sync.Mutex
	webhookURL  string
	customers   map[string]*customer // by id
	external    map[string]*customer // by externalId
	sessions    map[string]*session
	users       map[string]servicedesk.AgentProfile
	attachments map[string]*attachment
}

type customer struct {
	ID, ExternalID, Name, Email string
	created                     string
}

type attachment struct {
	id, name, ctype string
	length          int64
	content         []byte
	uploaded        bool
}

// New returns the face of d.
func New(d *mockdesk.Desk, opts Options) *Face {
	opts.APIKey = cmp.Or(opts.APIKey, "mock-kustomer-api-key")
	opts.WebhookToken = cmp.Or(opts.WebhookToken, "mock-kustomer-webhook-token")
	opts.Org = cmp.Or(opts.Org, "5f8481c6a22ab5b9d5f2dd8a")
	opts.RetryBase = cmp.Or(opts.RetryBase, 100*time.Millisecond)
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	f := &Face{d: d, opts: opts, webhookURL: opts.WebhookURL, customers: map[string]*customer{}, external: map[string]*customer{},
		sessions: map[string]*session{}, users: map[string]servicedesk.AgentProfile{}, attachments: map[string]*attachment{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/customers", f.api(f.createCustomer))
	mux.HandleFunc("GET /v1/customers/{ref}", f.api(f.getCustomer))
	mux.HandleFunc("POST /v2.1/chat/handoff", f.api(f.handoff))
	mux.HandleFunc("POST /v2.1/chat/messages", f.api(f.inboundMessage))
	mux.HandleFunc("GET /v2.1/chat/sessions/{id}/messages", f.api(f.session(f.listMessages)))
	mux.HandleFunc("GET /v1/conversations/{id}", f.api(f.session(f.getConversation)))
	mux.HandleFunc("PATCH /v1/conversations/{id}", f.api(f.session(f.updateConversation)))
	mux.HandleFunc("GET /v1/users/{id}", f.api(f.getUser))
	mux.HandleFunc("POST /v1/attachments", f.api(f.createAttachment))
	mux.HandleFunc("POST /upload/{id}", f.upload)
	mux.HandleFunc("GET /files/{id}", f.file)
	mux.Handle("/", d)
	f.mux = mux
	return f
}

// ServeHTTP serves the API, the uploads and the desk.
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// SetWebhookURL points the outbound webhook at url.
func (f *Face) SetWebhookURL(url string) {
	f.mu.Lock()
	f.webhookURL = url
	f.mu.Unlock()
}

// WebhookToken is the webhook's signing token.
func (f *Face) WebhookToken() string { return f.opts.WebhookToken }

// apiError answers Kustomer's JSON:API error shape.
func apiError(w http.ResponseWriter, status int, code, title string) {
	facekit.WriteJSON(w, status, map[string]any{"errors": []any{map[string]any{"status": status, "code": code, "title": title}}})
}

// api checks the API key and applies the desk's REST faults before h.
func (f *Face) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(key), []byte(f.opts.APIKey)) != 1 {
			apiError(w, http.StatusUnauthorized, "unauthorized", "Unauthorized")
			return
		}
		if err := f.d.RequestFault(r.Context(), mockdesk.SiteREST); err != nil {
			var fe *mockdesk.FaultError
			if errors.As(err, &fe) {
				w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
			}
			if errors.Is(err, mockdesk.ErrRateLimited) {
				apiError(w, http.StatusTooManyRequests, "rate_limited", "Too Many Requests")
				return
			}
			apiError(w, http.StatusServiceUnavailable, "unavailable", "Service Unavailable")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		h(w, r)
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_body", "The body is not valid JSON")
		return false
	}
	return true
}

// newID makes a 24-hex-digit id, as Kustomer's ids are.
func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func resource(typ, id string, attrs map[string]any, rel map[string]any) map[string]any {
	r := map[string]any{"type": typ, "id": id, "attributes": attrs}
	if rel != nil {
		r["relationships"] = rel
	}
	return r
}

func ref(typ, id string) map[string]any {
	return map[string]any{"data": map[string]string{"type": typ, "id": id}}
}

func (c *customer) view() map[string]any {
	attrs := map[string]any{"name": c.Name, "displayName": c.Name, "externalId": c.ExternalID, "createdAt": c.created, "emails": []any{}}
	if c.Email != "" {
		attrs["emails"] = []any{map[string]any{"type": "home", "email": c.Email}}
	}
	return resource("customer", c.ID, attrs, nil)
}

func (f *Face) createCustomer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name       string `json:"name"`
		ExternalID string `json:"externalId"`
		Emails     []struct {
			Email string `json:"email"`
		} `json:"emails"`
	}
	if !decode(w, r, &body) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if body.ExternalID != "" && f.external[body.ExternalID] != nil {
		apiError(w, http.StatusConflict, "duplicate", "A customer with this externalId exists")
		return
	}
	c := &customer{ID: newID(), ExternalID: body.ExternalID, Name: body.Name, created: stamp(time.Now())}
	if len(body.Emails) > 0 {
		c.Email = body.Emails[0].Email
	}
	f.customers[c.ID] = c
	if c.ExternalID != "" {
		f.external[c.ExternalID] = c
	}
	facekit.WriteJSON(w, http.StatusCreated, map[string]any{"data": c.view()})
}

func (f *Face) getCustomer(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("ref")
	f.mu.Lock()
	c := f.customers[ref]
	if ext, ok := strings.CutPrefix(ref, "externalId="); ok {
		c = f.external[ext]
	}
	f.mu.Unlock()
	if c == nil {
		apiError(w, http.StatusNotFound, "not_found", "Customer not found")
		return
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"data": c.view()})
}

func (f *Face) getUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	p, ok := f.users[r.PathValue("id")]
	f.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, "not_found", "User not found")
		return
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"data": resource("user", p.ID,
		map[string]any{"name": p.Nickname, "displayName": p.Nickname, "avatarUrl": p.ProfilePictureURL, "userType": "user"}, nil)})
}

// createAttachment is the attachment record; its bytes come by the
// presigned form.
func (f *Face) createAttachment(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name          string `json:"name"`
		ContentType   string `json:"contentType"`
		ContentLength int64  `json:"contentLength"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Name == "" || body.ContentType == "" || body.ContentLength <= 0 {
		apiError(w, http.StatusBadRequest, "invalid", "name, contentType and contentLength are required")
		return
	}
	a := &attachment{id: newID(), name: body.Name, ctype: body.ContentType, length: body.ContentLength}
	f.mu.Lock()
	f.attachments[a.id] = a
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusCreated, map[string]any{
		"data": resource("attachment", a.id, map[string]any{"name": a.name, "contentType": a.ctype, "contentLength": a.length}, nil),
		"meta": map[string]any{"upload": map[string]any{"url": "http://" + r.Host + "/upload/" + a.id,
			"fields": map[string]string{"key": "attachments/" + a.id, "Content-Type": a.ctype, "policy": "mock-policy"}}}})
}

// upload takes the presigned form: its fields, then the file.
func (f *Face) upload(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	a := f.attachments[r.PathValue("id")]
	f.mu.Unlock()
	if a == nil {
		http.Error(w, "NoSuchUpload", http.StatusNotFound)
		return
	}
	if err := r.ParseMultipartForm(64 << 20); err != nil || r.FormValue("key") != "attachments/"+a.id || r.FormValue("policy") == "" {
		http.Error(w, "the form's fields do not match the upload", http.StatusBadRequest)
		return
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file part", http.StatusBadRequest)
		return
	}
	defer file.Close()
	content, err := io.ReadAll(io.LimitReader(file, a.length+1))
	if err != nil || int64(len(content)) != a.length {
		http.Error(w, "the file's size is not its contentLength", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	a.content, a.uploaded = content, true
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *Face) file(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	a := f.attachments[r.PathValue("id")]
	f.mu.Unlock()
	if a == nil || !a.uploaded {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	_, _ = w.Write(a.content)
}
