package zendeskface

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
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
	// AppID is the app's id. Default "5ebee0975ac5304b664a12fa".
	AppID string
	// KeyID and KeySecret are the one API key accepted. Default
	// "app_mock" and "mock-key-secret".
	KeyID, KeySecret string
	// WebhookURL receives the integration's webhook deliveries; set it
	// later with SetWebhookURL.
	WebhookURL string
	// WebhookSecret is sent as X-API-Key. Default "mock-webhook-secret".
	WebhookSecret string
	// MessageIDKey is the message metadata member that carries the
	// integration's own id of a customer message, given to the desk as
	// its idempotency key. Default "deskbridge_message_id".
	MessageIDKey string
	// HTTPClient posts the webhooks. Default: a 20 s timeout, as Zendesk's.
	HTTPClient *http.Client
	// RetryBase is the first wait before a failed delivery is tried
	// again, doubling for each of the 5 retries. Default 100 ms.
	RetryBase time.Duration
}

// The switchboard's two integrations.
var (
	integration    = switchboardIntegration{ID: "5eecde2dcdbffb08f5c3ed37", Name: "deskbridge", IntegrationID: IntegrationID, IntegrationType: "custom"}
	agentWorkspace = switchboardIntegration{ID: "5eecde2dcdbffb08f5c3ed38", Name: "zd-agentWorkspace", IntegrationType: "zd:agentWorkspace"}
)

// Face serves Sunshine Conversations v2 in front of a mock-desk, and the
// desk itself (console, control API) on every other path.
type Face struct {
	d    *mockdesk.Desk
	opts Options
	mux  *http.ServeMux

	mu          sync.Mutex
	webhookURL  string
	users       map[string]*user // by id
	external    map[string]*user // by externalId
	convs       map[string]*conversation
	attachments map[string]*attachment // by id
	agents      map[string]servicedesk.AgentProfile
}

type user struct {
	ID         string         `json:"id"`
	ExternalID string         `json:"externalId,omitempty"`
	SignedUpAt string         `json:"signedUpAt"`
	Profile    map[string]any `json:"profile"`
	Metadata   map[string]any `json:"metadata"`
	Identities []any          `json:"identities"`
}

type attachment struct {
	id, name, mediaType string
	content             []byte
}

// New returns the face of d.
func New(d *mockdesk.Desk, opts Options) *Face {
	opts.AppID = cmp.Or(opts.AppID, "5ebee0975ac5304b664a12fa")
	opts.KeyID = cmp.Or(opts.KeyID, "app_mock")
	opts.KeySecret = cmp.Or(opts.KeySecret, "mock-key-secret")
	opts.WebhookSecret = cmp.Or(opts.WebhookSecret, "mock-webhook-secret")
	opts.MessageIDKey = cmp.Or(opts.MessageIDKey, "deskbridge_message_id")
	opts.RetryBase = cmp.Or(opts.RetryBase, 100*time.Millisecond)
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	f := &Face{d: d, opts: opts, webhookURL: opts.WebhookURL, users: map[string]*user{}, external: map[string]*user{},
		convs: map[string]*conversation{}, attachments: map[string]*attachment{}, agents: map[string]servicedesk.AgentProfile{}}
	mux := http.NewServeMux()
	api := "/v2/apps/{app}"
	mux.HandleFunc("POST "+api+"/users", f.api(f.createUser))
	mux.HandleFunc("GET "+api+"/users/{user}", f.api(f.getUser))
	mux.HandleFunc("POST "+api+"/conversations", f.api(f.createConversation))
	mux.HandleFunc("GET "+api+"/conversations/{conv}", f.api(f.conv(f.getConversation)))
	mux.HandleFunc("POST "+api+"/conversations/{conv}/messages", f.api(f.conv(f.postMessage)))
	mux.HandleFunc("GET "+api+"/conversations/{conv}/messages", f.api(f.conv(f.listMessages)))
	mux.HandleFunc("POST "+api+"/conversations/{conv}/activity", f.api(f.conv(f.postActivity)))
	mux.HandleFunc("POST "+api+"/conversations/{conv}/passControl", f.api(f.conv(f.passControl)))
	mux.HandleFunc("POST "+api+"/conversations/{conv}/releaseControl", f.api(f.conv(f.releaseControl)))
	mux.HandleFunc("POST "+api+"/attachments", f.api(f.uploadAttachment))
	mux.HandleFunc("PATCH "+api+"/integrations/{integration}/webhooks/{webhook}", f.api(f.updateWebhook))
	mux.HandleFunc("GET /sc/attachments/v2/{id}/{name}", f.media)
	mux.Handle("/", d)
	f.mux = mux
	return f
}

// ServeHTTP serves the API, the attachments, and the desk.
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// SetWebhookURL points the integration's webhook at url.
func (f *Face) SetWebhookURL(url string) {
	f.mu.Lock()
	f.webhookURL = url
	f.mu.Unlock()
}

// WebhookID is the id of the custom integration's one webhook, and
// IntegrationID the integration's.
const (
	WebhookID     = "5f4eaef81e3dcc117c7ba48a"
	IntegrationID = "5f11a650e4e987667c2051d1"
)

// updateWebhook is Update Webhook: its target (and triggers) change.
func (f *Face) updateWebhook(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("integration") != IntegrationID || r.PathValue("webhook") != WebhookID {
		apiError(w, http.StatusNotFound, "not_found", "Resource not found")
		return
	}
	var body struct {
		Target   string   `json:"target"`
		Triggers []string `json:"triggers"`
	}
	if !decode(w, r, &body) {
		return
	}
	if u, err := url.Parse(body.Target); body.Target != "" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
		apiError(w, http.StatusBadRequest, "bad_request", "target must be an http or https URL")
		return
	}
	f.mu.Lock()
	if body.Target != "" {
		f.webhookURL = body.Target
	}
	target := f.webhookURL
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"webhook": map[string]any{"id": WebhookID, "version": "v2", "target": target,
		"triggers": body.Triggers, "secret": f.opts.WebhookSecret, "includeFullUser": false, "includeFullSource": false}})
}

// WebhookSecret is the webhook's shared secret (X-API-Key).
func (f *Face) WebhookSecret() string { return f.opts.WebhookSecret }

// Agent returns the whole profile of the agent a message author's
// display name stands for, as a directory outside Zendesk would.
func (f *Face) Agent(displayName string) (servicedesk.AgentProfile, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.agents[displayName]
	return p, ok
}

// apiError answers Sunshine Conversations' error shape.
func apiError(w http.ResponseWriter, status int, code, title string) {
	facekit.WriteJSON(w, status, map[string]any{"errors": []any{map[string]string{"code": code, "title": title}}})
}

// api checks the app and the credentials and applies the desk's REST
// faults before h.
func (f *Face) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("app") != f.opts.AppID {
			apiError(w, http.StatusNotFound, "app_not_found", "App not found")
			return
		}
		if !f.authorized(r.Header.Get("Authorization")) {
			apiError(w, http.StatusUnauthorized, "unauthorized", "Authorization is required")
			return
		}
		if err := f.d.RequestFault(r.Context(), mockdesk.SiteREST); err != nil {
			faultAnswer(w, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 51<<20)
		h(w, r)
	}
}

func faultAnswer(w http.ResponseWriter, err error) {
	var fe *mockdesk.FaultError
	if !errors.As(err, &fe) {
		apiError(w, http.StatusServiceUnavailable, "service_unavailable", err.Error())
		return
	}
	w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
	if errors.Is(err, mockdesk.ErrRateLimited) {
		apiError(w, http.StatusTooManyRequests, "too_many_requests", "Too many requests")
		return
	}
	apiError(w, http.StatusServiceUnavailable, "service_unavailable", "Service unavailable")
}

// authorized accepts Basic with the key, or a JWT signed with it (HS256,
// kid the key id, scope app).
func (f *Face) authorized(h string) bool {
	if id, secret, ok := (&http.Request{Header: http.Header{"Authorization": {h}}}).BasicAuth(); ok {
		return subtle.ConstantTimeCompare([]byte(id), []byte(f.opts.KeyID)) == 1 && subtle.ConstantTimeCompare([]byte(secret), []byte(f.opts.KeySecret)) == 1
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	m := hmac.New(sha256.New, []byte(f.opts.KeySecret))
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return false
	}
	var header struct{ Alg, Kid string }
	var claims struct{ Scope string }
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return false
	}
	return header.Alg == "HS256" && header.Kid == f.opts.KeyID && (claims.Scope == "app" || claims.Scope == "integration")
}

// newID makes a 24-hex-digit id, as Sunshine Conversations' ids are.
func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "Invalid JSON body")
		return false
	}
	return true
}

func (f *Face) createUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ExternalID string         `json:"externalId"`
		Profile    map[string]any `json:"profile"`
		Metadata   map[string]any `json:"metadata"`
	}
	if !decode(w, r, &body) {
		return
	}
	if len(body.ExternalID) > 1024 {
		apiError(w, http.StatusBadRequest, "bad_request", "externalId is too long")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if body.ExternalID != "" && f.external[body.ExternalID] != nil {
		apiError(w, http.StatusConflict, "conflict", "User already exists")
		return
	}
	u := &user{ID: newID(), ExternalID: body.ExternalID, SignedUpAt: now(), Profile: body.Profile, Metadata: body.Metadata, Identities: []any{}}
	if u.Profile == nil {
		u.Profile = map[string]any{}
	}
	if u.Metadata == nil {
		u.Metadata = map[string]any{}
	}
	f.users[u.ID] = u
	if u.ExternalID != "" {
		f.external[u.ExternalID] = u
	}
	facekit.WriteJSON(w, http.StatusCreated, map[string]any{"user": u})
}

func (f *Face) getUser(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("user")
	u := f.users[id]
	if u == nil {
		u = f.external[id]
	}
	if u == nil {
		apiError(w, http.StatusNotFound, "user_not_found", "User not found")
		return
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (f *Face) uploadAttachment(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("access") != "public" {
		apiError(w, http.StatusBadRequest, "bad_request", "access must be public")
		return
	}
	file, hdr, err := r.FormFile("source")
	if err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "A file is required in the source field")
		return
	}
	defer file.Close()
	content := make([]byte, hdr.Size)
	if _, err := io.ReadFull(file, content); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "Could not read the file")
		return
	}
	a := &attachment{id: newID(), name: hdr.Filename, mediaType: cmp.Or(hdr.Header.Get("Content-Type"), "application/octet-stream"), content: content}
	f.mu.Lock()
	f.attachments[a.id] = a
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusCreated, map[string]any{"attachment": map[string]string{"mediaUrl": mediaURL(r, a), "mediaType": a.mediaType}})
}

func mediaURL(r *http.Request, a *attachment) string {
	return "http://" + r.Host + "/sc/attachments/v2/" + a.id + "/" + url.PathEscape(a.name)
}

// attachmentOf finds the attachment a mediaUrl names.
func (f *Face) attachmentOf(mediaURL string) *attachment {
	_, rest, ok := strings.Cut(mediaURL, "/sc/attachments/v2/")
	if !ok {
		return nil
	}
	id, _, _ := strings.Cut(rest, "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attachments[id]
}

func (f *Face) media(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	a := f.attachments[r.PathValue("id")]
	f.mu.Unlock()
	if a == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.mediaType)
	_, _ = w.Write(a.content)
}
