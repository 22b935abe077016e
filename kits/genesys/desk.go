package genesys

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strconv"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/genesys/internal/wire"
)

// saved is what the kit persists so that a reload or restart resumes the
// guest's session: the session token (re-sent in configureSession) and the
// last message delivered (where the history fill starts); for an
// authenticated session, the refresh token that renews its JWT.
type saved struct {
	Token         string `json:"token,omitempty"`
	LastMessageID string `json:"last_message_id,omitempty"`
	Joined        bool   `json:"joined,omitempty"`
	RefreshToken  string `json:"refresh_token,omitempty"`
}

// errEnded is returned by calls after the session is over.
var errEnded = errors.New("genesys: the session is over")

type desk struct {
	vendorkit.Chat // lifetime, socket, typing indicator, joined and ended
	k              *Kit
	log            *slog.Logger

	gap      *stream.GapFiller[wire.Message]
	recovery *stream.Recovery[wire.Message]
	pacer    retry.Pacer
	typing   retry.Throttle
	sockets  stream.Generations // a stopped socket's callbacks are ignored

	mu         sync.Mutex
	st         saved
	ready      chan struct{} // closed when the current connection's session is configured
	session    wire.SessionResponse
	configured bool                          // a wire.SessionResponse came on some connection
	pending    map[string]chan wire.Envelope // answers by tracingId
	uploads    map[string]chan wire.Envelope // upload outcomes by attachment id
	lastText   string                        // the last bot text while waiting
	jwt        string                        // an authenticated session's JWT, "" for a guest
}

var (
	_ servicedesk.ServiceDesk            = (*desk)(nil)
	_ servicedesk.TypingNotifier         = (*desk)(nil)
	_ servicedesk.FileSelectionValidator = (*desk)(nil)
	_ servicedesk.Reconnector            = (*desk)(nil)
	_ io.Closer                          = (*desk)(nil)
)

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	st, err := vendorkit.LoadState[saved]("genesys", p.PersistedState)
	if err != nil {
		return nil, err
	}
	d := &desk{k: k, st: st, pending: map[string]chan wire.Envelope{}, uploads: map[string]chan wire.Envelope{}, ready: make(chan struct{})}
	d.Callback = p.Callback
	d.Begin(false)
	log := p.Logger
	if log == nil {
		log = k.log
	}
	d.log = log.With("kit", "genesys")
	d.pacer.Interval = k.cfg.SendInterval
	d.typing.Interval = k.cfg.TypingInterval
	// Genesys replays nothing on a new connection: once the session is
	// configured on it, the gap is filled from the history.
	d.gap, d.recovery = vendorkit.Recover(&d.Chat, vendorkit.Replay[wire.Message]{
		ID: func(m wire.Message) string { return m.ID }, Deliver: d.deliver,
		Fetch: d.fetchHistory, Ready: d.awaitReady, Gone: func(err error) bool { return errors.Is(err, errEnded) },
	}, k.cfg.Backoff, d.log)
	return d, nil
}

func (d *desk) Name() string { return "genesys" }

func (d *desk) token() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st.Token
}

// StartChat configures a new guest session (a fresh token) and starts the
// conversation with a Presence Join event carrying the summary as a custom
// attribute, as the SDKs' autostart does.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	h := opts.Handoff
	var jwt, refresh string
	if auth := d.k.cfg.Authenticate; auth != nil {
		code, err := auth(ctx, h)
		if err != nil {
			return fmt.Errorf("genesys: authenticate: %w: %w", servicedesk.ErrRejected, err)
		}
		if code != nil {
			if jwt, refresh, err = d.k.exchange(ctx, *code); err != nil {
				return err
			}
		}
	}
	h = withoutAuthKeys(h)
	summary, data, _ := connectMessage.Handoff()
	if len(data) > 0 {
		merged := maps.Clone(data)
		maps.Copy(merged, h.Attributes)
		h.Attributes = merged
	}
	d.mu.Lock()
	// The engine keeps one desk per session: a new chat after an ended one
	// starts from a clean slate, with a new session token.
	d.st = saved{Token: vendorkit.NewUUID(), RefreshToken: refresh}
	d.ready, d.session, d.configured = make(chan struct{}), wire.SessionResponse{}, false
	d.lastText, d.jwt = "", jwt
	st := d.st
	d.mu.Unlock()
	d.Begin(false)
	if err := d.Callback.ReplacePersistedState(st); err != nil {
		d.log.Warn("genesys: persist state", "err", err)
	}
	if err := d.open(); err != nil {
		return err
	}
	if err := d.awaitReady(ctx); err != nil {
		return fmt.Errorf("genesys: configureSession: %w", err)
	}
	d.mu.Lock()
	maxData := int(d.session.MaxCustomDataBytes)
	d.mu.Unlock()
	attrs, dropped := customAttributes(d.k.cfg, h, summary, maxData)
	if dropped > 0 {
		d.log.Warn("genesys: hand-off attributes left out: the session takes custom attributes of so many bytes", "left_out", dropped, "max_bytes", cmp.Or(maxData, maxCustomAttributeBytes))
	}
	join := map[string]any{"type": "Event", "events": []any{map[string]any{"eventType": wire.EventTypePresence, "presence": map[string]string{"type": wire.PresenceJoin}}}}
	if len(attrs) > 0 {
		join["channel"] = map[string]any{"metadata": map[string]any{"customAttributes": attrs}}
	}
	if _, err := d.request(ctx, "autostart", map[string]any{"action": "onMessage", "message": join}, startRefusal); err != nil {
		return err
	}
	// The bot transcript as the opening messages, for the agent to read
	// first; a failure costs the transcript, not the chat.
	for i, text := range transcriptMessages(h) {
		msg := map[string]any{"type": "Text", "text": text, "metadata": map[string]string{"customMessageId": "handoff-" + strconv.Itoa(i+1)}}
		if _, err := d.request(ctx, "onMessage", map[string]any{"action": "onMessage", "message": msg}, eventRefusal); err != nil {
			d.log.Warn("genesys: the bot transcript could not be sent", "err", err)
			break
		}
	}
	return nil
}

// over ends the chat from the desk's side: the agent ended it, or (before
// any agent) the request failed.
func (d *desk) over(text string) {
	d.mu.Lock()
	// This chat's: once EndedByDesk has told the engine, the next chat's
	// StartChat may already have made a new one, which must stay open.
	ready := d.ready
	if text == "" {
		text = d.lastText
	}
	d.mu.Unlock()
	d.EndedByDesk(text, false) // quiet during a Reconnect
	d.mu.Lock()
	select {
	case <-ready:
	default:
		close(ready) // wakes waiters, who see the end
	}
	d.mu.Unlock()
}

// EndChat closes the session (closeSession), unless the desk ended it.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	return d.Chat.EndChat(ctx, info, d.token() != "", func(ctx context.Context) error {
		_, err := d.request(ctx, "closeSession", map[string]any{"action": "closeSession"}, withAnswer)
		return err
	})
}

// Reconnect resumes the guest session of the persisted token: the
// configureSession answer tells whether it is still on (not a new session,
// not read-only); the connection's history fill brings what was missed.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	d.mu.Lock()
	st := d.st
	d.mu.Unlock()
	defer d.Resume(st.Joined)()
	if st.Token == "" {
		return false, nil
	}
	if err := d.open(); err != nil {
		return false, err
	}
	if err := d.awaitReady(ctx); err != nil {
		if errors.Is(err, errEnded) {
			return false, nil
		}
		return false, fmt.Errorf("genesys: Reconnect: %w", err)
	}
	return true, nil
}

// Close stops the connection and every goroutine of the desk; it does not
// end the chat. It is idempotent.
func (d *desk) Close() error {
	d.k.desks.CloseChat(d, &d.Chat)
	return nil
}

// Guest names the Web Messaging guest session behind a session, for a Go
// host that calls Genesys's guest APIs itself (servicedesk.As,
// flow.Session.As). The guest API tells a guest no conversation id: the
// session token is what identifies the conversation to Genesys.
type Guest struct {
	DeploymentID string
	SessionToken string
}

// As fills a *Guest once a session was configured or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Guest, bool) {
		tok := d.token()
		return Guest{DeploymentID: d.k.cfg.DeploymentID, SessionToken: tok}, tok != ""
	})
}
