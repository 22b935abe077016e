package deskproto

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// Link carries one chat between a Desk and the desk server: the customer's
// actions out, the desk's events in. Each kit implements one; the Desk does
// everything else (mapping events to callbacks, ordering, gap fill,
// persisted state). Actions are called only between a successful Start or
// Attach and Close.
type Link interface {
	// Start opens a chat and begins delivering its events to the Inbox the
	// link was made with.
	Start(ctx context.Context, req StartRequest) (ChatInfo, error)
	// Attach re-attaches to an existing chat and delivers its events after
	// seq after.
	Attach(ctx context.Context, ref ChatRef, after uint64) (ChatInfo, error)
	Send(ctx context.Context, m Message) (SendResult, error)
	Typing(ctx context.Context, on bool) error
	Read(ctx context.Context, messageID string) error
	ScreenShare(ctx context.Context, id string, state servicedesk.ScreenShareState) error
	StopScreenShare(ctx context.Context) error
	End(ctx context.Context) error
	// Leave stops following the current chat (after it ended, or when it
	// cannot be resumed); the link may Start or Attach another one.
	Leave() error
	// Close stops event delivery and frees the link for good. The chat goes
	// on at the desk. It must be idempotent.
	Close() error
}

// Inbox is where a Link delivers what it receives. Its methods are safe for
// concurrent use and never block on the network.
type Inbox interface {
	// Deliver hands over events of the chat in any order, duplicates
	// included: the Inbox orders them by seq and drops repeats.
	Deliver(evs ...Event)
	// Connected reports the link's connection lost (false) or back (true).
	Connected(up bool)
	// Last is the seq of the last event applied: where to resume from.
	Last() uint64
}

// DeskConfig configures a Desk.
type DeskConfig struct {
	// Name is the desk's name (Carbon's getName).
	Name string
	// Client reaches the desk's REST API: availability, uploads, and the
	// poll that fills a gap in the events.
	Client *Client
	// Params are the factory's parameters for this session.
	Params servicedesk.FactoryParams
	// Customer identifies the end user to the desk. Default: the session id.
	Customer func(servicedesk.Instance) *Customer
	// GapWait is how long events may wait behind a missing seq before a poll
	// fills the gap (reordered deliveries usually close it sooner).
	// Default 250ms.
	GapWait time.Duration
}

// Desk is a servicedesk.ServiceDesk for any desk that speaks the deskbridge
// desk protocol; the Link decides the transport. It implements every
// optional method of the contract that the protocol supports, and
// io.Closer.
type Desk struct {
	cfg  DeskConfig
	cb   servicedesk.Callback
	log  *slog.Logger
	link Link

	ctx    context.Context // cancelled by Close: screen share waits, gap fills
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// applyMu serialises Deliver: events leave the sequencer and reach the
	// callback in one critical section, so concurrent deliveries stay in
	// order.
	applyMu sync.Mutex
	seq     *stream.Sequencer[Event]
	want    uint64 // the highest seq known to exist
	filling bool
	// sums holds a digest of the event taken at each recent seq: a copy
	// that differs (a forged or corrupted delivery, or the genuine event
	// after one) is checked against the desk's event log, which decides,
	// so that no delivery can make the genuine event be dropped.
	sums     map[uint64][sha256.Size]byte
	checking map[uint64]bool

	mu       sync.Mutex
	ref      ChatRef
	active   bool // a chat was started or attached and has not ended here
	over     bool // the desk said the chat ended
	joined   bool
	endNoted bool // agent_ended or error was seen: chat_ended needs no callback
	down     bool
	closed   bool
	caps     *servicedesk.Capabilities
	saved    savedState
}

// savedState is what the Desk keeps in the session's persisted state to
// find its chat again after a reload or restart.
type savedState struct {
	ChatID    string `json:"chat_id,omitempty"`
	ChatToken string `json:"chat_token,omitempty"`
	// WebhookSecret is the chat's own webhook signing secret, when the
	// desk issued one.
	WebhookSecret string `json:"webhook_secret,omitempty"`
	LastSeq       uint64 `json:"last_seq,omitempty"`
}

func savedFor(ref ChatRef, last uint64) savedState {
	return savedState{ChatID: ref.ID, ChatToken: ref.Token, WebhookSecret: ref.WebhookSecret, LastSeq: last}
}

var (
	_ servicedesk.ServiceDesk            = (*Desk)(nil)
	_ servicedesk.AvailabilityChecker    = (*Desk)(nil)
	_ servicedesk.TypingNotifier         = (*Desk)(nil)
	_ servicedesk.ReadNotifier           = (*Desk)(nil)
	_ servicedesk.FileSelectionValidator = (*Desk)(nil)
	_ servicedesk.ScreenShareStopper     = (*Desk)(nil)
	_ servicedesk.Reconnector            = (*Desk)(nil)
	_ Inbox                              = (*Desk)(nil)
)

// NewDesk returns a Desk whose link is made by newLink, given the Desk as
// its Inbox.
func NewDesk(cfg DeskConfig, newLink func(Inbox) Link) (*Desk, error) {
	if cfg.Client == nil || cfg.Params.Callback == nil || newLink == nil {
		return nil, errors.New("deskproto: new desk: Client, Params.Callback and a link are required")
	}
	if cfg.Name == "" {
		cfg.Name = "deskproto"
	}
	if cfg.GapWait <= 0 {
		cfg.GapWait = 250 * time.Millisecond
	}
	log := cfg.Params.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Desk{cfg: cfg, cb: cfg.Params.Callback, log: log, seq: stream.NewSequencer[Event](0, 0)}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	if len(cfg.Params.PersistedState) > 0 {
		if err := json.Unmarshal(cfg.Params.PersistedState, &d.saved); err != nil {
			d.cancel()
			return nil, fmt.Errorf("deskproto: new desk: persisted state: %w", err)
		}
	}
	d.link = newLink(d)
	return d, nil
}

// Name implements servicedesk.ServiceDesk.
func (d *Desk) Name() string { return d.cfg.Name }

// Ref returns the chat the desk follows, if any.
func (d *Desk) Ref() (ChatRef, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ref, d.active
}

func (d *Desk) chat() (ChatRef, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return ChatRef{}, ErrClosed
	case !d.active:
		return ChatRef{}, servicedesk.ErrNoChat
	}
	return d.ref, nil
}

// StartChat implements servicedesk.ServiceDesk.
func (d *Desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	d.mu.Unlock()
	req := StartRequest{PreChat: opts.PreStartChatPayload}
	if item, ok := connectMessage.ConnectToAgent(); ok {
		req.ConnectItem = &item
	}
	if d.cfg.Customer != nil {
		req.Customer = d.cfg.Customer(d.cfg.Params.Instance)
	} else if d.cfg.Params.Instance != nil {
		req.Customer = &Customer{ID: d.cfg.Params.Instance.SessionID()}
	}
	if !opts.Handoff.IsZero() {
		h := opts.Handoff
		req.Handoff = &h
		if c := h.Customer; c != nil && req.Customer != nil && req.Customer.Name == "" {
			req.Customer.Name = c.Name // the verified name, for the agent's queue
		}
	}
	d.begin(0)
	info, err := d.link.Start(ctx, req)
	if err != nil {
		d.mu.Lock()
		d.active = false
		d.mu.Unlock()
		return err
	}
	return d.attached(info, ChatRef{ID: info.ChatID, Token: info.ChatToken, WebhookSecret: info.WebhookSecret})
}

// begin resets the per-chat state before a chat is started or attached.
func (d *Desk) begin(after uint64) {
	d.applyMu.Lock()
	d.seq = stream.NewSequencer[Event](after, 0)
	d.want = after
	d.sums, d.checking = map[uint64][sha256.Size]byte{}, map[uint64]bool{}
	d.applyMu.Unlock()
	d.mu.Lock()
	d.active, d.over, d.joined, d.endNoted, d.down = true, false, false, false, false
	d.mu.Unlock()
}

// attached records the chat the link now follows and makes sure the events
// the desk already has arrive.
func (d *Desk) attached(info ChatInfo, ref ChatRef) error {
	d.mu.Lock()
	d.ref = ref
	if info.Capabilities != nil {
		c := *info.Capabilities
		d.caps = &c
	}
	d.mu.Unlock()
	if err := d.cb.UpdatePersistedState(savedFor(ref, d.Last())); err != nil {
		return fmt.Errorf("deskproto: chat %s: persist state: %w", ref.ID, err)
	}
	d.applyMu.Lock()
	d.want = max(d.want, info.LastSeq)
	if d.want > d.seq.Last() {
		d.scheduleFillLocked()
	}
	d.applyMu.Unlock()
	return nil
}

// EndChat implements servicedesk.ServiceDesk. It is idempotent.
func (d *Desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	d.mu.Lock()
	if !d.active {
		d.mu.Unlock()
		return nil
	}
	over, closed := d.over, d.closed
	d.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if !over && !info.EndedByHumanAgent {
		if err := d.link.End(ctx); err != nil {
			return err
		}
	}
	d.mu.Lock()
	d.active = false
	d.mu.Unlock()
	_ = d.link.Leave() // the session may start another chat with this desk
	return d.cb.ReplacePersistedState(map[string]any{})
}

// SendMessageToAgent implements servicedesk.ServiceDesk: the message id is
// its idempotency key, and its files are uploaded after it, tied to it.
func (d *Desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ref, err := d.chat()
	if err != nil {
		return err
	}
	message.ID = messageID
	m := Message{IdempotencyKey: messageID, Message: message}
	for _, f := range data.FilesToUpload {
		m.FileIDs = append(m.FileIDs, f.ID)
	}
	if _, err := d.link.Send(ctx, m); err != nil {
		return err
	}
	if len(data.FilesToUpload) > 0 {
		d.upload(ctx, ref, messageID, data.FilesToUpload)
	}
	return nil
}

// upload sends files; the desk reports each file's outcome as a
// file_status event. Only when the desk could not say (the upload never got
// an answer about the files) is the failure reported here.
func (d *Desk) upload(ctx context.Context, ref ChatRef, messageID string, files []servicedesk.FileUpload) {
	_, err := d.cfg.Client.Upload(ctx, ref, messageID, files)
	if err == nil {
		return
	}
	var e *Error
	if errors.As(err, &e) && (e.FileID != "" || e.Status == 413 || e.Status == 415 || e.Status == 422 || e.Status == 403) {
		return // the desk checked the files: file_status events follow
	}
	d.log.Warn("deskproto: upload failed", "chat", ref.ID, "message", messageID, "err", err)
	for _, f := range files {
		d.cb.SetFileUploadStatus(f.ID, true, "The file could not be sent.")
	}
}

// AreAnyAgentsOnline implements servicedesk.AvailabilityChecker.
func (d *Desk) AreAnyAgentsOnline(ctx context.Context, _ servicedesk.MessageResponse) (servicedesk.OnlineStatus, error) {
	a, err := d.cfg.Client.Availability(ctx)
	if err != nil {
		return servicedesk.OnlineUnknown, err
	}
	if a.Capabilities != nil {
		d.mu.Lock()
		if d.caps == nil {
			c := *a.Capabilities
			d.caps = &c
		}
		d.mu.Unlock()
	}
	if a.Online {
		return servicedesk.Online, nil
	}
	return servicedesk.Offline, nil
}

// UserTyping implements servicedesk.TypingNotifier.
func (d *Desk) UserTyping(ctx context.Context, isTyping bool) error {
	if _, err := d.chat(); err != nil {
		return err
	}
	return d.link.Typing(ctx, isTyping)
}

// UserReadMessages implements servicedesk.ReadNotifier: every agent message
// so far was read.
func (d *Desk) UserReadMessages(ctx context.Context) error {
	if _, err := d.chat(); err != nil {
		return err
	}
	return d.link.Read(ctx, "")
}

// FilesSelectedForUpload implements servicedesk.FileSelectionValidator: it
// checks the files against the desk's last reported limits.
func (d *Desk) FilesSelectedForUpload(_ context.Context, uploads []servicedesk.FileUpload) error {
	d.mu.Lock()
	caps := d.caps
	d.mu.Unlock()
	if caps == nil {
		return nil
	}
	for _, f := range uploads {
		if ok, why := caps.Accepts(f.File.Name, f.File.Type, f.File.Size); !ok {
			d.cb.SetFileUploadStatus(f.ID, true, why)
		}
	}
	return nil
}

// ScreenShareStop implements servicedesk.ScreenShareStopper.
func (d *Desk) ScreenShareStop(ctx context.Context) error {
	if _, err := d.chat(); err != nil {
		return err
	}
	return d.link.StopScreenShare(ctx)
}

// Reconnect implements servicedesk.Reconnector: it re-attaches to the chat
// named in the persisted state, from the last event it applied. It answers
// false when there is no such chat any more.
func (d *Desk) Reconnect(ctx context.Context) (bool, error) {
	d.mu.Lock()
	saved, closed := d.saved, d.closed
	d.mu.Unlock()
	if closed {
		return false, ErrClosed
	}
	if saved.ChatID == "" {
		return false, nil
	}
	ref := ChatRef{ID: saved.ChatID, Token: saved.ChatToken, WebhookSecret: saved.WebhookSecret}
	d.begin(saved.LastSeq)
	info, err := d.link.Attach(ctx, ref, saved.LastSeq)
	if err == nil && info.State == StateEnded && info.LastSeq <= saved.LastSeq {
		err = &Error{Code: CodeChatEnded, Message: "the chat ended"}
	}
	if err != nil {
		d.mu.Lock()
		d.active = false
		d.mu.Unlock()
		_ = d.link.Leave()
		if errors.Is(err, servicedesk.ErrChatNotFound) {
			d.log.Info("deskproto: chat gone; not reconnecting", "chat", ref.ID, "err", err)
			_ = d.cb.ReplacePersistedState(map[string]any{})
			return false, nil
		}
		return false, err
	}
	d.mu.Lock()
	d.joined = info.Agent != nil
	d.mu.Unlock()
	if err := d.attached(info, ref); err != nil {
		return false, err
	}
	return true, nil
}

// Close implements io.Closer: it stops the link and the desk's goroutines.
// The chat goes on at the desk. Close is idempotent.
func (d *Desk) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	err := d.link.Close()
	d.wg.Wait()
	return err
}

// Last implements Inbox.
func (d *Desk) Last() uint64 {
	d.applyMu.Lock()
	defer d.applyMu.Unlock()
	return d.seq.Last()
}

// Connected implements Inbox: it raises or clears Carbon's DISCONNECTED
// status, once per change, while a chat runs.
func (d *Desk) Connected(up bool) {
	d.mu.Lock()
	if !d.active || d.over || d.closed || d.down == !up {
		d.mu.Unlock()
		return
	}
	d.down = !up
	d.mu.Unlock()
	d.cb.SetErrorStatus(servicedesk.DisconnectedError(!up))
}

// Deliver implements Inbox.
func (d *Desk) Deliver(evs ...Event) { d.deliver(evs, false) }

// sumWindow is how many recent seqs keep the digest of their event.
const sumWindow = 1024

func eventSum(ev Event) [sha256.Size]byte {
	b, _ := json.Marshal(ev)
	return sha256.Sum256(b)
}

// deliver orders evs by seq and applies them; fromLog marks events read
// from the desk's event log, which settle a conflict between two copies of
// a seq: the log's is the genuine one, applied even when another copy was
// applied first.
func (d *Desk) deliver(evs []Event, fromLog bool) {
	d.mu.Lock()
	ref, active := d.ref, d.active
	d.mu.Unlock()
	chatID := ref.ID
	d.applyMu.Lock()
	defer d.applyMu.Unlock()
	var last uint64
	for _, ev := range evs {
		if !active || (chatID != "" && ev.ChatID != chatID) {
			d.log.Debug("deskproto: event for another chat dropped", "event", ev.ID, "chat", ev.ChatID)
			continue
		}
		sum := eventSum(ev)
		if old, ok := d.sums[ev.Seq]; ok && old != sum {
			if !fromLog {
				d.log.Warn("deskproto: two different events with one seq; the desk's log decides", "chat", ev.ChatID, "seq", ev.Seq, "event", ev.ID)
				d.checkLocked(ref, ev.Seq)
				continue
			}
			d.sums[ev.Seq] = sum
			if ev.Seq <= d.seq.Last() {
				// What was applied at this seq is not in the desk's log:
				// the genuine event still reaches the session.
				d.log.Warn("deskproto: an event applied was not the desk's; its genuine one applied after it", "chat", ev.ChatID, "seq", ev.Seq, "event", ev.ID)
				d.apply(ev)
				last = max(last, d.seq.Last())
				continue
			}
			// Still waiting behind a gap: the push below replaces it.
		}
		d.sums[ev.Seq] = sum
		d.want = max(d.want, ev.Seq)
		ready, _ := d.seq.Push(ev.Seq, ev)
		for _, r := range ready {
			d.apply(r)
			last = r.Seq
		}
	}
	if n := d.seq.Last(); len(d.sums) > 2*sumWindow && n > sumWindow {
		for s := range d.sums {
			if s+sumWindow < n {
				delete(d.sums, s)
			}
		}
	}
	if last > 0 {
		// The whole (small) state, replaced: cheaper for the engine than a
		// deep merge, and the desk owns all of it.
		d.mu.Lock()
		st := savedFor(d.ref, last)
		d.mu.Unlock()
		if st.ChatID != "" {
			if err := d.cb.ReplacePersistedState(st); err != nil {
				d.log.Warn("deskproto: persist last seq", "err", err)
			}
		}
	}
	if d.want > d.seq.Last() {
		d.scheduleFillLocked()
	}
}

// working counts a goroutine of the desk in d.wg, unless the desk closed.
func (d *Desk) working() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	d.wg.Add(1)
	return true
}

// scheduleFillLocked polls for the events behind a gap after GapWait,
// unless a fill is already on its way.
func (d *Desk) scheduleFillLocked() {
	if d.filling {
		return
	}
	if !d.working() {
		return
	}
	d.filling = true
	go d.fill()
}

func (d *Desk) fill() {
	defer d.wg.Done()
	t := time.NewTimer(d.cfg.GapWait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-d.ctx.Done():
		return
	}
	d.applyMu.Lock()
	d.filling = false
	after, want := d.seq.Last(), d.want
	d.applyMu.Unlock()
	ref, err := d.chat()
	if err != nil || after >= want {
		return // the events arrived by themselves
	}
	for {
		p, err := d.cfg.Client.Events(d.ctx, ref, after, 0)
		if err != nil {
			if d.ctx.Err() == nil {
				d.log.Warn("deskproto: gap fill failed", "chat", ref.ID, "after", after, "err", err)
				d.applyMu.Lock()
				d.scheduleFillLocked()
				d.applyMu.Unlock()
			}
			return
		}
		d.deliver(p.Events, true)
		if len(p.Events) == 0 || p.Cursor <= after {
			return
		}
		after = p.Cursor
	}
}

// checkLocked reads the event at seq from the desk's log (off the event
// path) and delivers it as the genuine one. Called with applyMu.
func (d *Desk) checkLocked(ref ChatRef, seq uint64) {
	if d.checking[seq] || seq == 0 {
		return
	}
	if !d.working() {
		return
	}
	d.checking[seq] = true
	go func() {
		defer d.wg.Done()
		defer func() {
			d.applyMu.Lock()
			delete(d.checking, seq)
			d.applyMu.Unlock()
		}()
		for attempt := 0; attempt < 5; attempt++ {
			p, err := d.cfg.Client.Events(d.ctx, ref, seq-1, 1)
			if err == nil {
				d.deliver(p.Events, true)
				return
			}
			if d.ctx.Err() != nil {
				return
			}
			d.log.Warn("deskproto: read an event from the desk's log", "chat", ref.ID, "seq", seq, "err", err)
			t := time.NewTimer(d.cfg.GapWait << attempt)
			select {
			case <-t.C:
			case <-d.ctx.Done():
				t.Stop()
				return
			}
		}
	}()
}

// apply maps one in-order event onto the callback. Called with applyMu.
func (d *Desk) apply(ev Event) {
	cb := d.cb
	switch ev.Type {
	case EventCapabilities:
		if ev.Capabilities != nil {
			c := *ev.Capabilities
			d.mu.Lock()
			d.caps = &c
			d.mu.Unlock()
			cb.UpdateCapabilities(c.FullUpdate())
		}
	case EventQueueUpdate:
		cb.UpdateAgentAvailability(servicedesk.AgentAvailability{PositionInQueue: servicedesk.Number(ev.Position), EstimatedWaitTime: servicedesk.Number(ev.WaitMinutes)})
	case EventAgentJoined:
		d.mu.Lock()
		d.joined = true
		d.mu.Unlock()
		cb.AgentJoined(profile(ev.Agent))
	case EventAgentMessage:
		if ev.Message != nil {
			agentID := ""
			if ev.Agent != nil {
				agentID = ev.Agent.ID
			}
			cb.SendMessageToUser(*ev.Message, agentID)
		}
	case EventAgentTyping:
		cb.AgentTyping(ev.Typing != nil && *ev.Typing)
	case EventAgentRead:
		cb.AgentReadMessages()
	case EventTransferStarted:
		cb.BeginTransferToAnotherAgent(ev.Agent)
	case EventAgentLeft:
		cb.AgentLeftChat()
	case EventAgentEnded:
		d.mu.Lock()
		d.endNoted, d.over = true, true
		d.mu.Unlock()
		cb.AgentEndedChat()
	case EventError:
		d.mu.Lock()
		d.endNoted = true
		d.mu.Unlock()
		cb.SetErrorStatus(servicedesk.ConnectingError(ev.Reason))
	case EventChatEnded:
		d.mu.Lock()
		noted, joined := d.endNoted, d.joined
		d.over, d.endNoted = true, true
		d.mu.Unlock()
		if !noted && ev.EndedBy != "customer" {
			vendorkit.DeskEnded(cb, joined, ev.Reason)
		}
	case EventFileStatus:
		cb.SetFileUploadStatus(ev.FileID, ev.FileStatus != "ok", ev.Reason)
	case EventScreenShareRequested:
		d.askScreenShare(ev.ScreenShareID)
	case EventScreenShareEnded:
		cb.ScreenShareEnded()
	default:
		d.log.Debug("deskproto: unknown event ignored", "type", ev.Type, "event", ev.ID)
	}
}

func profile(p *servicedesk.AgentProfile) servicedesk.AgentProfile {
	if p == nil {
		return servicedesk.AgentProfile{}
	}
	return *p
}

// askScreenShare asks the user off the event path (the answer can take
// minutes) and sends the answer to the desk.
func (d *Desk) askScreenShare(id string) {
	if !d.working() {
		return
	}
	go func() {
		defer d.wg.Done()
		st, err := d.cb.ScreenShareRequest(d.ctx)
		if err != nil || st == servicedesk.ScreenShareCancelled || d.ctx.Err() != nil {
			return // withdrawn by the agent, or the desk is closing
		}
		if err := d.link.ScreenShare(d.ctx, id, st); err != nil {
			d.log.Warn("deskproto: screen share answer failed", "screen_share", id, "err", err)
		}
	}()
}
