package chatwoot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/actioncable"
	"github.com/deskbridge/deskbridge/core/transport/lifetime"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/chatwoot/internal/wire"
)

// saved is what the kit persists so that a restart resumes the contact's
// conversation: the contact (source id, pubsub token), the conversation,
// the last message delivered (where the gap fill stops) and the agent.
type saved struct {
	SourceID       string `json:"source_id,omitempty"`
	PubsubToken    string `json:"pubsub_token,omitempty"`
	ConversationID int64  `json:"conversation_id,omitempty"`
	LastMessageID  int64  `json:"last_message_id,omitempty"`
	Agent          string `json:"agent,omitempty"`
}

// errEnded is returned by calls after the conversation is over.
var errEnded = errors.New("chatwoot: the conversation is over")

// item is one event of the chat, from the cable or from the gap fill.
type item struct {
	name   string
	msg    *wire.Message
	conv   *wire.Conversation
	typing *wire.Typing
}

// itemID names messages, the only items both sources carry.
func itemID(it item) string {
	if it.msg != nil {
		return "m" + string(it.msg.ID)
	}
	return ""
}

type desk struct {
	vendorkit.Chat // lifetime, cable slot, typing indicator, joined and ended
	k              *Kit
	log            *slog.Logger

	gap      *stream.GapFiller[item]
	recovery *stream.Recovery[item]
	typing   retry.Throttle

	mu     sync.Mutex
	st     saved
	floor  int64               // the last message delivered before a restart: older ones are old
	echoes map[string]struct{} // echo_ids Chatwoot has shown back: messages it stored
	mine   map[int64]bool      // ids of the contact's messages the kit knows it posted
}

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	st, err := vendorkit.LoadState[saved]("chatwoot", p.PersistedState)
	if err != nil {
		return nil, err
	}
	d := &desk{k: k, st: st, floor: st.LastMessageID, echoes: map[string]struct{}{}, mine: map[int64]bool{}}
	d.Callback = p.Callback
	d.Begin(false)
	d.log = cmp.Or(p.Logger, k.log).With("kit", "chatwoot")
	d.typing.Interval = k.cfg.TypingInterval
	// ActionCable replays nothing: after every subscription the messages
	// list fills the gap. A conversation gone or over ends the chat
	// instead of more tries.
	d.gap, d.recovery = vendorkit.Recover(&d.Chat, vendorkit.Replay[item]{
		ID: itemID, Deliver: d.deliver, Seen: d.seen, Fetch: d.fetch, Ready: d.subscribed,
		Gone: func(err error) bool { return errors.Is(err, servicedesk.ErrChatNotFound) || errors.Is(err, errEnded) },
		Over: func(error) { d.over() },
	}, k.cfg.Backoff, d.log)
	return d, nil
}

// subscribed waits until the cable's subscription serves.
func (d *desk) subscribed(ctx context.Context) error {
	if c := d.Cable.Get(); c != nil {
		return c.Ready(ctx)
	}
	return errEnded
}

func (d *desk) Name() string { return "chatwoot" }

func (d *desk) state() saved {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st
}

func (d *desk) contactPath() string { return d.k.inbox + "/contacts/" + d.state().SourceID }

func (d *desk) conversationPath() string {
	st := d.state()
	return d.k.inbox + "/contacts/" + st.SourceID + "/conversations/" + strconv.FormatInt(st.ConversationID, 10)
}

// StartChat creates the contact (its identity verified by HMAC when it is
// the site's verified customer), subscribes to its RoomChannel, creates
// the conversation with the hand-off's attributes, posts the summary and
// the bot transcript, and opens a pending conversation for the agents.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	h := opts.Handoff.WithConnectMessage(connectMessage)
	d.Cable.Stop(&d.Life)
	d.mu.Lock()
	// The engine keeps one desk per session: a new chat after an ended one
	// starts from a clean slate, with a new contact.
	d.st, d.floor, d.echoes, d.mine = saved{}, 0, map[string]struct{}{}, map[int64]bool{}
	d.mu.Unlock()
	d.Begin(false)
	d.Callback.UpdateCapabilities(d.k.caps.FullUpdate())
	var c wire.Contact
	if err := d.k.call(ctx, "create contact", http.MethodPost, d.k.inbox+"/contacts", d.contactBody(h), &c); err != nil {
		return err
	}
	if c.SourceID == "" || c.PubsubToken == "" {
		return fmt.Errorf("chatwoot: create contact: %w: no source_id or pubsub_token", servicedesk.ErrRejected)
	}
	d.mu.Lock()
	d.st = saved{SourceID: c.SourceID, PubsubToken: c.PubsubToken}
	d.mu.Unlock()
	// Subscribed before the conversation exists: nothing of it is missed
	// (the cable replays nothing, and an assignment is in no list).
	if err := d.openCable(); err != nil {
		return err
	}
	if err := d.subscribed(ctx); err != nil {
		d.Cable.Stop(&d.Life)
		return fmt.Errorf("chatwoot: subscribe: %w: %w", servicedesk.ErrUnavailable, err)
	}
	var conv wire.Conversation
	body := map[string]any{"custom_attributes": d.attributes(h)}
	if err := d.k.call(ctx, "create conversation", http.MethodPost, d.contactPath()+"/conversations", body, &conv); err != nil {
		d.Cable.Stop(&d.Life)
		return err
	}
	d.mu.Lock()
	d.st.ConversationID = conv.ID.Int()
	st := d.st
	d.mu.Unlock()
	if st.ConversationID == 0 {
		d.Cable.Stop(&d.Life)
		return fmt.Errorf("chatwoot: create conversation: %w: no id", servicedesk.ErrRejected)
	}
	if err := d.Callback.ReplacePersistedState(st); err != nil {
		d.log.Warn("chatwoot: persist state", "err", err)
	}
	d.transcript(ctx, h)
	return d.handOver(ctx, conv.Status)
}

// transcript delivers the bot transcript: with the bot's token a private
// note (agents only) while the bot holds the conversation; without it the
// contact's first message. A failure is only logged: the hand-off goes on.
func (d *desk) transcript(ctx context.Context, h servicedesk.Handoff) {
	text := d.opening(h)
	if text == "" {
		return
	}
	var err error
	if d.k.cfg.BotToken != "" {
		path := fmt.Sprintf("/api/v1/accounts/%s/conversations/%d/messages", d.k.cfg.AccountID, d.state().ConversationID)
		err = d.k.bot(ctx, "post note", http.MethodPost, path, map[string]any{"content": text, "private": true, "message_type": "outgoing"})
	} else {
		err = d.post(ctx, vendorkit.NewUUID(), text, nil)
	}
	if err != nil {
		d.log.Warn("chatwoot: bot transcript not sent", "err", err)
	}
}

// handOver opens a conversation the inbox's agent bot holds (pending) for
// the agents, with the bot's token.
func (d *desk) handOver(ctx context.Context, status string) error {
	if status != wire.StatusPending {
		return nil
	}
	if d.k.cfg.BotToken == "" {
		d.log.Warn("chatwoot: the conversation is pending and no bot token can open it", "conversation", d.state().ConversationID)
		return nil
	}
	path := fmt.Sprintf("/api/v1/accounts/%s/conversations/%d/toggle_status", d.k.cfg.AccountID, d.state().ConversationID)
	return d.k.bot(ctx, "open conversation", http.MethodPost, path, map[string]string{"status": wire.StatusOpen})
}

func (d *desk) openCable() error {
	if d.Life.Closed() {
		return lifetime.ErrClosed
	}
	tok := d.state().PubsubToken
	d.Cable.Open(func() *actioncable.Client {
		return actioncable.Open(actioncable.Config{
			URL:        d.k.cable,
			Header:     http.Header{"Origin": {d.k.cfg.Origin}},
			Identifier: actioncable.Identifier("RoomChannel", map[string]string{"pubsub_token": tok}),
			OnMessage:  d.onCable,
			OnState:    d.recovery.Handle(&d.Life),
			OnFatal:    func(err error) { d.log.Info("chatwoot: subscription refused", "err", err); d.over() },
			StaleAfter: d.k.cfg.StaleAfter,
			Backoff:    d.k.cfg.CableBackoff,
			Logger:     d.log,
		})
	})
	return nil
}

// over ends the chat from the desk's side (resolved, the contact gone).
func (d *desk) over() { d.EndedByDesk("The conversation was resolved.", false) }

// EndChat resolves the conversation (toggle_status), unless the desk
// ended it.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	return d.Chat.EndChat(ctx, info, d.state().ConversationID != 0, func(ctx context.Context) error {
		return d.k.call(ctx, "resolve conversation", http.MethodPost, d.conversationPath()+"/toggle_status", nil, nil)
	})
}

// Reconnect resumes the persisted contact's conversation when it is not
// resolved; the cable's first subscription fills what was missed.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.state()
	defer d.Resume(st.Agent != "")()
	d.Callback.UpdateCapabilities(d.k.caps.FullUpdate())
	if st.PubsubToken == "" || st.ConversationID == 0 {
		return false, nil
	}
	var conv wire.Conversation
	if err := d.k.call(ctx, "show conversation", http.MethodGet, d.conversationPath(), nil, &conv); err != nil {
		if errors.Is(err, servicedesk.ErrChatNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("chatwoot: Reconnect: %w", err)
	}
	if conv.Status == wire.StatusResolved {
		d.Finish()
		return false, nil
	}
	err := d.openCable()
	return err == nil, err
}

// Close stops the cable and every goroutine of the desk; it does not end
// the chat. It is idempotent.
func (d *desk) Close() error {
	d.k.desks.CloseChat(d, &d.Chat)
	return nil
}

func decodeInto(b []byte, out any) error {
	if out == nil || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("chatwoot: decode: %w", err)
	}
	return nil
}
