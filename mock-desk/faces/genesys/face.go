package genesysface

import (
	"net/http"
	"sync"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// Face is a Genesys Web Messaging face on a Desk: an http.Handler.
type Face struct {
	d    *mockdesk.Desk
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*session                     // by session token
	jwts     map[string]*session                     // by JWT
	uploads  map[string]*upload                      // by attachment id
	sockets  map[string]map[*facekit.Socket]struct{} // the sockets streaming a chat, by chat id
	agents   facekit.Directory                       // by nickname

	codes     map[string]authCode           // the provider's auth codes, by code
	refreshes map[string]deskproto.Customer // authenticated sessions' refresh tokens
	authJWTs  map[string]deskproto.Customer // authenticated sessions' JWTs
}

// Options configure a Face.
type Options struct {
	// DeploymentID is the only deployment the face accepts. Default: any.
	DeploymentID string
	// BlockedExtensions are refused whatever the desk's capabilities.
	// Default: Genesys's usual executable extensions.
	BlockedExtensions []string
	// SummaryAttribute is the custom attribute holding the agent's summary.
	// Default "summary".
	SummaryAttribute string
}

// session is a guest session; mu guards chat, and is held while one of
// its requests runs.
type session struct {
	mu       sync.Mutex
	token    string
	chat     *mockdesk.CustomerChat // nil until the conversation starts
	jwt      string                 // guarded by Face.mu
	customer *deskproto.Customer    // the signed-in customer of an authenticated session
	streamed bool                   // a connection has streamed its chat; guarded by Face.mu
}

type upload struct {
	s                *session
	id, name, ctype  string
	size             int64
	data             []byte
	uploaded, failed bool
}

// New puts a Genesys Web Messaging face on d.
func New(d *mockdesk.Desk, opts Options) *Face {
	if opts.BlockedExtensions == nil {
		opts.BlockedExtensions = []string{".exe", ".bat", ".cmd", ".com", ".js", ".msi", ".scr", ".vbs"}
	}
	if opts.SummaryAttribute == "" {
		opts.SummaryAttribute = "summary"
	}
	f := &Face{d: d, opts: opts, sessions: map[string]*session{}, jwts: map[string]*session{},
		uploads: map[string]*upload{}, sockets: map[string]map[*facekit.Socket]struct{}{},
		codes: map[string]authCode{}, refreshes: map[string]deskproto.Customer{}, authJWTs: map[string]deskproto.Customer{},
		agents: facekit.Directory{Key: func(p servicedesk.AgentProfile) string { return p.Nickname }}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1", f.websocket)
	mux.HandleFunc("GET /api/v2/webmessaging/messages", f.history)
	mux.HandleFunc("POST /api/v2/webdeployments/token/oauthcodegrantjwtexchange", f.exchangeCode)
	mux.HandleFunc("POST /api/v2/webdeployments/token/refresh", f.refreshJWT)
	mux.HandleFunc("PUT /genesys/uploads/{id}", f.putAttachment)
	mux.Handle("/", d)
	f.mux = mux
	return f
}

// ServeHTTP serves the Genesys face, and the Desk for every other path.
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns the profile of an agent by nickname, as a directory
// outside Genesys would (guests see only a nickname and an image).
func (f *Face) Agent(nickname string) (servicedesk.AgentProfile, bool) {
	return f.agents.Lookup(nickname)
}
