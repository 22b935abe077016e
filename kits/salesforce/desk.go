package salesforce

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/salesforce/internal/wire"
)

// saved is what the kit persists so that a reload or a restart resumes
// the end user's conversation: the access token (its subject owns the
// conversation), the conversation, the stream's last event id, and the
// last entry delivered (where the gap fill starts).
type saved struct {
	Token          string `json:"token,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	LastEventID    string `json:"last_event_id,omitempty"`
	LastEntryTime  int64  `json:"last_entry_time,omitempty"`
	Joined         bool   `json:"joined,omitempty"`
}

// errEnded is returned by calls after the conversation is over.
var errEnded = errors.New("salesforce: the conversation is over")

type desk struct {
	vendorkit.Chat // lifetime, typing indicator, joined and ended
	k              *Kit
	log            *slog.Logger

	gap      *stream.GapFiller[wire.Entry]
	recovery *stream.Recovery[wire.Entry]
	typing   retry.Throttle
	renewMu  sync.Mutex

	vendorkit.Saved[saved] // the end user's token, the conversation, the stream's and the entries' positions

	mu           sync.Mutex
	created      bool   // POST /conversation succeeded (the gap fill has something to read)
	transferring bool   // a Transfer routing result came; the old agent's leave is part of it
	lastAgent    string // the last agent entry delivered (what a read acknowledges)
	lastText     string // the last system text before an agent
}

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	d := &desk{k: k, log: cmp.Or(p.Logger, k.log).With("kit", "salesforce")}
	if err := d.Load("salesforce", p, d.log); err != nil {
		return nil, err
	}
	d.Callback = p.Callback
	d.Begin(false)
	d.typing.Interval = k.cfg.TypingInterval
	// The stream replays from Last-Event-Id, but not past what the event
	// router kept: after every connection the entries list fills the gap.
	d.gap, d.recovery = vendorkit.Recover(&d.Chat, vendorkit.Replay[wire.Entry]{
		ID: func(e wire.Entry) string { return e.Identifier }, Deliver: d.deliver, Fetch: d.fetchEntries,
		Gone: func(err error) bool { return errors.Is(err, errEnded) || errors.Is(err, servicedesk.ErrChatNotFound) },
		Over: func(error) { d.over("") },
	}, k.cfg.Backoff, d.log)
	return d, nil
}

func (d *desk) conversation() string { return d.State().ConversationID }

func (d *desk) Name() string { return "salesforce" }

// StartChat gets a new end user's access token, opens its stream, and
// creates the conversation with the hand-off as routing attributes.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	h := opts.Handoff.WithConnectMessage(connectMessage)
	d.Stream.Stop(&d.Life)
	// The engine keeps one desk per session: a new chat after an ended one
	// starts from a clean slate, with a new end user.
	d.Change(func(s *saved) { *s = saved{} })
	d.mu.Lock()
	d.created, d.transferring, d.lastAgent, d.lastText = false, false, "", ""
	d.mu.Unlock()
	d.Begin(false)
	tok, err := d.k.accessToken(ctx, h.Customer)
	if err != nil {
		return err
	}
	conv := vendorkit.NewUUID()
	// Persisted before the conversation exists: a restart in between finds
	// it (or learns it was never made) instead of losing it.
	d.Update(func(s *saved) { *s = saved{Token: tok.AccessToken, ConversationID: conv, LastEventID: tok.LastEventID} })
	if err := d.openStream(); err != nil {
		return err
	}
	body := map[string]any{"conversationId": conv, "esDeveloperName": d.k.cfg.DeveloperName}
	if attrs := d.routingAttributes(h); len(attrs) > 0 {
		body["routingAttributes"] = attrs
	}
	if err := d.call(ctx, "create conversation", http.MethodPost, "/iamessage/api/v2/conversation", body, nil); err != nil {
		d.Stream.Stop(&d.Life)
		return err
	}
	d.mu.Lock()
	d.created = true
	d.mu.Unlock()
	return nil
}

// over ends the chat from the desk's side (closed, routing failed, the
// token can no longer be renewed).
func (d *desk) over(reason string) {
	d.mu.Lock()
	if reason == "" {
		reason = d.lastText
	}
	d.mu.Unlock()
	if reason == "" {
		reason = "The conversation was closed."
	}
	d.EndedByDesk(reason, false) // the stream stopped first; quiet during a Reconnect
}

// EndChat closes the conversation (DELETE …/conversation/{id}), unless the
// desk ended it.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	conv := d.conversation()
	return d.Chat.EndChat(ctx, info, conv != "", func(ctx context.Context) error {
		return d.call(ctx, "close conversation", http.MethodDelete,
			"/iamessage/api/v2/conversation/"+conv+"?esDeveloperName="+url.QueryEscape(d.k.cfg.DeveloperName), nil, nil)
	})
}

// Reconnect resumes the persisted end user's conversation: a continuation
// token proves the subject still holds it, the open conversations list
// tells whether it goes on, and the stream (Last-Event-Id) with the
// entries fill brings what was missed.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.State()
	d.mu.Lock()
	d.created = st.ConversationID != ""
	d.mu.Unlock()
	defer d.Resume(st.Joined)()
	if st.Token == "" || st.ConversationID == "" {
		return false, nil
	}
	if err := d.renew(ctx, st.Token); err != nil {
		if errors.Is(err, servicedesk.ErrChatNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("salesforce: Reconnect: %w", err)
	}
	open, err := d.isOpen(ctx)
	if err != nil {
		return false, fmt.Errorf("salesforce: Reconnect: %w", err)
	}
	if !open {
		d.Finish()
		return false, nil
	}
	if err := d.openStream(); err != nil {
		return false, err
	}
	return true, nil
}

// isOpen reports whether the conversation is among the subject's open
// ones.
func (d *desk) isOpen(ctx context.Context) (bool, error) {
	conv := d.conversation()
	var l wire.ConversationList
	if err := d.call(ctx, "list conversations", http.MethodGet, "/iamessage/api/v2/conversation/list?inclClosedConvs=false&limit=50", nil, &l); err != nil {
		if errors.Is(err, servicedesk.ErrChatNotFound) {
			return false, nil
		}
		return false, err
	}
	for _, c := range l.Conversations {
		if strings.EqualFold(c.ConversationID, conv) {
			return true, nil
		}
	}
	return false, nil
}

// Close stops the stream and every goroutine of the desk; it does not end
// the chat. It is idempotent.
func (d *desk) Close() error {
	d.k.desks.CloseChat(d, &d.Chat)
	return nil
}
