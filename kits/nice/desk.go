package nice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/lifetime"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/nice/internal/wire"
)

// saved is what the kit persists so that a restart finds the chat again:
// the customer, the thread (the kit names it) and its contact, who is
// assigned, and the last agent message delivered (where the gap fill
// starts).
type saved struct {
	CustomerID string `json:"customer_id,omitempty"`
	VerifiedID string `json:"verified_id,omitempty"`
	ThreadID   string `json:"thread_id,omitempty"`
	ContactID  string `json:"contact_id,omitempty"`
	Joined     bool   `json:"joined,omitempty"`
	AgentID    string `json:"agent_id,omitempty"`
	LastID     string `json:"last_id,omitempty"`
	LastAt     string `json:"last_at,omitempty"`
}

// errEnded is returned by calls after the chat is over.
var errEnded = errors.New("nice: the chat is over")

type desk struct {
	vendorkit.Chat // lifetime, socket, typing indicator, joined and ended
	k              *Kit
	log            *slog.Logger
	st             vendorkit.Saved[saved]

	calls    stream.Calls[wire.Frame] // answers by eventId
	inbox    lifetime.Queue[item]     // pushes, for delivering
	gap      *stream.GapFiller[item]
	recovery *stream.Recovery[item]
	refresh  sync.Once          // starts the token refresher
	sockets  stream.Generations // a stopped socket's callbacks are ignored

	mu        sync.Mutex
	gate      *stream.Gate // this chat's: open once the connection is authorized
	identity  wire.Identity
	token     wire.Token
	tokenDue  time.Time // when the token is to be refreshed
	tokenKick chan struct{}
	authEvent string // the eventId of the connection's authorization
	agentID   string // CXone's id of the assignee
	opened    int    // connections of the current socket so far
	fresh     bool   // the current socket is a new chat's: its first connection missed nothing
}

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
	log := p.Logger
	if log == nil {
		log = k.log
	}
	d := &desk{k: k, log: log.With("kit", "nice"), gate: &stream.Gate{}, tokenKick: make(chan struct{}, 1)}
	if err := d.st.Load("nice", p, d.log); err != nil {
		return nil, err
	}
	d.Callback = p.Callback
	d.agentID = d.st.State().AgentID
	d.Begin(false)
	d.Life.Go(d.delivering)
	// CXone replays nothing on a new connection: RecoverLivechat brings
	// the thread's messages, merged with the live pushes by message id.
	d.gap, d.recovery = vendorkit.Recover(&d.Chat, vendorkit.Replay[item]{
		ID: func(it item) string { return it.id }, Deliver: d.deliver, Fetch: d.missed,
		Ready: func(ctx context.Context) error { return d.chatGate().Wait(ctx) }, Gone: func(err error) bool { return errors.Is(err, errEnded) },
	}, k.cfg.Backoff, d.log)
	return d, nil
}

func (d *desk) Name() string { return "nice" }

// authorized reports whether customers are OAuth-authorized ones.
func (d *desk) authorized() bool { return d.k.cfg.AuthorizationCode != nil }

// StartChat opens a thread of the kit's naming and, with its first
// message (the summary and the bot conversation, the hand-off as the
// contact's custom fields), a contact: CXone routes it to an agent.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	h := opts.Handoff.WithConnectMessage(connectMessage)
	prev := d.st.State()
	st := saved{CustomerID: prev.CustomerID, ThreadID: vendorkit.NewUUID()}
	if st.CustomerID == "" && !d.authorized() {
		st.CustomerID = vendorkit.NewUUID()
	}
	if c := h.Customer; c != nil {
		st.VerifiedID = c.ID // whom the authorization code is for
	}
	d.renew(true, identityOf(h))
	d.st.Update(func(s *saved) { *s = st })
	d.Begin(false)
	if err := d.open(); err != nil {
		return err
	}
	ans, err := d.sendMessage(ctx, vendorkit.NewUUID(), openingText(h), nil, customFields(h))
	if err != nil {
		return fmt.Errorf("nice: start chat: %w", err)
	}
	if ans.Case.ID != "" {
		d.st.Update(func(s *saved) { s.ContactID = string(ans.Case.ID) })
	}
	d.Callback.UpdateCapabilities(d.k.cfg.Capabilities.FullUpdate())
	return nil
}

// renew starts a chat's connection state: a new gate (the last chat's
// requests fail on theirs), no assignee.
func (d *desk) renew(fresh bool, id wire.Identity) {
	d.mu.Lock()
	d.gate.Shut(errEnded)
	d.gate = &stream.Gate{}
	d.fresh = fresh
	if id.FirstName != "" || id.LastName != "" || fresh {
		d.identity = id
	}
	if fresh {
		d.agentID = ""
	}
	d.mu.Unlock()
}

// chatGate is the current chat's gate: requests made for a chat hold on
// to it, so that one that outlives its chat fails rather than reach the
// next.
func (d *desk) chatGate() *stream.Gate {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gate
}

// over ends the chat from the desk's side (the contact closed, the
// customer refused).
func (d *desk) over(reason string) {
	d.chatGate().Shut(errEnded)
	d.EndedByDesk(reason, false) // quiet during a Reconnect
}

// EndChat ends the contact (EndContact), unless the desk ended it.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	defer func() { d.chatGate().Shut(errEnded) }()
	st := d.st.State()
	err := d.Chat.EndChat(ctx, info, st.ThreadID != "", func(ctx context.Context) error {
		_, err := d.request(ctx, wire.EndContact, map[string]any{"thread": wire.Ref{IDOnExternalPlatform: st.ThreadID}, "contact": wire.Ref{ID: st.ContactID}})
		return err
	})
	d.forget()
	return err
}

// forget clears the persisted chat; the customer stays for the
// session's next chat.
func (d *desk) forget() {
	d.st.Change(func(s *saved) { *s = saved{CustomerID: s.CustomerID, VerifiedID: s.VerifiedID} })
	if err := d.Callback.ReplacePersistedState(map[string]any{}); err != nil {
		d.log.Warn("nice: clear state", "err", err)
	}
}

// Reconnect connects again as the persisted customer and recovers the
// thread (RecoverLivechat): a contact that goes on is followed again,
// and the connection's gap fill brings what was missed; a closed one, or
// a thread CXone does not know, is over.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.st.State()
	defer d.Resume(st.Joined)()
	if st.ThreadID == "" || (st.CustomerID == "" && !d.authorized()) {
		return false, nil
	}
	d.renew(false, wire.Identity{})
	if err := d.open(); err != nil {
		return false, err
	}
	rec, err := d.recover(ctx)
	if err == nil && rec.Contact.Closed() {
		err = servicedesk.ErrChatNotFound
	}
	if err != nil {
		if errors.Is(err, servicedesk.ErrChatNotFound) || errors.Is(err, errEnded) {
			d.chatGate().Shut(errEnded)
			d.Finish()
			return false, nil
		}
		return false, fmt.Errorf("nice: reconnect thread %s: %w", st.ThreadID, err)
	}
	if rec.Contact.ID != "" && st.ContactID == "" {
		d.st.Update(func(s *saved) { s.ContactID = string(rec.Contact.ID) })
	}
	return true, nil
}

// Close stops the connection and every goroutine of the desk; it does not
// end the chat. It is idempotent.
func (d *desk) Close() error {
	if d.k.desks.CloseChat(d, &d.Chat) {
		d.chatGate().Shut(errEnded)
	}
	return nil
}

// Customer names the CXone customer and thread behind a session, for a Go
// host that calls CXone itself (servicedesk.As, flow.Session.As).
type Customer struct {
	BrandID    int
	ChannelID  string
	CustomerID string
	ThreadID   string
	ContactID  string
}

// As fills a *Customer once a chat was started or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Customer, bool) {
		st := d.st.State()
		return Customer{BrandID: d.k.cfg.BrandID, ChannelID: d.k.cfg.ChannelID, CustomerID: st.CustomerID, ThreadID: st.ThreadID, ContactID: st.ContactID}, st.ThreadID != ""
	})
}
