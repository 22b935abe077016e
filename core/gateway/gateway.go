package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/gorilla/websocket"
)

// Options configure a Gateway. The zero value of every field but one of
// Engine and Factory takes the default its comment names.
type Options struct {
	// Engine runs the sessions. When nil, the gateway builds its own from
	// Factory and Flow, and closes it in Shutdown.
	Engine *flow.Engine
	// Factory builds one desk per session (a kit's Factory) when Engine is
	// nil.
	Factory servicedesk.Factory
	// Flow configures the engine the gateway builds. Its OpenFile defaults
	// to the gateway's upload store, its Store to a MemoryStore keeping
	// 1024 events per session, its Files to Files. The sessions' lifetime
	// is the engine's: MaxSessions, ChatlessTTL, IdleTTL, AbandonAfter,
	// PresenceAfter and MaxChatDuration are set here (a socket holds its
	// session attached while it is open).
	Flow flow.Options
	// Files keeps the bytes of uploads until their chat ends. Default:
	// Flow.Files, else Flow.Store when it is a flow.FileStore (so uploads
	// survive a restart with the sessions), else memory. An Engine passed
	// in should have the same Files.
	Files flow.FileStore

	// AllowedOrigins lists the page origins ("https://shop.example.com")
	// that may open a WebSocket or call the HTTP endpoints, compared
	// exactly (scheme, host, port). The gateway's own origin is allowed
	// too, under an AllowedHosts name (or, when none is set, an IP address
	// or localhost); "*" is not supported on purpose.
	AllowedOrigins []string
	// AllowedHosts lists the host names the gateway is reached at; a
	// request with another Host is refused (421 host_not_allowed), which
	// stops DNS rebinding. Default: none, any Host is served.
	AllowedHosts []string
	// TokenSecret keys session tokens (HMAC-SHA256). Default: 32 random
	// bytes, so tokens die with the process. Set it, with a persistent
	// flow.Store, for tokens that survive a restart.
	TokenSecret []byte
	// TokenTTL is how long a session token opens its session. Every
	// welcome brings a fresh one, and heartbeats renew it past half its
	// life. Default 24h.
	TokenTTL time.Duration

	// MaxFrameBytes bounds a browser frame. A larger frame (up to 16 times
	// this) is answered with a frame_too_large error; past that the
	// connection closes with 1009. Default 64 KiB.
	MaxFrameBytes int64
	// RatePerSecond and Burst limit a connection's frames (token bucket).
	// Defaults 20 and 40.
	RatePerSecond float64
	Burst         int
	// MaxUploadBytes bounds one uploaded file. Default 10 MiB.
	MaxUploadBytes int64
	// UploadTypes is the gateway's own allowlist of upload types (HTML
	// accept syntax), checked besides the desk's capabilities. Default
	// "image/*,.pdf,.txt".
	UploadTypes string
	// MaxSessionFiles bounds the uploads kept per chat; more are
	// refused with too_many_files. Default 10.
	MaxSessionFiles int
	// MaxChatUploadBytes bounds the bytes of one chat's uploads, and
	// MaxUploadBytesTotal those of all sessions together (kept and being
	// received): past them an upload is refused before its body is read
	// (413 file_too_large; 507 store_full). Defaults 50 MiB and 512 MiB.
	MaxChatUploadBytes  int64
	MaxUploadBytesTotal int64
	// MaxUploadsInFlight bounds the uploads being received at once, and
	// MaxSessionUploadsInFlight those of one session; more are answered
	// 429 before their body is read. Defaults 16 and 2.
	MaxUploadsInFlight        int
	MaxSessionUploadsInFlight int
	// UploadDir holds the bodies of uploads while they are received and
	// checked, one temporary file each, removed once the file is stored or
	// refused: however many uploads come at once, the server's memory
	// holds none of them whole. Default os.TempDir().
	UploadDir string
	// MaxMessageBytes bounds the text of one user message; a longer one is
	// refused with message_too_long. Default 16 KiB.
	MaxMessageBytes int
	// MaxHistoryBytes bounds the encoded events one GET /v1/history answer
	// or one hello replay is made of, and MaxHistoryItems the items of one
	// history answer: the newest are sent, older ones are paged with
	// ?before=SEQ (history) or reported as events_trimmed (replay).
	// Defaults 1 MiB and 200.
	MaxHistoryBytes int64
	MaxHistoryItems int
	// EndedChatHistory is how long after a chat ended its transcript is
	// still given to the session's token (GET /v1/history and a resume
	// replay), so that a reload shows the end; after it the token reads
	// nothing of that chat, and a new chat of the session never shows an
	// earlier one. Default 10 minutes; negative: nothing once it ended.
	EndedChatHistory time.Duration
	// MaxConnsPerSession bounds the sockets of one session. Default 4.
	MaxConnsPerSession int

	// TrustedProxies lists the proxies (addresses or CIDR prefixes) in
	// front of the gateway: for a request from one of them, the client
	// address is the right-most X-Forwarded-For address that is not a
	// trusted proxy. Default: none, the peer address is the client's.
	TrustedProxies []string
	// MaxConnsPerAddr bounds the sockets open at once from one client
	// address (an IPv4 address, an IPv6 /64); more are answered 429.
	// Default 100; negative: no bound.
	MaxConnsPerAddr int
	// NewSessionsPerMinute bounds the sessions one client address creates
	// (a burst of as many, then one every 60/n seconds); a hello past it is
	// answered rate_limited. Default 60; negative: no bound.
	NewSessionsPerMinute int
	// StartChatsPerMinute bounds the chats one client address starts a
	// minute (a quarter as many per session, at least one); more are
	// answered rate_limited. Default 20; negative: no bound.
	StartChatsPerMinute int
	// DeskOpsPerMinute bounds the desk-bound ops of one session a minute
	// (messages, file selections, screen share answers; a quarter of them
	// at once), and ten times as many per client address. Typing changes
	// and read receipts are coalesced instead: one a second and one every
	// two seconds, the latest last. Default 120; negative: no bound.
	DeskOpsPerMinute int

	// HelloTimeout closes a socket that sent no hello. Default 10s.
	HelloTimeout time.Duration
	// Heartbeat is the interval of heartbeat frames and pings; a peer
	// silent for 2.5 intervals is dropped. Default 20s.
	Heartbeat time.Duration
	// WriteTimeout bounds one frame write; a slower peer is dropped.
	// Default 10s.
	WriteTimeout time.Duration
	// OpTimeout bounds one op. Default 30s.
	OpTimeout time.Duration

	// TrustConnectMessage reports whether a startChat's connect message
	// and preStartChatPayload, which come from the browser, carry the bot
	// server's word (a signature the bot server put in them, say): then
	// they reach the desk as they are. Otherwise what they say reaches the
	// agent marked as the user's: the hand-off summary and
	// message_to_human_agent under "Sent by the user's browser, not
	// verified by the bot:", the payload as
	// {"from_user": payload}. A PreStartChat hook of the engine, which
	// runs on the server, may still set the payload. Default: nil, always
	// marked.
	TrustConnectMessage func(ctx context.Context, msg servicedesk.MessageResponse, payload json.RawMessage) bool

	// Identity verifies the identity token a hello carries (identity.New
	// makes one for JWTs). A verified customer is bound to the session
	// (flow.Session.Identify) and reaches the desk in the hand-off; a
	// session bound to one customer is resumed only with a token for the
	// same one. Default: nil, a hello with an identity token is refused.
	Identity IdentityVerifier
	// RequireIdentity refuses a hello without an identity token.
	RequireIdentity bool

	// Logger receives connection, auth and limit events, never message
	// content or tokens. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// positive sets *p to v unless it is positive; nonzero unless it is set
// (a negative value then means "no bound").
func positive[T ~int | ~int64 | ~float64](p *T, v T) {
	if *p <= 0 {
		*p = v
	}
}

func nonzero[T ~int | ~int64 | ~float64](p *T, v T) {
	if *p == 0 {
		*p = v
	}
}

func (o Options) withDefaults() Options {
	positive(&o.MaxFrameBytes, 64<<10)
	nonzero(&o.RatePerSecond, 20)
	positive(&o.Burst, 40)
	positive(&o.MaxUploadBytes, 10<<20)
	if o.UploadTypes == "" {
		o.UploadTypes = "image/*,.pdf,.txt"
	}
	positive(&o.MaxSessionFiles, 10)
	positive(&o.MaxChatUploadBytes, 50<<20)
	positive(&o.MaxUploadBytesTotal, 512<<20)
	positive(&o.MaxUploadsInFlight, 16)
	positive(&o.MaxSessionUploadsInFlight, 2)
	positive(&o.MaxMessageBytes, 16<<10)
	positive(&o.MaxHistoryBytes, 1<<20)
	positive(&o.MaxHistoryItems, 200)
	if o.EndedChatHistory == 0 {
		o.EndedChatHistory = 10 * time.Minute
	}
	positive(&o.MaxConnsPerSession, 4)
	nonzero(&o.MaxConnsPerAddr, 100)
	nonzero(&o.NewSessionsPerMinute, 60)
	nonzero(&o.StartChatsPerMinute, 20)
	nonzero(&o.DeskOpsPerMinute, 120)
	positive(&o.TokenTTL, 24*time.Hour)
	nonzero(&o.HelloTimeout, 10*time.Second)
	nonzero(&o.Heartbeat, 20*time.Second)
	nonzero(&o.WriteTimeout, 10*time.Second)
	nonzero(&o.OpTimeout, 30*time.Second)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Gateway is the browser gateway: an http.Handler serving
//
//	GET  /ws             the WebSocket (docs/gateway-protocol.md)
//	POST /v1/files       multipart upload of files for a later message
//	GET  /v1/history     the session's agent conversation as Carbon HistoryItems
//	GET  /deskbridge.js  the @carbon/ai-chat adapter (an ES module)
//
// Mount it at the root of a server or under a prefix with
// http.StripPrefix. It is safe for concurrent use.
type Gateway struct {
	opts     Options
	engine   *flow.Engine
	ownsEng  bool
	tokens   tokens
	origins  origins
	files    *fileStore
	upgrader websocket.Upgrader
	log      *slog.Logger

	ctx    context.Context // ends when the drain begins
	cancel context.CancelFunc

	fwd flow.Forwarder // set when instances share the store

	proxies proxies
	hosts   hosts
	sampler sampler

	mu       sync.Mutex
	budgets  map[string]*budget
	addrs    map[string]*addrState
	conns    map[*conn]struct{}
	draining bool
	connWG   sync.WaitGroup
	janitor  chan struct{}
	jDone    chan struct{}

	pendingOps sync.WaitGroup // coalesced ops waiting for their interval

	stats counters
	store storeWatch
}

// budget is what the gateway counts of a session for its browsers (under
// g.mu): its sockets here and its costly ops. The session itself, and
// when it is forgotten, is the engine's; a budget is forgotten once it
// has no socket and was not used for a minute (full again).
type budget struct {
	conns int
	last  time.Time   // when a socket or an op last used it
	ops   *sessionOps // costly ops, once there were some
}

// New returns a Gateway. It fails when neither Engine nor Factory is set.
func New(opts Options) (*Gateway, error) {
	opts = opts.withDefaults()
	px, err := parseProxies(opts.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("gateway: new: TrustedProxies: %w", err)
	}
	g := &Gateway{
		proxies: px,
		addrs:   make(map[string]*addrState),
		opts:    opts,
		tokens:  newTokens(opts.TokenSecret, opts.TokenTTL, opts.Now),
		origins: newOrigins(opts.AllowedOrigins, newHosts(opts.AllowedHosts), px),
		hosts:   newHosts(opts.AllowedHosts),
		log:     opts.Logger,
		budgets: make(map[string]*budget),
		conns:   make(map[*conn]struct{}),
		janitor: make(chan struct{}),
		jDone:   make(chan struct{}),
	}
	fo := opts.Flow
	if opts.Engine == nil && fo.Store == nil {
		fo.Store = flow.NewMemoryStore(1024)
	}
	files := cmp.Or(opts.Files, fo.Files)
	if fs, ok := fo.Store.(flow.FileStore); ok && files == nil {
		files = fs
	}
	if files == nil {
		files = flow.NewMemoryStore(1)
	}
	g.files = newFileStore(uploadLimits{
		files: opts.MaxSessionFiles, chatBytes: opts.MaxChatUploadBytes, totalBytes: opts.MaxUploadBytesTotal,
		inFlight: opts.MaxUploadsInFlight, inFlightSession: opts.MaxSessionUploadsInFlight,
	}, files, opts.UploadDir)
	switch {
	case opts.Engine != nil:
		g.engine = opts.Engine
	case opts.Factory != nil:
		fo.Files = files
		if fo.OpenFile == nil {
			fo.OpenFile = g.OpenFile
		}
		if fo.Logger == nil {
			fo.Logger = opts.Logger
		}
		e, err := flow.NewEngine(opts.Factory, fo)
		if err != nil {
			return nil, fmt.Errorf("gateway: new: %w", err)
		}
		g.engine, g.ownsEng = e, true
	default:
		return nil, errors.New("gateway: new: Options.Engine or Options.Factory is required")
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	if f, ok := g.engine.Store().(flow.Forwarder); ok {
		g.fwd = f
		f.HandleForwarded(g.handleForwarded)
	}
	g.upgrader = websocket.Upgrader{
		ReadBufferSize:   1024,
		WriteBufferSize:  2048,
		WriteBufferPool:  &sync.Pool{},
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      func(r *http.Request) bool { _, ok := g.origins.check(r); return ok },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			g.log.Debug("gateway: not a WebSocket handshake", "status", status, "err", reason)
			writeHTTPError(w, status, codeBadFrame, "this endpoint takes WebSocket handshakes (GET with Upgrade: websocket, version 13)")
		},
	}
	g.store.done = make(chan struct{})
	go g.sweep()
	go g.watchStore()
	return g, nil
}

// Resume loads every session of the engine's Store (flow.Engine.ResumeAll),
// so that chats that were running before a restart reconnect to their desk
// now; a chat whose user never comes back is ended by the engine after
// AbandonAfter, counted from the load. Call it once after New, before
// serving.
func (g *Gateway) Resume(ctx context.Context) (int, error) {
	n, err := g.engine.ResumeAll(ctx)
	if err != nil {
		return n, fmt.Errorf("gateway: resume: %w", err)
	}
	return n, nil
}

// Adopt takes over chats whose instance is gone (flow.Engine.Adopt; a
// store several instances share); like Resume's, they end after
// AbandonAfter if their user never comes back.
func (g *Gateway) Adopt(ctx context.Context, limit int) (int, error) {
	n, err := g.engine.Adopt(ctx, limit)
	if err != nil {
		return n, fmt.Errorf("gateway: adopt: %w", err)
	}
	return n, nil
}

// Engine returns the engine the gateway runs sessions on.
func (g *Gateway) Engine() *flow.Engine { return g.engine }

// ServeHTTP routes the gateway's endpoints.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.hosts.allows(r.Host) {
		g.stats.errorCode(codeHostNotAllowed)
		writeHTTPError(w, http.StatusMisdirectedRequest, codeHostNotAllowed, "this server is not reached under that host name")
		return
	}
	switch r.URL.Path {
	case "/ws":
		g.serveWS(w, r)
	case "/v1/files":
		g.serveUpload(w, r)
	case "/v1/history":
		g.serveHistory(w, r)
	case "/deskbridge.js":
		serveAdapter(w, r)
	default:
		writeHTTPError(w, http.StatusNotFound, "not_found", "no such endpoint")
	}
}

func (g *Gateway) serveWS(w http.ResponseWriter, r *http.Request) {
	if origin, ok := g.origins.check(r); !ok {
		g.stats.add(&g.stats.originRejected)
		g.log.Warn("gateway: origin not allowed", "origin", origin, "remote", r.RemoteAddr)
		writeHTTPError(w, http.StatusForbidden, codeForbiddenOrigin, "origin "+origin+" is not allowed")
		return
	}
	addr := addrKey(g.proxies.clientAddr(r))
	if !g.admitSocket(addr) {
		g.limited(limitConnsPerAddr, "addr", addr)
		g.stats.errorCode(codeTooManyConns)
		w.Header().Set("Retry-After", "5")
		writeHTTPError(w, http.StatusTooManyRequests, codeTooManyConns, fmt.Sprintf("more than %d sockets from one address", g.opts.MaxConnsPerAddr))
		return
	}
	g.mu.Lock()
	draining := g.draining
	if !draining {
		g.connWG.Add(1)
	}
	g.mu.Unlock()
	if draining {
		g.releaseSocket(addr)
		w.Header().Set("Retry-After", "1")
		writeHTTPError(w, http.StatusServiceUnavailable, codeShuttingDown, "the gateway is shutting down")
		return
	}
	cw := &corkingWriter{ResponseWriter: w}
	ws, err := g.upgrader.Upgrade(cw, r, nil)
	if err != nil {
		g.log.Debug("gateway: upgrade failed", "err", err)
		g.releaseSocket(addr)
		g.connWG.Done()
		return
	}
	c := newConn(g, ws)
	c.cork = cw.conn
	c.addr = addr
	g.mu.Lock()
	g.conns[c] = struct{}{}
	g.mu.Unlock()
	g.stats.add(&g.stats.connsOpened)
	// The socket runs on a goroutine of its own and the handler returns:
	// the HTTP server's buffers of the connection (8 KiB) and its
	// goroutine are freed then, instead of kept for the socket's life.
	go func() {
		defer g.connWG.Done()
		g.runConn(c)
		g.mu.Lock()
		delete(g.conns, c)
		g.releaseSocketLocked(addr)
		g.mu.Unlock()
		g.stats.add(&g.stats.connsClosed)
	}()
}

// runConn runs a socket; a panic closes that socket only and is logged,
// as the HTTP server does for a handler's.
func (g *Gateway) runConn(c *conn) {
	defer func() {
		if v := recover(); v != nil {
			g.log.Error("gateway: panic serving a socket", "panic", v, "remote", c.addr, "stack", string(debug.Stack()))
			c.ws.Close()
		}
	}()
	c.run()
}

// attach counts a socket on session id; false when the session has
// MaxConnsPerSession sockets here.
func (g *Gateway) attach(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.budgetLocked(id)
	if b.conns >= g.opts.MaxConnsPerSession {
		g.limited(limitConnsPerSession, "session", id)
		return false
	}
	b.conns++
	return true
}

// detach uncounts a socket of session id.
func (g *Gateway) detach(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if b, ok := g.budgets[id]; ok {
		b.conns--
		b.last = g.opts.Now()
	}
}

// budgetLocked returns session id's budget, made on first use (under g.mu).
func (g *Gateway) budgetLocked(id string) *budget {
	b, ok := g.budgets[id]
	if !ok {
		b = &budget{}
		g.budgets[id] = b
	}
	b.last = g.opts.Now()
	return b
}

// sweepBudgetsLocked forgets the budgets without sockets that were not
// used for a minute (their buckets are full again) and wait for no
// coalesced op (under g.mu).
func (g *Gateway) sweepBudgetsLocked(now time.Time) {
	for id, b := range g.budgets {
		if b.conns > 0 || now.Sub(b.last) <= time.Minute {
			continue
		}
		if b.ops != nil && (b.ops.typing.timer != nil || b.ops.read.timer != nil) {
			continue
		}
		delete(g.budgets, id)
	}
}

// touch marks session id used by an HTTP call: the user is there.
func (g *Gateway) touch(id string) {
	if s, ok := g.engine.Lookup(id); ok {
		s.Touch()
	}
}

// sweep forgets what the gateway counts of addresses, sessions and
// uploads nobody uses any more. The sessions themselves are the engine's
// to forget or end (flow.Options: ChatlessTTL, IdleTTL, AbandonAfter).
func (g *Gateway) sweep() {
	defer close(g.jDone)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-g.janitor:
			return
		case <-t.C:
			now := g.opts.Now()
			g.mu.Lock()
			g.sweepAddrsLocked(now)
			g.sweepBudgetsLocked(now)
			g.mu.Unlock()
			g.releaseEndedUploads()
		}
	}
}

// sweepEvery is the interval of the gateway's sweep.
const sweepEvery = 10 * time.Second

// Shutdown drains the gateway: new sockets are refused with 503, every
// open socket gets the events it has not seen yet and then a close frame
// 1001 (going away), and Shutdown waits for them to end or for ctx. Chats
// are not ended: with a persistent Store and TokenSecret, a new gateway
// resumes them and the clients reconnect. An engine the gateway built is
// closed. net/http's Server.Shutdown does not wait for WebSockets: call
// this too (or register it with Server.RegisterOnShutdown).
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	first := !g.draining
	g.draining = true
	g.mu.Unlock()
	var engineErr error
	engineClosed := false
	if first && g.ownsEng && g.fwd != nil {
		// Instances share the store: hand the chats off first (saved,
		// desk connections closed, leases released), so that the browsers
		// this drain sends away are taken at once by the instance they
		// reach next, instead of forwarded back here.
		engineErr = g.engine.Close(ctx)
		engineClosed = true
	}
	if first {
		close(g.janitor)
		g.cancel()
		g.mu.Lock()
		for _, b := range g.budgets {
			g.stopCoalescedLocked(b)
		}
		g.mu.Unlock()
		// Sockets with a session flush and close themselves; the others
		// have nothing to flush.
		g.mu.Lock()
		for c := range g.conns {
			if !c.helloed.Load() {
				c.closeWith(websocket.CloseGoingAway, "server shutting down")
				c.ws.Close()
			}
		}
		g.mu.Unlock()
	}
	done := make(chan struct{})
	go func() { g.connWG.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		g.mu.Lock()
		for c := range g.conns {
			c.ws.Close()
		}
		g.mu.Unlock()
		err = fmt.Errorf("gateway: shutdown: %w", ctx.Err())
	}
	<-g.jDone
	<-g.store.done
	g.pendingOps.Wait()
	if first && g.ownsEng && !engineClosed {
		engineErr = g.engine.Close(ctx)
	}
	if engineErr != nil && err == nil {
		err = fmt.Errorf("gateway: shutdown: %w", engineErr)
	}
	return err
}

// Stats are the gateway's counters, for metrics.
type Stats struct {
	// Sessions counts the engine's live sessions.
	Sessions       int              `json:"sessions"`
	Connections    int              `json:"connections"`
	ConnsOpened    uint64           `json:"conns_opened"`
	ConnsClosed    uint64           `json:"conns_closed"`
	FramesIn       uint64           `json:"frames_in"`
	FramesOut      uint64           `json:"frames_out"`
	EventsOut      uint64           `json:"events_out"`
	Errors         map[string]int64 `json:"errors"`
	OriginRejected uint64           `json:"origin_rejected"`
	Uploads        uint64           `json:"uploads"`
	UploadBytes    uint64           `json:"upload_bytes"`
	// UploadBytesHeld is the bytes of uploads kept for running chats and
	// being received now.
	UploadBytesHeld int64 `json:"upload_bytes_held"`
	// ForwardedSockets counts sockets on sessions another instance owns;
	// ForwardedOps the requests they forwarded to it.
	ForwardedSockets uint64 `json:"forwarded_sockets"`
	ForwardedOps     uint64 `json:"forwarded_ops"`
	// Limited counts, by limit name (conns_per_addr, frame_rate, …; the
	// list is in docs/limits.md), the requests a limit refused or cut.
	Limited map[string]int64 `json:"limited"`
	// Evicted counts chat-less sessions the engine forgot to make room for
	// new ones at MaxSessions.
	Evicted uint64 `json:"evicted"`
	// Identities counts hellos' identity checks by outcome: verified,
	// refused (a bad token, or none taken here), missing (none given where
	// one is required), mismatch (a token for another customer than the
	// session's).
	Identities map[string]int64 `json:"identities"`
}

type counters struct {
	forwardedSockets, forwardedOps                           atomic.Uint64
	connsOpened, connsClosed, framesIn, framesOut, eventsOut atomic.Uint64
	originRejected, uploads, uploadBytes                     atomic.Uint64
	errMu                                                    sync.Mutex
	errs                                                     map[string]int64
	limits                                                   map[string]int64
	identities                                               map[string]int64
}

func (c *counters) identity(outcome string) { c.count(&c.identities, outcome) }

func (c *counters) limit(name string) { c.count(&c.limits, name) }

func (c *counters) add(v *atomic.Uint64) { v.Add(1) }

func (c *counters) errorCode(code string) { c.count(&c.errs, code) }

func (c *counters) count(m *map[string]int64, key string) {
	c.errMu.Lock()
	if *m == nil {
		*m = make(map[string]int64)
	}
	(*m)[key]++
	c.errMu.Unlock()
}

// Stats returns a snapshot of the counters.
func (g *Gateway) Stats() Stats {
	g.mu.Lock()
	st := Stats{Sessions: g.engine.Len(), Connections: len(g.conns)}
	g.mu.Unlock()
	c := &g.stats
	st.ConnsOpened, st.ConnsClosed = c.connsOpened.Load(), c.connsClosed.Load()
	st.FramesIn, st.FramesOut, st.EventsOut = c.framesIn.Load(), c.framesOut.Load(), c.eventsOut.Load()
	st.OriginRejected, st.Uploads, st.UploadBytes = c.originRejected.Load(), c.uploads.Load(), c.uploadBytes.Load()
	st.ForwardedSockets, st.ForwardedOps = c.forwardedSockets.Load(), c.forwardedOps.Load()
	life := g.engine.SessionStats()
	st.Evicted = life.Evicted
	st.UploadBytesHeld = g.files.heldBytes()
	c.errMu.Lock()
	st.Limited = maps.Clone(c.limits)
	if st.Limited == nil {
		st.Limited = map[string]int64{}
	}
	if life.Expired > 0 {
		st.Limited[limitChatLifetime] += int64(life.Expired)
	}
	st.Identities = maps.Clone(c.identities)
	if st.Identities == nil {
		st.Identities = map[string]int64{}
	}
	st.Errors = make(map[string]int64, len(c.errs))
	for k, v := range c.errs {
		st.Errors[k] = v
	}
	c.errMu.Unlock()
	return st
}

// writeHTTPError writes {"error":{"code":…,"message":…}}.
func writeHTTPError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]*errFrame{"error": {Code: code, Message: msg}})
}
