package egain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/egain/internal/wire"
)

// saved is what the kit persists so that a reload or restart resumes the
// relay session: its ids and token, whether an agent joined, and the last
// message delivered (where a new connection's replay starts).
type saved struct {
	SessionID     string `json:"session_id,omitempty"`
	UserID        string `json:"user_id,omitempty"`
	Token         string `json:"token,omitempty"`
	LastMessageID string `json:"last_message_id,omitempty"`
	Joined        bool   `json:"joined,omitempty"`
	Agent         string `json:"agent,omitempty"` // the agent's name
}

// errEnded is returned by calls after the chat is over.
var errEnded = errors.New("egain: the chat is over")

type desk struct {
	vendorkit.Chat // lifetime, socket, typing indicator, joined and ended
	k              *Kit
	log            *slog.Logger

	calls stream.Calls[wire.Push] // action answers by messageId

	mu      sync.Mutex
	st      saved
	seen    *stream.Deduper // the chat's messages delivered, by id
	down    bool            // an outage was reported
	opened  chan struct{}   // closed once a connection is up
	refusal string          // agent.unavailable's reason
}

var (
	_ servicedesk.ServiceDesk         = (*desk)(nil)
	_ servicedesk.TypingNotifier      = (*desk)(nil)
	_ servicedesk.AvailabilityChecker = (*desk)(nil)
	_ servicedesk.Reconnector         = (*desk)(nil)
	_ io.Closer                       = (*desk)(nil)
)

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	st, err := vendorkit.LoadState[saved]("egain", p.PersistedState)
	if err != nil {
		return nil, err
	}
	d := &desk{k: k, st: st, seen: stream.NewDeduper(0), opened: make(chan struct{})}
	d.Callback = p.Callback
	d.Begin(false)
	log := p.Logger
	if log == nil {
		log = k.log
	}
	d.log = log.With("kit", "egain")
	return d, nil
}

func (d *desk) Name() string { return "egain" }

func (d *desk) state() saved {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st
}

// StartChat initializes a relay session for the entry point with the
// customer and the hand-off as attributes, then opens its WebSocket.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	summary, _, _ := connectMessage.Handoff()
	h := opts.Handoff
	// The engine keeps one desk per session: a new chat after an ended one
	// starts from a clean slate, with a new relay session.
	st := saved{SessionID: vendorkit.NewUUID(), UserID: vendorkit.NewUUID()}
	req := wire.InitRequest{SessionID: st.SessionID, UserID: st.UserID, EntryPointID: d.k.cfg.EntryPointID, Attributes: d.attributes(h, summary)}
	if c := h.Customer; c != nil {
		req.UserID = c.ID
		req.Customer = &wire.Customer{ID: c.ID, Name: c.Name, Email: c.Email}
		st.UserID = c.ID
	}
	d.Begin(false)
	d.mu.Lock()
	d.st, d.seen, d.down, d.refusal = st, stream.NewDeduper(0), false, ""
	d.opened = make(chan struct{})
	d.mu.Unlock()
	tok, err := d.k.initialize(ctx, req)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.st.Token = tok
	st = d.st
	d.mu.Unlock()
	if err := d.Callback.ReplacePersistedState(st); err != nil {
		d.log.Warn("egain: persist state", "err", err)
	}
	if err := d.open(); err != nil {
		return err
	}
	return d.awaitOpened(ctx, "StartChat")
}

// awaitOpened waits for a connection's replay to be done (or the chat to
// end).
func (d *desk) awaitOpened(ctx context.Context, op string) error {
	d.mu.Lock()
	opened := d.opened
	d.mu.Unlock()
	select {
	case <-opened:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("egain: %s: the relay's WebSocket: %w: %w", op, servicedesk.ErrUnavailable, ctx.Err())
	}
}

// attributes are the hand-off as Conversation Hub attributes: the
// routing attributes, the customer, the summary and the claims
// (vendorkit.Attributes), then the newest transcript lines that fit.
func (d *desk) attributes(h servicedesk.Handoff, summary string) []wire.Attribute {
	a := vendorkit.Attributes{MaxBytes: d.k.cfg.MaxAttributeBytes}
	a.PutHandoff(h, d.k.cfg.SummaryAttribute, summary)
	const key = "transcript"
	if room := a.Room(key); room > 64 && len(h.Transcript) > 0 {
		head := "Conversation with the bot before the hand-off:"
		if h.TranscriptUnverified {
			head = "Conversation with the bot, as the page reported it (unverified):"
		}
		lines, omitted := vendorkit.TranscriptLines(h, room-len(head)-1, 500)
		if omitted > 0 {
			d.log.Info("egain: transcript turns left out of the hand-off", "left_out", omitted)
		}
		if len(lines) > 0 {
			a.Put(key, head+"\n"+strings.Join(lines, "\n"))
		}
	}
	if a.Dropped > 0 {
		d.log.Warn("egain: hand-off attributes left out", "left_out", a.Dropped, "max_bytes", d.k.cfg.MaxAttributeBytes)
	}
	m := a.Map()
	out := make([]wire.Attribute, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, wire.Attribute{Name: k, Value: m[k]})
	}
	return out
}

// AreAnyAgentsOnline asks the entry point's agentAvailability.
func (d *desk) AreAnyAgentsOnline(ctx context.Context, _ servicedesk.MessageResponse) (servicedesk.OnlineStatus, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	on, err := d.k.online(ctx)
	if err != nil {
		return servicedesk.OnlineUnknown, err
	}
	if on {
		return servicedesk.Online, nil
	}
	return servicedesk.Offline, nil
}

// SendMessageToAgent sends the text with the engine's message id as its
// messageId, so that a resend after a lost answer is taken once.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, _ servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	if d.state().Token == "" {
		return fmt.Errorf("egain: SendMessageToAgent: %w", servicedesk.ErrNoChat)
	}
	if message.Input.Text == "" {
		return nil
	}
	return d.act(ctx, wire.ClientFrame{Type: wire.TypeText, Message: message.Input.Text, MessageID: messageID})
}

// UserTyping sends typing.start or typing.end.
func (d *desk) UserTyping(ctx context.Context, isTyping bool) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	if d.state().Token == "" || d.Ended() {
		return nil
	}
	typ := wire.TypeTypingEnd
	if isTyping {
		typ = wire.TypeTypingStart
	}
	return d.act(ctx, wire.ClientFrame{Type: typ, MessageID: vendorkit.NewUUID()})
}

// EndChat sends conversation.end, unless the desk ended the chat.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	return d.Chat.EndChat(ctx, info, d.state().Token != "", func(ctx context.Context) error {
		err := d.act(ctx, wire.ClientFrame{Type: wire.TypeConversationEnd, Message: wire.EndMessage, MessageID: vendorkit.NewUUID()})
		if errors.Is(err, errEnded) {
			return nil
		}
		return err
	})
}

// Reconnect resumes the persisted relay session: a new connection replays
// what came after the last message delivered; a session the relay no
// longer knows, or one that is over, answers false.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.state()
	defer d.Resume(st.Joined)()
	if st.Token == "" {
		return false, nil
	}
	if err := d.open(); err != nil {
		return false, err
	}
	if err := d.awaitOpened(ctx, "Reconnect"); err != nil {
		return false, err
	}
	return !d.Ended(), nil
}

// Close stops the connection and every goroutine of the desk; it does not
// end the chat. It is idempotent.
func (d *desk) Close() error {
	d.k.desks.CloseChat(d, &d.Chat)
	return nil
}

// Session names the relay session behind a chat, for a Go host that
// calls eGain itself (servicedesk.As, flow.Session.As).
type Session struct {
	EntryPointID, SessionID, UserID string
}

// As fills a *Session once a chat was started or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Session, bool) {
		st := d.state()
		return Session{EntryPointID: d.k.cfg.EntryPointID, SessionID: st.SessionID, UserID: st.UserID}, st.Token != ""
	})
}
