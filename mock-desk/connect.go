package mockdesk

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// ConnectFace serves a Desk through Amazon Connect's customer-side wire
// formats, built from AWS's documented shapes: StartChatContact (PUT
// /contact/chat, the server-side call; its SigV4 signature is required but
// not verified), the Participant Service REST calls (POST /participant/…,
// X-Amz-Bearer tokens, errors as x-amzn-ErrorType plus {"Message":…}), the
// pre-signed attachment PUT, and the participant WebSocket (topics
// aws/subscribe, aws/heartbeat, aws/chat with a stringified transcript item
// as content). Paths it does not know go to the Desk, so one server holds
// both the face and the desk's control API and console.
//
// The desk's events become Connect transcript items: agent_joined and
// agent_left are participant.joined/left events, agent messages are
// text/markdown MESSAGE items (images and link buttons as markdown
// paragraphs), agent typing is a typing event (Connect has no "stopped"),
// agent reads are MESSAGEMETADATA receipts, a transfer is
// transfer.succeeded, chat_ended is chat.ended, and a refusal is a SYSTEM
// message before chat.ended. Queue updates, capabilities and screen share
// have no Connect form and are dropped. A WebSocket replays nothing: only
// the participant's first connection starts at the chat's beginning;
// GetTranscript serves the rest.
//
// Faults: the desk's REST faults apply to the Participant calls (as
// ThrottlingException 429 and InternalServerException 500), its WS faults
// to the WebSocket (handshake refusals, latency, drops, duplicated aws/chat
// frames; a WebSocket delivers in order, so no reordering), and a
// DropConnections partition to everything of the chat.
type ConnectFace struct {
	d    *Desk
	opts ConnectOptions
	mux  *http.ServeMux

	mu           sync.Mutex
	participants map[string]*connectParticipant // by participant token
	connections  map[string]*connectParticipant // by connection token
	grants       map[string]connectGrant        // websocket auth tokens
	uploads      map[string]*connectUpload      // by attachment id
	agents       agentDirectory
	typingStop   map[string]*time.Timer
}

// ConnectOptions configure a ConnectFace.
type ConnectOptions struct {
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

type connectParticipant struct {
	chatID, chatToken  string
	participantID      string
	participantToken   string
	connected          bool // a WebSocket was handed out before
	connectionTokenExp time.Time
}

type connectGrant struct {
	p      *connectParticipant
	expiry time.Time
}

type connectUpload struct {
	p           *connectParticipant
	id          string
	name, ctype string
	size        int64
	clientToken string
	data        []byte
	uploaded    bool
}

// ConnectAttachmentTypes are the file types Amazon Connect chat accepts
// (Connect's feature specifications); ConnectMaxAttachmentBytes its size
// limit.
const (
	ConnectAttachmentTypes    = ".csv,.doc,.docx,.heic,.jpg,.jpeg,.mp4,.pdf,.png,.ppt,.pptx,.rtf,.txt,.wav,.xls,.xlsx"
	ConnectMaxAttachmentBytes = 20 << 20
)

// Connect content types the face speaks.
const (
	connectEvent        = "application/vnd.amazonaws.connect.event."
	ctParticipantJoined = connectEvent + "participant.joined"
	ctParticipantLeft   = connectEvent + "participant.left"
	ctTyping            = connectEvent + "typing"
	ctTransferSucceeded = connectEvent + "transfer.succeeded"
	ctChatEnded         = connectEvent + "chat.ended"
	ctMessageRead       = connectEvent + "message.read"
	ctMessageDelivered  = connectEvent + "message.delivered"
	ctConnectionAck     = connectEvent + "connection.acknowledged"
)

// NewConnectFace puts an Amazon Connect face on d.
func NewConnectFace(d *Desk, opts ConnectOptions) *ConnectFace {
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
	f := &ConnectFace{d: d, opts: opts, participants: map[string]*connectParticipant{}, connections: map[string]*connectParticipant{},
		grants: map[string]connectGrant{}, uploads: map[string]*connectUpload{}, typingStop: map[string]*time.Timer{}}
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
func (f *ConnectFace) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns the profile of an agent by participant id, as a directory
// outside Connect would (Connect itself tells only the display name).
func (f *ConnectFace) Agent(participantID string) (servicedesk.AgentProfile, bool) {
	return f.agents.lookup(participantID)
}

// connectError writes a Connect error: the type in x-amzn-ErrorType, the
// message in the body.
func connectError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": msg})
}

// connectErrorOf maps a desk error onto Connect's exceptions.
func connectErrorOf(w http.ResponseWriter, err error) {
	var fe *fileError
	switch {
	case errors.Is(err, ErrFileTooLarge):
		connectError(w, http.StatusPaymentRequired, "ServiceQuotaExceededException", Reason(err))
	case errors.As(err, &fe), errors.Is(err, ErrMessageRejected), errors.Is(err, ErrBadRequest):
		connectError(w, http.StatusBadRequest, "ValidationException", Reason(err))
	case errors.Is(err, ErrChatEnded), errors.Is(err, ErrUnauthorized), errors.Is(err, ErrChatNotFound):
		connectError(w, http.StatusForbidden, "AccessDeniedException", "You do not have sufficient access to perform this action.")
	case errors.Is(err, ErrIdempotencyReused):
		connectError(w, http.StatusConflict, "ConflictException", "The ClientToken was used with another request.")
	case errors.Is(err, ErrRateLimited):
		connectError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
	case errors.Is(err, ErrUnavailable):
		connectError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "Service unavailable")
	default:
		connectError(w, http.StatusInternalServerError, "InternalServerException", "Internal service error")
	}
}

func writeConnectJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// faults injects the desk's REST faults with Connect's error shapes.
func (f *ConnectFace) faults(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cfg := f.d.faults.config().REST
		if cfg.Latency > 0 {
			f.d.faults.count(FaultRESTLatency)
			if err := f.d.pause(r.Context(), time.Duration(cfg.Latency)); err != nil {
				connectErrorOf(w, err)
				return
			}
		}
		if f.d.faults.hit("rest", FaultREST429, cfg.Rate429) {
			w.Header().Set("Retry-After", retryAfterHeader(retryAfter(cfg)))
			connectError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
			return
		}
		if f.d.faults.hit("rest", FaultREST5xx, cfg.Rate5xx) {
			connectError(w, http.StatusInternalServerError, "InternalServerException", "Internal service error")
			return
		}
		h(w, r)
	}
}

func decodeConnect[T any](w http.ResponseWriter, r *http.Request, limit int64) (T, bool) {
	var v T
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		connectError(w, http.StatusBadRequest, "ValidationException", "The request body is not valid JSON: "+err.Error())
		return v, false
	}
	return v, true
}

func bearerToken(r *http.Request) string { return r.Header.Get("X-Amz-Bearer") }

func connectTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// reachable fails while DropConnections cuts the chat off.
func (f *ConnectFace) reachable(p *connectParticipant) error {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	_, err := f.d.lookup(p.chatID, p.chatToken)
	return err
}

// withConnection checks the connection token.
func (f *ConnectFace) withConnection(h func(http.ResponseWriter, *http.Request, *connectParticipant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		p := f.connections[bearerToken(r)]
		f.mu.Unlock()
		if p == nil {
			connectError(w, http.StatusForbidden, "AccessDeniedException", "The connection token is not valid.")
			return
		}
		if err := f.reachable(p); err != nil {
			connectErrorOf(w, err)
			return
		}
		h(w, r, p)
	}
}

func (f *ConnectFace) remember(p *servicedesk.AgentProfile) {
	if p == nil {
		return
	}
	f.agents.remember(p.ID, *p)
}
