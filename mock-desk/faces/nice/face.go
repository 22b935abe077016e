package niceface

import (
	"encoding/base64"
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

// Face is a NICE CXone Digital chat face on a Desk: an http.Handler.
type Face struct {
	d    *mockdesk.Desk
	opts Options
	mux  *http.ServeMux

	mu        sync.Mutex
	customers map[string]*customer                // by idOnExternalPlatform
	tokens    map[string]*token                   // by access token
	threads   map[string]*thread                  // by thread idOnExternalPlatform
	uploads   map[string]*upload                  // by fileUrl
	agentNums map[string]int                      // desk agent id → CXone user id
	agents    map[string]servicedesk.AgentProfile // desk profiles by CXone user id
	streams   map[string]string                   // message id → the text its SSE source streams
}

// Options configure a Face.
type Options struct {
	// BrandID and ChannelID are the only brand and channel served.
	// Default: any.
	BrandID   int
	ChannelID string
	// AuthorizeCode maps an OAuth authorization code onto the customer it
	// authorizes (AuthorizeCustomer); ok false refuses it. Default: every
	// code authorizes the customer "oauth-" + code.
	AuthorizeCode func(code string) (customerID string, ok bool)
	// TokenTTL is an access token's lifetime. Default 1 h.
	TokenTTL time.Duration
	// Streamed makes agent text messages streamed (STREAMED, read from
	// an SSE source) instead of TEXT.
	Streamed bool
	// MaxFileBytes is the temporary upload's limit. Default 10 MB.
	MaxFileBytes int64
}

type token struct {
	customer string
	expires  time.Time
}

// customer is one CXone customer identity; mu is held while one of its
// events runs, whichever connection it comes on.
type customer struct {
	mu   sync.Mutex
	id   string
	name string
}

// thread is a livechat thread: its current contact is one desk chat.
type thread struct {
	id      string
	owner   string
	contact string
	cc      *mockdesk.CustomerChat
	mu      sync.Mutex
	mine    []timedMessage // the customer's messages, as CXone returns them
}

type upload struct {
	id, name, mime string
	data           []byte
}

// New puts a NICE CXone face on d.
func New(d *mockdesk.Desk, opts Options) *Face {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = 10 << 20
	}
	if opts.AuthorizeCode == nil {
		opts.AuthorizeCode = func(code string) (string, bool) { return "oauth-" + code, code != "" }
	}
	f := &Face{d: d, opts: opts, customers: map[string]*customer{}, tokens: map[string]*token{},
		threads: map[string]*thread{}, uploads: map[string]*upload{}, agentNums: map[string]int{}, streams: map[string]string{},
		agents: map[string]servicedesk.AgentProfile{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /chat/1.0/brand/{brand}/channel/{channel}/availability", f.availability)
	mux.HandleFunc("POST /chat/1.0/brand/{brand}/channel/{channel}/attachment", f.attachment)
	mux.HandleFunc("GET /stream/{message}", f.stream)
	mux.HandleFunc("GET /{$}", f.websocket)
	mux.Handle("/", d)
	f.mux = mux
	return f
}

// ServeHTTP serves the CXone face, and the Desk for every other path.
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns the desk's whole profile of the agent whose CXone user id
// is id.
func (f *Face) Agent(id string) (servicedesk.AgentProfile, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.agents[id]
	return p, ok
}

// user is an agent as CXone shows it to customers: a numeric user id,
// the nickname as first name and nickname, the public image.
func (f *Face) user(p *servicedesk.AgentProfile) map[string]any {
	if p == nil {
		return nil
	}
	f.mu.Lock()
	n, ok := f.agentNums[p.ID]
	if !ok {
		n = 1000 + len(f.agentNums)
		f.agentNums[p.ID] = n
	}
	f.agents[strconv.Itoa(n)] = *p
	f.mu.Unlock()
	u := map[string]any{"id": n, "firstName": p.Nickname, "surname": "", "nickname": p.Nickname, "isBotUser": false, "isSurveyUser": false}
	if p.ProfilePictureURL != "" {
		u["publicImageUrl"] = p.ProfilePictureURL
	}
	return u
}

// ExpireTokens makes every access token issued so far expired (tests of
// the refresh).
func (f *Face) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tokens {
		t.expires = time.Now().Add(-time.Second)
	}
}

// channelOK checks the brand and channel of a path or query.
func (f *Face) channelOK(brand, channel string) bool {
	return (f.opts.BrandID == 0 || brand == strconv.Itoa(f.opts.BrandID)) && (f.opts.ChannelID == "" || channel == f.opts.ChannelID) && brand != "" && channel != ""
}

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
	facekit.WriteJSON(w, status, map[string]string{"message": http.StatusText(status)})
	return true
}

// availability is the channel's availability: online while the desk has
// an agent online.
func (f *Face) availability(w http.ResponseWriter, r *http.Request) {
	if !f.channelOK(r.PathValue("brand"), r.PathValue("channel")) {
		facekit.WriteJSON(w, http.StatusNotFound, map[string]string{"message": "Channel not found."})
		return
	}
	if f.restFault(w, r) {
		return
	}
	av, err := f.d.Availability(r.Context())
	if err != nil {
		facekit.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"message": err.Error()})
		return
	}
	status := "offline"
	if av.Online {
		status = "online"
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]string{"status": status})
}

// attachment is the temporary upload: CXone takes the file before any
// message names it (only its size is checked here); the face hands it to
// the desk with the message whose attachments name its fileUrl, and the
// desk's limits apply then.
func (f *Face) attachment(w http.ResponseWriter, r *http.Request) {
	if !f.channelOK(r.PathValue("brand"), r.PathValue("channel")) {
		facekit.WriteJSON(w, http.StatusNotFound, map[string]string{"message": "Channel not found."})
		return
	}
	if f.restFault(w, r) {
		return
	}
	var req struct {
		Content  string `json:"content"`
		FileName string `json:"fileName"`
		MimeType string `json:"mimeType"`
	}
	limit := f.opts.MaxFileBytes*4/3 + 1<<16
	if err := json.NewDecoder(io.LimitReader(r.Body, limit)).Decode(&req); err != nil || req.FileName == "" {
		facekit.WriteJSON(w, http.StatusBadRequest, map[string]string{"message": "content, fileName and mimeType are required."})
		return
	}
	data, err := base64.StdEncoding.DecodeString(req.Content)
	if err != nil || int64(len(data)) > f.opts.MaxFileBytes {
		facekit.WriteJSON(w, http.StatusBadRequest, map[string]any{"message": "The file is not allowed.", "allowedFileSize": strconv.FormatInt(f.opts.MaxFileBytes>>20, 10),
			"allowedFileTypes":     []map[string]string{{"mimeType": "image/*", "description": "images"}, {"mimeType": "application/pdf", "description": "PDF"}, {"mimeType": "text/plain", "description": "text"}},
			"isAttachmentsEnabled": true})
		return
	}
	id := facekit.NewID("att", 8)
	u := "https://app-eu1.brandembassy.com/upload/" + id + "/" + strings.ReplaceAll(req.FileName, "/", "_")
	f.mu.Lock()
	f.uploads[u] = &upload{id: id, name: req.FileName, mime: req.MimeType, data: data}
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusOK, map[string]string{"fileUrl": u})
}

// stream is a streamed message's SSE source: its text in pieces of a few
// words, each a "delta" event, the last with finish_reason "stop".
func (f *Face) stream(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	text, ok := f.streams[r.PathValue("message")]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	words := strings.SplitAfter(text, " ")
	for i := 0; i < len(words); i += 3 {
		piece := strings.Join(words[i:min(i+3, len(words))], "")
		delta := map[string]any{"content": piece}
		if i+3 >= len(words) {
			delta["finish_reason"] = "stop"
		}
		b, _ := json.Marshal(map[string]any{"delta": delta})
		_, _ = io.WriteString(w, "event: delta\ndata: "+string(b)+"\n\n")
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		time.Sleep(5 * time.Millisecond)
	}
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

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func wireTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
