package mockdesk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Options configure a Desk. The zero value is a working desk with one
// manual agent, file uploads of images, PDFs and text up to 5 MiB, and no
// faults.
type Options struct {
	// Agents is the roster. Default: one manual agent, "agent-1" (Ada).
	Agents []AgentConfig `json:"agents,omitempty"`
	// ControlToken, when set, is required of every control API request
	// (Authorization: Bearer <token>); the console page hands it to the
	// browser that loads it in a SameSite cookie. The binary always sets
	// one. Default: none (in-process tests).
	ControlToken string `json:"-"`
	// ControlHosts are the host names the control API and the console
	// answer under, besides IP addresses and localhost (a page on another
	// name pointed at the desk, DNS rebinding, gets nowhere).
	ControlHosts []string `json:"control_hosts,omitempty"`
	// Capabilities are what every new chat starts with.
	Capabilities *servicedesk.Capabilities `json:"capabilities,omitempty"`
	// AverageHandleTime drives the wait estimate. Default 3 minutes.
	AverageHandleTime Duration `json:"average_handle_time,omitempty"`
	// RefuseWhenOffline refuses new chats while no agent is online: the chat
	// gets an error event and ends at once.
	RefuseWhenOffline bool `json:"refuse_when_offline,omitempty"`
	// MaxQueue refuses new chats while this many wait. 0: no limit.
	MaxQueue int `json:"max_queue,omitempty"`

	// WebhookURL receives the events of chats that register no URL.
	WebhookURL string `json:"webhook_url,omitempty"`
	// WebhookSecret signs webhook deliveries. Never read from JSON: the
	// binary takes it from MOCKDESK_WEBHOOK_SECRET.
	WebhookSecret []byte `json:"-"`
	// WebhookRetryMin and WebhookRetryMax bound the delivery backoff.
	// Defaults 200ms and 10s.
	WebhookRetryMin Duration `json:"webhook_retry_min,omitempty"`
	WebhookRetryMax Duration `json:"webhook_retry_max,omitempty"`
	// WebhookTimeout bounds one delivery attempt. Default 5s.
	WebhookTimeout Duration `json:"webhook_timeout,omitempty"`
	// WebhookClient sends deliveries. Default: a client of its own.
	WebhookClient *http.Client `json:"-"`

	// MaxBodyBytes bounds JSON request bodies and WebSocket frames.
	// Default 64 KiB.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty"`
	// MaxPollWait caps the wait of a long poll. Default 30s.
	MaxPollWait Duration `json:"max_poll_wait,omitempty"`
	// DropPartition is how long DropConnections cuts a chat's customer side
	// off: its requests answer 503 and its webhook deliveries fail, so
	// every transport sees the drop. Default 1s.
	DropPartition Duration `json:"drop_partition,omitempty"`
	// PingInterval is the WebSocket heartbeat. Default 20s.
	PingInterval Duration `json:"ping_interval,omitempty"`

	// Faults to inject from the start (see SetFaults).
	Faults Faults `json:"faults,omitempty"`
	// Logger defaults to a discarding one.
	Logger *slog.Logger `json:"-"`
}

// AgentConfig is one agent of the roster.
type AgentConfig struct {
	Profile servicedesk.AgentProfile `json:"profile"`
	Online  bool                     `json:"online"`
	// Capacity is how many chats the agent holds at once. Default 1.
	Capacity int `json:"capacity,omitempty"`
	// Script, when set, makes the agent automatic: the desk routes waiting
	// chats to it and runs the script for each. Without one the agent is
	// manual: a test (control API) or a person (console) acts for it.
	Script Script `json:"script,omitempty"`
}

// Duration is a time.Duration that reads and writes JSON as "1.5s".
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// UnmarshalJSON reads a Go duration string or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*d = 0
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		var ms int64
		if _, err := fmt.Sscan(s, &ms); err != nil {
			return fmt.Errorf("duration %s: %w", s, err)
		}
		*d = Duration(time.Duration(ms) * time.Millisecond)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DefaultCapabilities are a new chat's capabilities unless Options say
// otherwise.
var DefaultCapabilities = servicedesk.Capabilities{
	AllowFileUploads:         true,
	AllowMultipleFileUploads: true,
	AllowedFileUploadTypes:   "image/*,.pdf,.txt",
	MaxFileSizeBytes:         5 << 20,
	MaxFiles:                 3,
}

// Chat states.
const (
	StateQueued       = "queued"
	StateActive       = "active"
	StateTransferring = "transferring"
	StateAgentLeft    = "agent_left"
	StateEnded        = "ended"
)

// Who ended a chat (deskproto.Event.EndedBy).
const (
	EndedByCustomer = "customer"
	EndedByAgent    = "agent"
	EndedByDesk     = "desk"
)

// Desk is a simulated service desk. It is an http.Handler serving the
// customer protocol (/v1/…), the control API (/control/…) and the agent
// console (/console/). Create one with New and stop it with Close.
type Desk struct {
	opts   Options
	log    *slog.Logger
	faults *faultInjector
	hooks  *webhooks

	ctx    context.Context // cancelled by Close: every goroutine watches it
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mux    http.Handler

	mu       sync.RWMutex // readers of a chat's log take it shared
	closed   bool
	agents   []*agent
	chats    map[string]*chat
	order    []*chat // every chat, in start order
	queue    []*chat // waiting chats, first is next
	handed   int     // how many chats AwaitChat has handed out
	version  int64   // bumped on every change, for the console
	changed  chan struct{}
	conns    map[io.Closer]struct{} // live WebSocket connections
	defaultW string                 // default webhook URL
	refuse   string                 // reason to refuse the next chat
}

type agent struct {
	cfg      AgentConfig
	online   bool
	capacity int
	chats    map[string]*chat
	reserved int // chats routed to the agent's script that it has not joined yet
}

func (a *agent) free() int { return a.capacity - len(a.chats) - a.reserved }

// New returns a running desk. Close it to stop its goroutines.
func New(opts Options) (*Desk, error) {
	if len(opts.Agents) == 0 {
		opts.Agents = []AgentConfig{{Profile: servicedesk.AgentProfile{ID: "agent-1", Nickname: "Ada", UserType: servicedesk.UserHuman}, Online: true, Capacity: 5}}
	}
	if opts.Capabilities == nil {
		c := DefaultCapabilities
		opts.Capabilities = &c
	}
	setDefault(&opts.AverageHandleTime, Duration(3*time.Minute))
	setDefault(&opts.WebhookRetryMin, Duration(200*time.Millisecond))
	setDefault(&opts.WebhookRetryMax, Duration(10*time.Second))
	setDefault(&opts.WebhookTimeout, Duration(5*time.Second))
	setDefault(&opts.MaxPollWait, Duration(30*time.Second))
	setDefault(&opts.PingInterval, Duration(20*time.Second))
	setDefault(&opts.DropPartition, Duration(time.Second))
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Desk{
		opts:     opts,
		log:      opts.Logger,
		ctx:      ctx,
		cancel:   cancel,
		chats:    map[string]*chat{},
		changed:  make(chan struct{}),
		conns:    map[io.Closer]struct{}{},
		defaultW: opts.WebhookURL,
	}
	seen := map[string]bool{}
	for _, ac := range opts.Agents {
		if ac.Profile.ID == "" {
			cancel()
			return nil, fmt.Errorf("mockdesk: new: agent without an id: %w", ErrBadRequest)
		}
		if seen[ac.Profile.ID] {
			cancel()
			return nil, fmt.Errorf("mockdesk: new: agent %s listed twice: %w", ac.Profile.ID, ErrBadRequest)
		}
		seen[ac.Profile.ID] = true
		if err := ac.Script.validate(); err != nil {
			cancel()
			return nil, fmt.Errorf("mockdesk: new: agent %s: %w", ac.Profile.ID, err)
		}
		if ac.Profile.UserType == "" {
			ac.Profile.UserType = servicedesk.UserHuman
		}
		if ac.Capacity <= 0 {
			ac.Capacity = 1
		}
		d.agents = append(d.agents, &agent{cfg: ac, online: ac.Online, capacity: ac.Capacity, chats: map[string]*chat{}})
	}
	d.faults = newFaultInjector(opts.Faults)
	d.hooks = newWebhooks(d)
	d.mux = d.routes()
	return d, nil
}

func setDefault(d *Duration, def Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Close stops the desk: it ends long polls, closes WebSocket connections,
// stops scripts and webhook deliveries, and waits for all of them. It is
// safe to call more than once.
func (d *Desk) Close() error {
	d.mu.Lock()
	d.closed = true
	conns := make([]io.Closer, 0, len(d.conns))
	for c := range d.conns {
		conns = append(conns, c)
	}
	d.touchDesk()
	d.mu.Unlock()
	d.cancel()
	for _, c := range conns {
		_ = c.Close()
	}
	d.wg.Wait()
	d.hooks.close()
	return nil
}

// go runs f on a goroutine that Close waits for; it reports false (and does
// not run f) once the desk is closed.
func (d *Desk) goTracked(f func()) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.goLocked(f)
}

func (d *Desk) goLocked(f func()) bool {
	if d.closed {
		return false
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		f()
	}()
	return true
}

// touchDesk wakes everyone waiting for any change. Callers hold d.mu.
func (d *Desk) touchDesk() {
	d.version++
	close(d.changed)
	d.changed = make(chan struct{})
}

func newID(prefix string, nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// chat is one conversation. Everything in it is guarded by Desk.mu.
type chat struct {
	id, token  string
	hookSecret []byte // signs this chat's webhook deliveries, and no other chat's
	created    time.Time
	customer   deskproto.Customer
	connect    servicedesk.GenericItem
	summary    string
	attributes map[string]string // a vendor face's contact attributes
	handoff    *servicedesk.Handoff
	caps       servicedesk.Capabilities
	state      string
	endedBy    string
	agent      *agent // the roster agent in the chat, nil for ad-hoc agents
	profile    *servicedesk.AgentProfile
	scriptFor  *agent // the scripted agent the chat is routed to
	transferTo *servicedesk.AgentProfile
	webhookURL string

	seq    uint64
	events []deskproto.Event
	obs    []observation
	ctrl   cursor // the control API's read position in obs

	idem      map[string]idemEntry
	messages  []CustomerMessage
	files     []StoredFile
	typing    bool
	lastRead  string // last agent message the customer read
	agentMsgs int

	rejectNext string                   // reason to refuse the next customer message
	fileLog    []servicedesk.FileUpload // every upload's outcome, accepted or not
	failUpload string                   // reason to fail the next upload
	conns      map[*wsConn]struct{}
	dropped    chan struct{} // closed by DropConnections, for long polls
	droppedAt  time.Time     // the last DropConnections
	// partitionUntil: until then the chat's customer side is cut off, as
	// by a network failure: its requests answer 503 and its webhooks fail.
	partitionUntil time.Time

	share      string // pending or active screen share id
	shareState string // "requested" or "accepted"

	queuePos, queueWait int
	changed             chan struct{}

	transcript []TranscriptEntry // both sides, for the console

	hookQueue   []deskproto.Event // webhook deliveries not yet acknowledged
	hookRunning bool
}

// CustomerMessage is a message the customer sent, as stored.
type CustomerMessage struct {
	// ID is the desk's id for the message.
	ID      string                     `json:"id"`
	Request servicedesk.MessageRequest `json:"request"`
	Time    time.Time                  `json:"time"`
	// IdempotencyKey is the client's key, if it gave one.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// FileIDs are the files the message announced (uploaded separately).
	FileIDs []string `json:"file_ids,omitempty"`
	// Rejected is the desk's reason when it refused the message (then it
	// was not stored: only the agent side's observation has it).
	Rejected string `json:"rejected,omitempty"`
}

// StoredFile is an accepted upload.
type StoredFile struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	Type string    `json:"type"`
	Size int64     `json:"size"`
	Time time.Time `json:"time"`
	// MessageID is the customer's id of the message the file goes with.
	MessageID string `json:"message_id,omitempty"`
	content   []byte
}

// TranscriptEntry is one line of a chat as the agent console shows it.
type TranscriptEntry struct {
	// From is "customer", "agent" or "system".
	From string    `json:"from"`
	ID   string    `json:"id,omitempty"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
	// Message is the agent's rich message, for agent lines.
	Message *servicedesk.MessageResponse `json:"message,omitempty"`
	// File is set for uploads (accepted or not).
	File *deskproto.FileResult `json:"file,omitempty"`
}

func (c *chat) addLine(e TranscriptEntry) {
	e.Time = time.Now().UTC()
	c.transcript = append(c.transcript, e)
}

type idemEntry struct {
	hash   string
	result deskproto.SendResult
}

// observation is something the customer side did, for the control API and
// scripts to await.
type observation struct {
	kind    string // obsMessage, obsTyping, obsRead, obsFile, obsShare, obsEnded
	message CustomerMessage
	file    servicedesk.FileUpload
	typing  bool
	readID  string
	share   servicedesk.ScreenShareState
	endedBy string
}

const (
	obsMessage = "message"
	obsTyping  = "typing"
	obsRead    = "read"
	obsFile    = "file"
	obsShare   = "screen_share"
	obsEnded   = "ended"
)

// cursor is one reader's position in a chat's observations, per kind.
type cursor map[string]int

func (c *chat) touch() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// lookup finds a chat, checks its token, and fails while the chat is cut
// off. Callers hold d.mu.
func (d *Desk) lookup(id, token string) (*chat, error) {
	c, err := d.lookupToken(id, token)
	if err != nil {
		return nil, err
	}
	if time.Now().Before(c.partitionUntil) {
		return nil, fmt.Errorf("chat %s: connection dropped: %w", id, ErrUnavailable)
	}
	return c, nil
}

// lookupToken finds a chat and checks its token. Callers hold d.mu.
func (d *Desk) lookupToken(id, token string) (*chat, error) {
	c, ok := d.chats[id]
	if !ok {
		return nil, fmt.Errorf("chat %q: %w", id, ErrChatNotFound)
	}
	if !tokenEqual(c.token, token) {
		return nil, fmt.Errorf("chat %s: %w", id, ErrUnauthorized)
	}
	return c, nil
}

// emit logs an event in c with the next sequence number, queues its
// webhook, and wakes waiters. Callers hold d.mu.
func (d *Desk) emit(c *chat, e deskproto.Event) {
	c.seq++
	e.Seq = c.seq
	e.ChatID = c.id
	e.ID = fmt.Sprintf("evt_%s_%d", c.id, c.seq)
	e.Time = time.Now().UTC()
	// No JSON here: encoding under the desk's one mutex made every chat
	// wait for every other's events. Readers encode outside the lock.
	c.events = append(c.events, e)
	d.hooks.enqueueLocked(c, e)
	c.touch()
	d.touchDesk()
}

func (d *Desk) observe(c *chat, o observation) {
	c.obs = append(c.obs, o)
	c.touch()
	d.touchDesk()
}

// StartChat opens a chat for a customer and answers its id, its token
// (which authorises every later call for the chat: keep it to resume), the
// secret that signs its webhook deliveries (its own: no other chat's
// deliveries are signed with it), its state, capabilities and last seq.
// The chat's first events are
// capabilities and queue_update (or error and chat_ended when refused).
func (d *Desk) StartChat(ctx context.Context, req deskproto.StartRequest) (deskproto.ChatInfo, error) {
	return d.startChat(ctx, req, nil)
}

// startChat opens a chat with the contact's custom attributes (a vendor
// face's), shown to the agent side.
func (d *Desk) startChat(ctx context.Context, req deskproto.StartRequest, attrs map[string]string) (deskproto.ChatInfo, error) {
	if err := ctx.Err(); err != nil {
		return deskproto.ChatInfo{}, fmt.Errorf("mockdesk: start chat: %w", err)
	}
	if req.WebhookURL != "" {
		if err := checkWebhookURL(req.WebhookURL); err != nil {
			return deskproto.ChatInfo{}, fmt.Errorf("mockdesk: start chat: %w", err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return deskproto.ChatInfo{}, fmt.Errorf("mockdesk: start chat: %w", ErrClosed)
	}
	c := &chat{
		id:         newID("ch_", 8),
		token:      newID("", 24),
		hookSecret: []byte(newID("whsec_", 24)),
		created:    time.Now().UTC(),
		caps:       *d.opts.Capabilities,
		state:      StateQueued,
		webhookURL: req.WebhookURL,
		idem:       map[string]idemEntry{},
		conns:      map[*wsConn]struct{}{},
		dropped:    make(chan struct{}),
		ctrl:       cursor{},
		changed:    make(chan struct{}),
	}
	if req.Customer != nil {
		c.customer = *req.Customer
	}
	c.attributes = maps.Clone(attrs)
	c.handoff = req.Handoff
	if req.ConnectItem != nil {
		c.connect = *req.ConnectItem
		c.summary = summaryOf(*req.ConnectItem)
	}
	d.chats[c.id] = c
	d.order = append(d.order, c)
	caps := c.caps
	d.emit(c, deskproto.Event{Type: deskproto.EventCapabilities, Capabilities: &caps})
	switch {
	case d.refuse != "":
		reason := d.refuse
		d.refuse = ""
		d.refuseChat(c, "refused", reason)
	case d.opts.RefuseWhenOffline && d.onlineLocked() == 0:
		d.refuseChat(c, "no_agents_online", "No agents are online right now.")
	case d.opts.MaxQueue > 0 && len(d.queue) >= d.opts.MaxQueue:
		d.refuseChat(c, "queue_full", "The queue is full; try again later.")
	default:
		d.queue = append(d.queue, c)
		d.updateQueueLocked()
		d.routeLocked()
	}
	startCaps := c.caps
	return deskproto.ChatInfo{ChatID: c.id, ChatToken: c.token, WebhookSecret: string(c.hookSecret), State: c.state, Capabilities: &startCaps, LastSeq: c.seq}, nil
}

func (d *Desk) refuseChat(c *chat, code, msg string) {
	d.emit(c, deskproto.Event{Type: deskproto.EventError, Code: code, Reason: msg})
	c.state = StateEnded
	c.endedBy = EndedByDesk
	d.emit(c, deskproto.Event{Type: deskproto.EventChatEnded, EndedBy: EndedByDesk, Reason: code})
}

// summaryOf is the agent's first view of the chat: the bot's summary items,
// else its message_to_human_agent.
func summaryOf(it servicedesk.GenericItem) string {
	if it.TransferInfo != nil && len(it.TransferInfo.SummaryMessageToAgent) > 0 {
		return servicedesk.NewResponse(it.TransferInfo.SummaryMessageToAgent...).PlainText()
	}
	return it.MessageToHumanAgent
}

func (d *Desk) onlineLocked() int {
	n := 0
	for _, a := range d.agents {
		if a.online {
			n++
		}
	}
	return n
}

// updateQueueLocked tells every waiting chat its position and wait when
// either changed.
func (d *Desk) updateQueueLocked() {
	slots := 0
	for _, a := range d.agents {
		if a.online {
			slots += a.capacity
		}
	}
	slots = max(slots, 1)
	aht := time.Duration(d.opts.AverageHandleTime)
	for i, c := range d.queue {
		pos := i + 1
		wait := int((time.Duration(pos)*aht/time.Duration(slots) + time.Minute - 1) / time.Minute)
		if pos == c.queuePos && wait == c.queueWait {
			continue
		}
		c.queuePos, c.queueWait = pos, wait
		d.emit(c, deskproto.Event{Type: deskproto.EventQueueUpdate, Position: intPtr(pos), WaitMinutes: intPtr(wait)})
	}
}

func (d *Desk) dequeueLocked(c *chat) {
	for i, q := range d.queue {
		if q == c {
			d.queue = append(d.queue[:i], d.queue[i+1:]...)
			break
		}
	}
	c.queuePos, c.queueWait = 0, 0
}

// routeLocked hands waiting chats to scripted agents with free capacity.
// Manual agents are never routed to: a test or a person picks chats.
func (d *Desk) routeLocked() {
	if d.closed {
		return
	}
	for _, c := range d.queue {
		if c.scriptFor != nil {
			continue
		}
		for _, a := range d.agents {
			if a.online && a.cfg.Script != nil && a.free() > 0 {
				d.assignScriptLocked(c, a)
				break
			}
		}
	}
}

func (d *Desk) assignScriptLocked(c *chat, a *agent) {
	c.scriptFor = a
	a.reserved++
	id := c.id
	d.goLocked(func() { d.runScript(a, id) })
}

// releaseLocked takes the chat's agent out of it and routes waiting chats
// to the freed capacity.
func (d *Desk) releaseLocked(c *chat) {
	if c.agent != nil {
		delete(c.agent.chats, c.id)
	}
	if c.scriptFor != nil && c.profile == nil {
		c.scriptFor.reserved--
	}
	c.agent, c.profile, c.scriptFor = nil, nil, nil
	d.updateQueueLocked()
	d.routeLocked()
}

func (d *Desk) agentByID(id string) *agent {
	for _, a := range d.agents {
		if a.cfg.Profile.ID == id {
			return a
		}
	}
	return nil
}

// Availability reports whether agents are online (Carbon's
// areAnyAgentsOnline) and the desk's capabilities.
func (d *Desk) Availability(ctx context.Context) (deskproto.Availability, error) {
	if err := ctx.Err(); err != nil {
		return deskproto.Availability{}, fmt.Errorf("mockdesk: availability: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.onlineLocked()
	slots := 0
	for _, a := range d.agents {
		if a.online {
			slots += a.capacity
		}
	}
	wait := 0
	if slots > 0 {
		aht := time.Duration(d.opts.AverageHandleTime)
		wait = int((time.Duration(len(d.queue)+1)*aht/time.Duration(slots) + time.Minute - 1) / time.Minute)
	}
	caps := *d.opts.Capabilities
	return deskproto.Availability{Online: n > 0, AgentsOnline: n, Waiting: len(d.queue), WaitMinutes: wait, Capabilities: &caps}, nil
}

// SetAgentOnline takes a roster agent on or off line. Going online routes
// waiting chats to it (if it is scripted) and updates wait estimates.
func (d *Desk) SetAgentOnline(ctx context.Context, agentID string, online bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mockdesk: set agent %s online: %w", agentID, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.agentByID(agentID)
	if a == nil {
		return fmt.Errorf("mockdesk: set agent %s online: %w", agentID, ErrUnknownAgent)
	}
	a.online = online
	d.updateQueueLocked()
	d.routeLocked()
	d.touchDesk()
	return nil
}

// AgentStatus is a roster entry as seen from outside.
type AgentStatus struct {
	Profile  servicedesk.AgentProfile `json:"profile"`
	Online   bool                     `json:"online"`
	Capacity int                      `json:"capacity"`
	Chats    int                      `json:"chats"`
	Scripted bool                     `json:"scripted"`
}

// Agents lists the roster.
func (d *Desk) Agents() []AgentStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]AgentStatus, 0, len(d.agents))
	for _, a := range d.agents {
		out = append(out, AgentStatus{Profile: a.cfg.Profile, Online: a.online, Capacity: a.capacity, Chats: len(a.chats), Scripted: a.cfg.Script != nil})
	}
	return out
}
