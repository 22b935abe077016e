package livechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/livechat/internal/wire"
)

// saved is what the kit persists so that a restart finds the chat again:
// the customer identity (a new token is issued for it), the chat, and the
// last event delivered (where the gap fill starts).
type saved struct {
	EntityID    string `json:"entity_id,omitempty"`
	ChatID      string `json:"chat_id,omitempty"`
	ThreadID    string `json:"thread_id,omitempty"`
	LastEventID string `json:"last_event_id,omitempty"`
	Joined      bool   `json:"joined,omitempty"`
	AgentID     string `json:"agent_id,omitempty"`
}

// errEnded is returned by calls after the chat is over.
var errEnded = errors.New("livechat: the chat is over")

type desk struct {
	vendorkit.Chat // lifetime, socket, typing indicator, joined and ended
	k              *Kit
	log            *slog.Logger

	calls    stream.Calls[wire.Frame] // answers by request_id
	gate     *stream.Gate             // this chat's: open while the connection's login is answered; guarded by mu
	gap      *stream.GapFiller[wire.Event]
	recovery *stream.Recovery[wire.Event]

	mu           sync.Mutex
	st           saved
	token        string
	tokenExpires time.Time
	staleToken   bool                 // LiveChat said the token expired or was revoked
	login        map[string]any       // the login payload's customer part (the hand-off)
	agents       map[string]wire.User // agents seen in the chat, by id
	transferring bool
	seenUpTo     string       // created_at of the latest agent event delivered
	pendingChat  string       // the chat a resume_chat in flight resumes
	conn         uint64       // the current socket's number; a stopped one's callbacks are ignored
	opened       int          // connections of the current socket so far
	fresh        bool         // the current socket is a new chat's: its first connection missed nothing
	starting     bool         // a start_chat or resume_chat is unanswered
	early        []wire.Frame // pushes of a chat that came before that answer named it
}

// maxEarly bounds the pushes held for a chat whose start is unanswered
// (a queue update, an agent joining, a greeting: a handful).
const maxEarly = 64

// The optional methods the desk has: every one but screen share.
var _ interface {
	servicedesk.ServiceDesk
	servicedesk.AvailabilityChecker
	servicedesk.TypingNotifier
	servicedesk.ReadNotifier
	servicedesk.FileSelectionValidator
	servicedesk.Reconnector
	io.Closer
} = (*desk)(nil)

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	st, err := vendorkit.LoadState[saved]("livechat", p.PersistedState)
	if err != nil {
		return nil, err
	}
	d := &desk{k: k, st: st, agents: map[string]wire.User{}, gate: &stream.Gate{}}
	d.Callback = p.Callback
	d.Begin(false)
	log := p.Logger
	if log == nil {
		log = k.log
	}
	d.log = log.With("kit", "livechat")
	// LiveChat replays nothing on a new connection: once it is logged in,
	// the gap is filled from the chat's threads.
	d.gap, d.recovery = vendorkit.Recover(&d.Chat, vendorkit.Replay[wire.Event]{
		ID: func(e wire.Event) string { return e.ID }, Deliver: d.deliver, Fetch: d.missed,
		Ready: func(ctx context.Context) error { return d.chatGate().Wait(ctx) }, Gone: func(err error) bool { return errors.Is(err, errEnded) },
	}, k.cfg.Backoff, d.log)
	return d, nil
}

func (d *desk) Name() string { return "livechat" }

func (d *desk) state() saved {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st
}

// save persists the state after change ran on it.
func (d *desk) save(change func(*saved)) {
	d.mu.Lock()
	change(&d.st)
	st := d.st
	d.mu.Unlock()
	if err := d.Callback.ReplacePersistedState(st); err != nil {
		d.log.Warn("livechat: persist state", "err", err)
	}
}

// customerToken returns the customer access token, issuing one (and the
// customer identity, the first time) when there is none or it expired.
func (d *desk) customerToken(ctx context.Context) (string, error) {
	d.mu.Lock()
	tok, exp, stale, entity := d.token, d.tokenExpires, d.staleToken, d.st.EntityID
	d.mu.Unlock()
	if tok != "" && !stale && (exp.IsZero() || time.Until(exp) > time.Minute) {
		return tok, nil
	}
	tok, id, exp, err := d.k.customerToken(ctx, entity)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	d.token, d.tokenExpires, d.staleToken = tok, exp, false
	d.mu.Unlock()
	if id != entity {
		d.save(func(s *saved) { s.EntityID = id })
	}
	return tok, nil
}

// AreAnyAgentsOnline asks list_group_statuses (Web API: the chat has no
// socket yet) about the configured group: online or online_for_queue is
// online.
func (d *desk) AreAnyAgentsOnline(ctx context.Context, _ servicedesk.MessageResponse) (servicedesk.OnlineStatus, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	tok, err := d.customerToken(ctx)
	if err != nil {
		return servicedesk.OnlineUnknown, err
	}
	var out wire.GroupStatuses
	if err := d.k.webAction(ctx, "list_group_statuses", tok, map[string]any{"group_ids": []int{d.k.cfg.GroupID}}, &out); err != nil {
		return servicedesk.OnlineUnknown, err
	}
	switch out.GroupsStatus[fmt.Sprint(d.k.cfg.GroupID)] {
	case wire.GroupOnline, wire.GroupOnlineForQueue:
		return servicedesk.Online, nil
	case "":
		return servicedesk.OnlineUnknown, nil
	}
	return servicedesk.Offline, nil
}

// StartChat logs the customer in over RTM (the hand-off as their name,
// email and session fields) and starts a chat whose opening event is the
// summary and the bot conversation.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	h := handoffOf(connectMessage, opts)
	d.mu.Lock()
	// The engine keeps one desk per session: a new chat after an ended one
	// starts from a clean slate, with the same customer identity, as a new
	// thread of the customer's chat (resume_chat).
	prev := d.st.ChatID
	d.st = saved{EntityID: d.st.EntityID}
	d.pendingChat = prev
	d.login = h.customer()
	d.agents, d.transferring, d.seenUpTo = map[string]wire.User{}, false, ""
	d.gate.Shut(errEnded) // the last chat's requests fail on its gate
	d.gate = &stream.Gate{}
	d.fresh = true
	d.starting, d.early = true, nil
	d.mu.Unlock()
	defer d.startAnswered()
	d.Begin(false)
	if err := d.open(); err != nil {
		return err
	}
	chat := map[string]any{"thread": map[string]any{"events": h.openingEvents()}}
	if g := d.k.cfg.GroupID; g != 0 {
		chat["access"] = map[string]any{"group_ids": []int{g}}
	}
	action := "start_chat"
	if prev != "" {
		action = "resume_chat"
		chat["id"] = prev
	}
	// Not sent again once it may have been carried out: a second
	// start_chat would be a second chat.
	raw, err := d.requestOnce(ctx, action, map[string]any{"chat": chat})
	if err != nil {
		return err
	}
	var sc wire.StartChat
	if err := decode(raw, &sc); err != nil {
		return fmt.Errorf("livechat: %s: %w: %w", action, servicedesk.ErrUnavailable, err)
	}
	sc.ChatID = cmpOr(sc.ChatID, prev)
	if sc.ChatID == "" {
		return fmt.Errorf("livechat: start_chat: an answer without chat_id: %w", servicedesk.ErrUnavailable)
	}
	d.save(func(s *saved) { s.ChatID, s.ThreadID = sc.ChatID, sc.ThreadID })
	d.Callback.UpdateCapabilities(servicedesk.Capabilities{AllowFileUploads: true, AllowMultipleFileUploads: true, MaxFileSizeBytes: MaxFileBytes}.FullUpdate())
	return nil
}

// over ends the chat from the desk's side (deactivated, or the customer
// disconnected for good).
func (d *desk) over(reason string) {
	d.chatGate().Shut(errEnded)
	d.EndedByDesk(reason, false) // quiet during a Reconnect
}

// EndChat deactivates the chat, unless the desk ended it; a chat LiveChat
// says is inactive or unknown (ErrChatNotFound) is over already.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	defer func() { d.chatGate().Shut(errEnded) }()
	chat := d.state().ChatID
	return d.Chat.EndChat(ctx, info, chat != "", func(ctx context.Context) error {
		_, err := d.request(ctx, "deactivate_chat", map[string]any{"id": chat})
		return err
	})
}

// Reconnect logs the persisted customer in again (a new token for the
// same identity) and finds the chat: an active thread goes on, and the
// connection's gap fill brings what was missed; an inactive one is over.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.state()
	defer d.Resume(st.Joined)()
	if st.ChatID == "" || st.EntityID == "" {
		return false, nil
	}
	d.mu.Lock()
	d.gate.Shut(errEnded)
	d.gate = &stream.Gate{}
	d.fresh = false
	d.mu.Unlock()
	if err := d.open(); err != nil {
		return false, err
	}
	raw, err := d.request(ctx, "get_chat", map[string]any{"chat_id": st.ChatID})
	if err != nil {
		if errors.Is(err, servicedesk.ErrChatNotFound) || errors.Is(err, errEnded) {
			d.chatGate().Shut(errEnded)
			d.Finish()
			return false, nil
		}
		return false, fmt.Errorf("livechat: Reconnect: %w", err)
	}
	var gc wire.GetChat
	if err := decode(raw, &gc); err != nil {
		return false, fmt.Errorf("livechat: Reconnect: get_chat: %w", err)
	}
	if gc.Thread == nil || !gc.Thread.Active {
		d.chatGate().Shut(errEnded)
		d.Finish()
		return false, nil
	}
	d.mu.Lock()
	for _, u := range gc.Users {
		if u.Type == wire.UserAgent {
			d.agents[u.ID] = u
		}
	}
	d.mu.Unlock()
	return true, nil
}

// chatGate is the current chat's gate: requests made for a chat hold on
// to it, so that one that outlives its chat fails rather than reach the
// next.
func (d *desk) chatGate() *stream.Gate {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gate
}

// Close stops the connection and every goroutine of the desk; it does not
// end the chat. It is idempotent.
func (d *desk) Close() error {
	if d.Chat.Close() {
		d.chatGate().Shut(errEnded)
		d.k.desks.Forget(d)
	}
	return nil
}

// Customer names the LiveChat customer and chat behind a session, for a
// Go host that calls the Customer Chat API itself (servicedesk.As,
// flow.Session.As).
type Customer struct {
	OrganizationID string
	EntityID       string
	ChatID         string
}

// As fills a *Customer once a chat was started or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Customer, bool) {
		st := d.state()
		return Customer{OrganizationID: d.k.cfg.OrganizationID, EntityID: st.EntityID, ChatID: st.ChatID}, st.ChatID != ""
	})
}
