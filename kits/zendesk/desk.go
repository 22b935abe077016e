package zendesk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/zendesk/internal/wire"
)

// saved is what the kit persists so that a reload or restart finds the
// conversation again, and where the fill of the agent's messages resumes.
type saved struct {
	UserID         string `json:"user_id,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	// Cursor is the id of the last message of the conversation the kit
	// has dealt with (shown, or skipped as its own).
	Cursor string                    `json:"cursor,omitempty"`
	Agent  *servicedesk.AgentProfile `json:"agent,omitempty"`
}

// Metadata keys the kit sets on the messages it posts.
const (
	metaMessageID = "deskbridge_message_id" // the engine's message id
	metaHandoff   = "deskbridge_handoff"    // the transcript and summary
)

type desk struct {
	vendorkit.Chat         // lifetime, typing indicator, joined and ended
	k                      *Kit
	session                string
	log                    *slog.Logger
	health                 health
	reader                 vendorkit.Reader  // the worker: bells, typing and ends in order
	lastTyping             string            // the time of the last typing event shown (worker only)
	following              webhook.Following // the conversation whose events come here
	vendorkit.Saved[saved]                   // the conversation, its cursor, the agent
}

// The optional methods the desk has: read receipts, file checks, resume.
type optional interface {
	servicedesk.ReadNotifier
	servicedesk.FileSelectionValidator
	servicedesk.Reconnector
	io.Closer
}

var _ optional = (*desk)(nil)

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	d := &desk{k: k, session: p.Instance.SessionID(), log: cmp.Or(p.Logger, k.log).With("kit", Name)}
	if err := d.Load(Name, p, d.log); err != nil {
		return nil, err
	}
	d.Callback = p.Callback
	d.Begin(d.State().Agent != nil)
	d.health.d, d.health.After = d, 3
	d.reader = vendorkit.Reader{Read: d.fill, Gone: gone, Over: func(error) { d.over("The conversation is gone.") },
		Interval: k.cfg.ReconcileInterval, Backoff: k.cfg.Backoff, Logger: d.log}
	if !d.Life.Go(func() { d.reader.Run(d.Life.Context()) }) {
		return nil, errors.New("closed")
	}
	return d, nil
}

func (d *desk) Name() string { return Name }

func (d *desk) path(suffix string) string {
	return "/conversations/" + url.PathEscape(d.State().ConversationID) + suffix
}

// StartChat makes a user and a conversation for the customer, posts the
// bot's transcript and the summary into it, and passes control of it to
// the agent workspace (switchboard passControl), whose agents answer.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	h := handoffOf(connectMessage, opts, d.session)
	d.k.pointWebhook(ctx)
	d.leave()
	d.Update(func(s *saved) { *s = saved{} })
	d.Begin(false)
	d.Callback.UpdateCapabilities(d.k.caps.FullUpdate())
	userID, err := d.ensureUser(ctx, h)
	if err != nil {
		return err
	}
	var conv struct{ Conversation wire.Conversation }
	body := map[string]any{"type": "personal", "participants": []any{map[string]any{"userId": userID}}}
	if md := limitMetadata(h.Attributes, maxMetadataBytes); len(md) > 0 {
		body["metadata"] = md
	}
	if err := d.k.call(ctx, request{Call: httpjson.Call{Op: "create conversation", Method: http.MethodPost, Path: "/conversations", Body: body, Out: &conv}, health: &d.health}); err != nil {
		return err
	}
	if conv.Conversation.ID == "" {
		return fmt.Errorf("zendesk: create conversation: no id in the answer: %w", servicedesk.ErrUnavailable)
	}
	d.Update(func(s *saved) { s.UserID, s.ConversationID = userID, conv.Conversation.ID })
	d.follow(conv.Conversation.ID)
	first, last, err := d.postHandoff(ctx, h)
	if err != nil {
		return err
	}
	d.Update(func(s *saved) { s.Cursor = last })
	md := h.passMetadata(d.k.cfg, first)
	if err := d.k.call(ctx, request{Call: httpjson.Call{Op: "passControl", Method: http.MethodPost, Path: d.path("/passControl"),
		Body: map[string]any{"switchboardIntegration": d.k.cfg.HandoffTo, "metadata": md}}, safe: true, health: &d.health}); err != nil {
		return err
	}
	d.reader.Ring()
	return nil
}

// ensureUser creates the Sunshine Conversations user of the customer, or
// finds the one made before (409) by its externalId.
func (d *desk) ensureUser(ctx context.Context, h handoff) (string, error) {
	var u struct{ User wire.User }
	body := map[string]any{"externalId": h.externalID}
	if p := h.profile(); p != (wire.Profile{}) {
		body["profile"] = p
	}
	err := d.k.call(ctx, request{Call: httpjson.Call{Op: "create user", Method: http.MethodPost, Path: "/users", Body: body, Out: &u}, health: &d.health,
		sent: func(context.Context) (bool, error) { return false, nil }})
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusConflict {
		err = d.k.call(ctx, request{Call: httpjson.Call{Op: "get user", Method: http.MethodGet, Path: "/users/" + url.PathEscape(h.externalID), Out: &u}, safe: true, health: &d.health})
	}
	if err != nil {
		return "", err
	}
	if u.User.ID == "" {
		return "", fmt.Errorf("zendesk: create user: no id in the answer: %w", servicedesk.ErrUnavailable)
	}
	return u.User.ID, nil
}

// EndChat tells the agent the customer left (a last message) and passes
// control back to the kit's own integration, unless the desk ended it.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	defer d.leave()
	st := d.State()
	return d.Chat.EndChat(ctx, info, st.ConversationID != "", func(ctx context.Context) error {
		if d.k.cfg.EndNotice != "-" {
			if err := d.post(ctx, "end notice", userAuthor(st.UserID), wire.Content{Type: wire.ContentText, Text: d.k.cfg.EndNotice},
				map[string]any{metaHandoff: "end"}, "end-"+st.ConversationID); err != nil && !gone(err) {
				return err
			}
		}
		err := d.k.call(ctx, request{Call: httpjson.Call{Op: "passControl", Method: http.MethodPost, Path: d.path("/passControl"),
			Body: map[string]any{"switchboardIntegration": d.k.cfg.Integration, "metadata": map[string]any{metaHandoff: "customer_ended"}}}, safe: true, health: &d.health})
		if gone(err) {
			return nil
		}
		return err
	})
}

// gone tells errors that mean the conversation is no more (or no longer
// ours to act on): nothing left to end.
func gone(err error) bool {
	s := httpjson.StatusOf(err)
	return s == http.StatusNotFound || s == http.StatusForbidden
}

// Reconnect finds the persisted conversation: still with the agent
// workspace, the chat goes on and the agent's messages since the cursor
// are filled in; otherwise it is over.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.State()
	d.Begin(st.Agent != nil)
	if st.ConversationID == "" {
		return false, nil
	}
	d.k.pointWebhook(ctx)
	var conv struct{ Conversation wire.Conversation }
	err := d.k.call(ctx, request{Call: httpjson.Call{Op: "get conversation", Method: http.MethodGet, Path: d.path(""), Out: &conv}, safe: true, health: &d.health})
	if gone(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !d.isHandoffTarget(conv.Conversation.ActiveSwitchboardIntegration) {
		return false, nil
	}
	d.follow(st.ConversationID)
	d.reader.Ring()
	return true, nil
}

// isHandoffTarget tells whether the active integration is the one the
// kit passed control to.
func (d *desk) isHandoffTarget(si *wire.SwitchboardIntegration) bool {
	t := d.k.cfg.HandoffTo
	return si != nil && (si.ID == t || si.Name == t || si.IntegrationType == t || si.IntegrationID == t)
}

// follow routes conversation id's events here.
func (d *desk) follow(id string) { d.following.Set(d.k.router.Follow(id, d.onEvent)) }

// leave stops routing the conversation's events here.
func (d *desk) leave() { d.following.Stop() }

// Close stops the desk's goroutines; it does not end the chat. It is
// idempotent.
func (d *desk) Close() error {
	if d.k.desks.CloseChat(d, &d.Chat) {
		d.leave()
	}
	return nil
}

// Conversation names the Sunshine Conversations conversation behind a
// session, for a Go host that calls the API itself (servicedesk.As,
// flow.Session.As).
type Conversation struct {
	AppID          string
	UserID         string
	ConversationID string
}

// As fills a *Conversation once a chat started or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Conversation, bool) {
		st := d.State()
		return Conversation{AppID: d.k.cfg.AppID, UserID: st.UserID, ConversationID: st.ConversationID}, st.ConversationID != ""
	})
}
