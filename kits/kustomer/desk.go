package kustomer

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/kustomer/internal/wire"
)

// saved is what the kit persists so that a reload or restart finds the
// chat session again, and where the reading of its messages resumes.
type saved struct {
	CustomerID     string `json:"customer_id,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	// Cursor is the id of the last message of the session the kit has
	// dealt with (shown, or passed over as the customer's or the bot's).
	Cursor string `json:"cursor,omitempty"`
	// Agent is the agent in the chat now; nil before the first joins and
	// after one left.
	Agent *servicedesk.AgentProfile `json:"agent,omitempty"`
	// AgentAt is when Agent was last heard of (a message's createdAt, a
	// conversation's updatedAt): an older snapshot of the conversation
	// does not change the agent.
	AgentAt string `json:"agent_at,omitempty"`
	// Joined: an agent joined the chat (vendorkit.Chat.JoinAgent saves it).
	Joined bool `json:"joined,omitempty"`
}

type desk struct {
	vendorkit.Chat              // lifetime, joined and ended
	vendorkit.Saved[saved]      // the session, its cursor, the agent
	k                      *Kit //
	session                string
	log                    *slog.Logger
	outage                 vendorkit.Outage   // DISCONNECTED from the desk's own calls
	reader                 vendorkit.Reader   // the worker: reads and ends in order
	following              webhook.Following  // the conversation whose events come here
	profiles               vendorkit.Profiles // agents' profiles, by user id
}

// The optional methods the desk has: file checks, resume.
type optional interface {
	servicedesk.FileSelectionValidator
	servicedesk.Reconnector
	io.Closer
}

var _ optional = (*desk)(nil)

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	d := &desk{k: k, session: p.Instance.SessionID(), log: cmp.Or(p.Logger, k.log).With("kit", Name),
		outage: vendorkit.Outage{After: 3}}
	d.profiles = vendorkit.Profiles{Read: d.readUser, Complete: k.cfg.AgentProfile, Logger: d.log}
	if err := d.Load(Name, p, d.log); err != nil {
		return nil, err
	}
	d.Callback = p.Callback
	d.Begin(d.State().Joined)
	d.reader = vendorkit.Reader{Read: d.fill, Gone: gone, Over: func(error) { d.over("The conversation is gone.") },
		Interval: k.cfg.ReconcileInterval, Backoff: k.cfg.Backoff, Logger: d.log}
	if !d.Life.Go(func() { d.reader.Run(d.Life.Context()) }) {
		return nil, errors.New("closed")
	}
	return d, nil
}

func (d *desk) Name() string { return Name }

func (d *desk) conversationPath() string {
	return "/v1/conversations/" + url.PathEscape(d.State().ConversationID)
}

// StartChat makes (or finds) the customer and hands the chat over: one
// handoff call opens the chat session with the bot's transcript and the
// hand-off note imported, and Kustomer routes its conversation to an
// agent.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	h := handoffOf(connectMessage, opts, d.session)
	d.leave()
	d.reader.Clear()
	d.outage.Reset()
	d.Update(func(s *saved) { *s = saved{} })
	d.Begin(false)
	d.Callback.UpdateCapabilities(d.k.caps.FullUpdate())
	customerID, err := d.ensureCustomer(ctx, h)
	if err != nil {
		return err
	}
	conv, err := d.startSession(ctx, h, customerID)
	if err != nil {
		return err
	}
	d.Update(func(s *saved) { s.CustomerID, s.ConversationID = customerID, conv })
	d.follow(conv)
	d.reader.Ring()
	return nil
}

// EndChat closes the conversation (status done), unless the agent ended
// it, and forgets it.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	defer d.leave()
	st := d.State()
	err := d.Chat.EndChat(ctx, info, st.ConversationID != "", func(ctx context.Context) error {
		err := d.call(ctx, httpjson.Call{Op: "close conversation", Method: http.MethodPatch, Path: d.conversationPath(), Body: map[string]any{"status": wire.StatusDone}})
		if gone(err) {
			return nil
		}
		return err
	})
	if err == nil {
		d.Update(func(s *saved) { *s = saved{} })
	}
	return err
}

// Reconnect finds the persisted conversation: still open, the chat goes
// on and what the agent said since the cursor is read; done or gone, it is
// over.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.State()
	resumed := d.Resume(st.Joined)
	defer resumed()
	if st.ConversationID == "" {
		return false, nil
	}
	var conv wire.Doc[wire.Conversation]
	err := d.call(ctx, httpjson.Call{Op: "get conversation", Method: http.MethodGet, Path: d.conversationPath(), Out: &conv})
	switch {
	case gone(err) || err == nil && conv.Data.Attributes.Status == wire.StatusDone:
		d.Update(func(s *saved) { *s = saved{} })
		return false, nil
	case err != nil:
		return false, err
	}
	d.follow(st.ConversationID)
	d.reader.Ring()
	return true, nil
}

// follow routes conversation id's events here.
func (d *desk) follow(id string) { d.following.Set(d.k.router.Follow(id, d.onEvent)) }

// leave stops routing the conversation's events here.
func (d *desk) leave() { d.following.Stop() }

// over ends the chat from the desk's side.
func (d *desk) over(reason string) {
	d.EndedByDesk(reason, false)
	d.leave()
}

// Close stops the desk's goroutines (its worker, the conversation's
// route); the chat itself goes on at Kustomer. It is idempotent.
func (d *desk) Close() error {
	if first := d.k.desks.CloseChat(d, &d.Chat); first {
		d.following.Stop()
	}
	return nil
}

// Session names the Kustomer chat session behind a deskbridge session, for
// a Go host that calls the API itself (servicedesk.As, flow.Session.As).
// A chat session's id is its conversation's.
type Session struct {
	CustomerID     string
	ConversationID string
}

// As fills a *Session once a chat started or resumed.
func (d *desk) As(target any) bool {
	st := d.State()
	s := Session{CustomerID: st.CustomerID, ConversationID: st.ConversationID}
	return vendorkit.As(target, func() (Session, bool) { return s, s.ConversationID != "" })
}
