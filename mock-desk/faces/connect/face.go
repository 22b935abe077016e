package connectface

import (
	"net/http"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// Face is an Amazon Connect face on a Desk: an http.Handler.
type Face struct {
	d       *mockdesk.Desk
	opts    Options
	mux     *http.ServeMux
	maxBody int64

	mu           sync.Mutex
	participants map[string]*participant // by participant token
	connections  map[string]*participant // by connection token
	grants       map[string]grant        // websocket auth tokens
	uploads      map[string]*upload      // by attachment id
	typingStop   map[string]*time.Timer  // by chat id
	agents       facekit.Directory       // by participant id
}

// Options configure a Face.
type Options struct {
	// SummaryAttribute is the contact attribute whose value the agent sees
	// as the chat's summary. Default "summary".
	SummaryAttribute string
	// URLTTL is how long a WebSocket URL may be used to connect (Connect:
	// 100 s), and what CreateParticipantConnection reports as its
	// ConnectionExpiry. Default 100s.
	URLTTL time.Duration
	// TokenTTL is the connection token's lifetime (Connect: one day).
	TokenTTL time.Duration
	// TypingValidity is how long a customer typing event counts (ChatJS: 10 s).
	TypingValidity time.Duration
}

// participant is the customer of one contact.
type participant struct {
	chat               *mockdesk.CustomerChat
	participantID      string
	participantToken   string
	connected          bool // a WebSocket was handed out before; guarded by Face.mu
	connectionTokenExp time.Time
}

type grant struct {
	p      *participant
	expiry time.Time
}

// New puts an Amazon Connect face on d.
func New(d *mockdesk.Desk, opts Options) *Face {
	if opts.SummaryAttribute == "" {
		opts.SummaryAttribute = "summary"
	}
	if opts.URLTTL <= 0 {
		opts.URLTTL = 100 * time.Second
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 24 * time.Hour
	}
	if opts.TypingValidity <= 0 {
		opts.TypingValidity = 10 * time.Second
	}
	f := &Face{d: d, opts: opts, maxBody: d.Options().MaxBodyBytes,
		participants: map[string]*participant{}, connections: map[string]*participant{},
		grants: map[string]grant{}, uploads: map[string]*upload{}, typingStop: map[string]*time.Timer{},
		agents: facekit.Directory{Key: func(p servicedesk.AgentProfile) string { return p.ID }}}
	mux := http.NewServeMux()
	rest := f.faults
	mux.HandleFunc("PUT /contact/chat", f.startChatContact)
	mux.HandleFunc("POST /participant/connection", rest(f.createParticipantConnection))
	mux.HandleFunc("POST /participant/message", rest(f.withConnection(f.sendMessage)))
	mux.HandleFunc("POST /participant/event", rest(f.withConnection(f.sendEvent)))
	mux.HandleFunc("POST /participant/transcript", rest(f.withConnection(f.getTranscript)))
	mux.HandleFunc("POST /participant/disconnect", rest(f.withConnection(f.disconnect)))
	mux.HandleFunc("POST /participant/start-attachment-upload", rest(f.withConnection(f.startAttachmentUpload)))
	mux.HandleFunc("POST /participant/complete-attachment-upload", rest(f.withConnection(f.completeAttachmentUpload)))
	mux.HandleFunc("PUT /connect/s3/{id}", f.putAttachment)
	mux.HandleFunc("GET /connect/ws", f.websocket)
	mux.Handle("/", d)
	f.mux = mux
	return f
}

// ServeHTTP serves the Connect face, and the Desk for every other path.
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns the profile of an agent by participant id, as a directory
// outside Connect would (Connect itself tells only the display name).
func (f *Face) Agent(participantID string) (servicedesk.AgentProfile, bool) {
	return f.agents.Lookup(participantID)
}

// withConnection checks the connection token, and that the chat is not
// cut off.
func (f *Face) withConnection(h func(http.ResponseWriter, *http.Request, *participant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		p := f.connections[bearerToken(r)]
		f.mu.Unlock()
		if p == nil {
			connectError(w, http.StatusForbidden, "AccessDeniedException", "The connection token is not valid.")
			return
		}
		if _, err := p.chat.Info(r.Context()); err != nil {
			errorOf(w, err)
			return
		}
		h(w, r, p)
	}
}

func bearerToken(r *http.Request) string { return r.Header.Get("X-Amz-Bearer") }

func connectTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
