package mockdesk

import (
	"net/http"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// GenesysFace serves a Desk through Genesys Cloud Web Messaging's guest
// API, built from the shapes of Genesys's web-messaging SDKs
// (MyPureCloud/web-messaging-sdk-java, genesys-messenger-transport-mobile-sdk):
// one WebSocket per guest at /v1?deploymentId=… whose requests carry an
// action and the guest's session token (configureSession, onMessage,
// onAttachment, getJwt, echo, closeSession) and whose answers and events
// are envelopes {"type","class","code","body","tracingId"}; the pre-signed
// upload URL; and the history REST call GET /api/v2/webmessaging/messages
// with the JWT.
//
// A guest's conversation starts with an autostart (an onMessage carrying a
// Presence Join event, whose channel.metadata.customAttributes "summary" is
// the agent's summary) or its first text. The desk's events become
// outbound StructuredMessages: agent_joined a Presence Join event, agent
// messages Text messages (images as Attachment content, link buttons as a
// Card's Link actions), agent typing a Typing event, chat_ended a Presence
// Disconnect, a refusal a text before it. Agent leave, transfers, reads,
// queue updates and screen share have no guest-side form and are dropped.
// The WebSocket replays nothing; the history does.
//
// Faults: the desk's WS faults apply (handshake refusals, latency, drops,
// duplicated frames, and action faults answered as code 429 with
// retryAfter or code 500), and a DropConnections partition cuts the
// guest's WebSocket and history calls.
type GenesysFace struct {
	d    *Desk
	opts GenesysOptions
	mux  *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*genesysSession // by session token
	jwts     map[string]*genesysSession
	uploads  map[string]*genesysUpload // by attachment id
	agents   agentDirectory
}

// GenesysOptions configure a GenesysFace.
type GenesysOptions struct {
	// DeploymentID is the only deployment the face accepts. Default: any.
	DeploymentID string
	// BlockedExtensions are refused whatever the desk's capabilities.
	// Default: Genesys's usual executable extensions.
	BlockedExtensions []string
	// SummaryAttribute is the custom attribute holding the agent's summary.
	// Default "summary".
	SummaryAttribute string
}

// genesysSession is a guest session; mu guards the chat fields, and is
// held while one of its requests runs.
type genesysSession struct {
	mu                sync.Mutex
	token             string
	chatID, chatToken string
	jwt               string
	streamed          bool // a connection has streamed its chat
}

type genesysUpload struct {
	s                *genesysSession
	id, name, ctype  string
	size             int64
	data             []byte
	uploaded, failed bool
}

// NewGenesysFace puts a Genesys Web Messaging face on d.
func NewGenesysFace(d *Desk, opts GenesysOptions) *GenesysFace {
	if opts.BlockedExtensions == nil {
		opts.BlockedExtensions = []string{".exe", ".bat", ".cmd", ".com", ".js", ".msi", ".scr", ".vbs"}
	}
	if opts.SummaryAttribute == "" {
		opts.SummaryAttribute = "summary"
	}
	f := &GenesysFace{d: d, opts: opts, sessions: map[string]*genesysSession{}, jwts: map[string]*genesysSession{},
		uploads: map[string]*genesysUpload{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1", f.websocket)
	mux.HandleFunc("GET /api/v2/webmessaging/messages", f.history)
	mux.HandleFunc("PUT /genesys/uploads/{id}", f.putAttachment)
	mux.Handle("/", d)
	f.mux = mux
	return f
}

// ServeHTTP serves the Genesys face, and the Desk for every other path.
func (f *GenesysFace) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns the profile of an agent by nickname, as a directory
// outside Genesys would (guests see only a nickname and an image).
func (f *GenesysFace) Agent(nickname string) (servicedesk.AgentProfile, bool) {
	return f.agents.lookup(nickname)
}
