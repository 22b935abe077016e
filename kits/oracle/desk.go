package oracle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/oracle/internal/wire"
)

// saved is what the kit persists so that a reload or restart resumes the
// engagement: the session (its id, JWT, server and pool), the customer's
// participant, the last sequenceNumber delivered, and the agent in it.
type saved struct {
	SessionID    string `json:"session_id,omitempty"`
	JWT          string `json:"jwt,omitempty"`
	Server       string `json:"server,omitempty"`
	Pool         string `json:"pool,omitempty"`
	EngagementID int64  `json:"engagement_id,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	LastSeq      uint64 `json:"last_seq,omitempty"`
	Joined       bool   `json:"joined,omitempty"`
	Agent        string `json:"agent,omitempty"`      // the agent's clientId
	AgentName    string `json:"agent_name,omitempty"` // and name
}

type desk struct {
	vendorkit.Chat // lifetime, typing indicator, joined and ended
	k              *Kit
	log            *slog.Logger
	st             vendorkit.Saved[saved]
	outage         vendorkit.Outage
	txn            atomic.Int64 // clientTransactionId

	mu    sync.Mutex
	s     *session
	gen   int           // the chat being followed
	stop  func()        // stops its getMessages loop
	done  chan struct{} // closed when that loop is over
	agent string        // the profile id of the agent in the chat
}

var (
	_ servicedesk.ServiceDesk         = (*desk)(nil)
	_ servicedesk.TypingNotifier      = (*desk)(nil)
	_ servicedesk.AvailabilityChecker = (*desk)(nil)
	_ servicedesk.Reconnector         = (*desk)(nil)
	_ io.Closer                       = (*desk)(nil)
)

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	log := k.log
	if p.Logger != nil {
		log = p.Logger.With("kit", "oracle")
	}
	d := &desk{k: k, log: log}
	if err := d.st.Load("oracle", p, d.log); err != nil {
		return nil, err
	}
	d.Callback = p.Callback
	d.Begin(false)
	d.txn.Store(time.Now().UnixMilli())
	return d, nil
}

func (d *desk) Name() string { return "oracle" }

// StartChat establishes a session with the customer and the hand-off,
// requests the engagement and starts following it.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	if err := d.unfollow(ctx); err != nil {
		return err
	}
	// The engine keeps one desk per session: a new chat after an ended one
	// starts from a clean slate, with a new session.
	d.Begin(false)
	d.outage.Reset()
	summary, _, _ := connectMessage.Handoff()
	summary = cmp.Or(summary, opts.Handoff.Summary)
	s := &session{k: d.k, info: d.information(opts.Handoff, summary), onJWT: d.keepJWT}
	var eng wire.Engagement
	err := retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries, Retryable: unsent}.Do(ctx, func(int) error {
		return s.call(ctx, "requestEngagement", http.MethodPost, "requestEngagement", wire.EngagementRequest{ClientTransactionID: d.txn.Add(1)}, &eng, false)
	})
	if err != nil {
		return fmt.Errorf("oracle: StartChat: %w", err)
	}
	if eng.SessionID == "" || (eng.ResultType != "" && eng.ResultType != "SUCCESS") {
		return fmt.Errorf("oracle: StartChat: %w: requestEngagement answered %q without a session", servicedesk.ErrRejected, eng.ResultType)
	}
	jwt, base, pool, _, _ := s.get()
	s.mu.Lock()
	s.id = eng.SessionID
	s.mu.Unlock()
	d.st.Update(func(st *saved) {
		*st = saved{SessionID: eng.SessionID, JWT: jwt, Server: base, Pool: pool, EngagementID: eng.EngagementID,
			ClientID: fmt.Sprint(eng.ClientID)}
	})
	d.follow(s)
	return nil
}

// information is the hand-off as establishSessions' sessionInformation:
// the verified customer's name and email, the summary and then the
// newest transcript lines that fit as the question (the agent's first
// view of the chat), the routing attributes, the customer and the claims
// as custom fields (vendorkit.Attributes).
func (d *desk) information(h servicedesk.Handoff, summary string) wire.SessionInformation {
	var info wire.SessionInformation
	if c := h.Customer; c != nil {
		first, last, _ := strings.Cut(strings.TrimSpace(c.Name), " ")
		info.FirstName, info.LastName, info.EmailAddress = first, last, c.Email
	}
	question := summary
	if room := d.k.cfg.MaxFieldBytes - len(question) - 80; len(h.Transcript) > 0 && room > 64 {
		head := "Before the hand-off, with the bot:"
		if h.TranscriptUnverified {
			head = "Before the hand-off, with the bot (as the page reported it, unverified):"
		}
		if lines, omitted := vendorkit.TranscriptLines(h, room, 500); len(lines) > 0 {
			question = strings.TrimSpace(question + "\n\n" + head + "\n" + strings.Join(lines, "\n"))
			if omitted > 0 {
				d.log.Info("oracle: transcript turns left out of the hand-off", "left_out", omitted)
			}
		}
	}
	info.Question = question
	fields := vendorkit.Attributes{MaxBytes: d.k.cfg.MaxFieldBytes, Key: d.k.cfg.FieldName}
	fields.PutHandoff(h, "summary", "")
	m := fields.Map()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		info.CustomFields = append(info.CustomFields, wire.CustomField{Name: k, Type: "STRING", Value: m[k]})
	}
	if fields.Dropped > 0 {
		d.log.Warn("oracle: hand-off custom fields left out", "left_out", fields.Dropped, "max_bytes", d.k.cfg.MaxFieldBytes)
	}
	return info
}

// keepJWT persists a renewed JWT.
func (d *desk) keepJWT(jwt string) {
	d.st.Merge(func(st *saved) map[string]any {
		st.JWT = jwt
		return map[string]any{"jwt": jwt}
	})
}

func (d *desk) session() *session {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.s
}

// unsent tells an error after which a call can be sent again without
// doubling it: the server answered that it is busy or down (429, 5xx), or
// the connection was never made. The pages promise no deduplication of
// postMessage, so a call whose answer was lost is not sent again.
func unsent(err error) bool {
	var he *httpjson.Error
	if errors.As(err, &he) {
		return servicedesk.IsTemporary(he)
	}
	return retry.NotSent(err)
}

// SendMessageToAgent posts the text with the engine's message id as its
// messageId.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, _ servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	s := d.session()
	if s == nil || d.Ended() {
		return fmt.Errorf("oracle: SendMessageToAgent %s: %w", messageID, servicedesk.ErrNoChat)
	}
	if message.Input.Text == "" {
		return nil
	}
	post := wire.Post{Body: message.Input.Text, ClientTransactionID: d.txn.Add(1), MessageID: messageID,
		ClientRequestTime: time.Now().UTC().Format(time.RFC3339Nano)}
	err := retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries, Retryable: unsent}.Do(ctx, func(int) error {
		return s.call(ctx, "postMessage", http.MethodPost, "postMessage", post, nil, true)
	})
	if err != nil {
		return fmt.Errorf("oracle: SendMessageToAgent %s: %w", messageID, err)
	}
	return nil
}

// UserTyping sets the customer's activity: RESPONDING or LISTENING.
func (d *desk) UserTyping(ctx context.Context, isTyping bool) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	s := d.session()
	if s == nil || d.Ended() {
		return nil
	}
	mode := wire.ModeListening
	if isTyping {
		mode = wire.ModeResponding
	}
	return s.call(ctx, "activity", http.MethodPost, "activity", wire.Activity{Mode: mode}, nil, true)
}

// AreAnyAgentsOnline asks getQueueStats about the configured queue.
func (d *desk) AreAnyAgentsOnline(ctx context.Context, _ servicedesk.MessageResponse) (servicedesk.OnlineStatus, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	on, err := d.k.online(ctx)
	switch {
	case err != nil:
		return servicedesk.OnlineUnknown, err
	case on:
		return servicedesk.Online, nil
	}
	return servicedesk.Offline, nil
}

// EndChat concludes the engagement, unless the desk ended it, and clears
// the persisted state.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	s := d.session()
	err := d.Chat.EndChat(ctx, info, s != nil, func(ctx context.Context) error {
		return retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries}.Do(ctx, func(int) error {
			return s.call(ctx, "concludeEngagement", http.MethodPost, "concludeEngagement", struct{}{}, nil, true)
		})
	})
	d.forget(0)
	return err
}

// forget stops following the chat (gen's, or whichever when 0) and
// clears the persisted state; it reports whether it did.
func (d *desk) forget(gen int) bool {
	d.mu.Lock()
	stop, ok := d.stop, gen == 0 || (gen == d.gen && d.s != nil)
	if ok {
		d.s, d.stop = nil, nil
	}
	d.mu.Unlock()
	if !ok {
		return false
	}
	if stop != nil {
		stop()
	}
	d.st.Update(func(st *saved) { *st = saved{} })
	return true
}

// Reconnect resumes the persisted engagement: getMessages goes on from
// the last sequenceNumber delivered. A session the server no longer
// knows, or an engagement that concluded meanwhile, answers false; one
// whose first getMessages is held (nothing new yet) is live.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.st.State()
	defer d.Resume(st.Joined)()
	if st.SessionID == "" {
		return false, nil
	}
	if err := d.unfollow(ctx); err != nil {
		return false, err
	}
	d.outage.Reset()
	s := &session{k: d.k, onJWT: d.keepJWT, jwt: st.JWT, expiry: vendorkit.TokenExpiry(st.JWT), base: st.Server, pool: st.Pool, id: st.SessionID}
	if st.Joined {
		d.mu.Lock()
		d.agent = d.profile(st.Agent, st.AgentName).ID
		d.mu.Unlock()
	}
	first := d.follow(s)
	t := time.NewTimer(reconnectWait)
	defer t.Stop()
	select {
	case <-first:
	case <-t.C:
	case <-ctx.Done():
		return false, fmt.Errorf("oracle: Reconnect %s: %w", st.SessionID, ctx.Err())
	}
	return !d.Ended(), nil
}

// reconnectWait is how long Reconnect waits for the first getMessages: a
// live engagement with nothing new holds it (up to 30 s).
const reconnectWait = 2 * time.Second

// Close stops following the chat and every goroutine of the desk; it does
// not end the chat. It is idempotent.
func (d *desk) Close() error {
	d.k.desks.CloseChat(d, &d.Chat)
	return nil
}

// Session names the engagement behind a chat, for a Go host that calls
// the chat API itself (servicedesk.As, flow.Session.As).
type Session struct {
	SessionID    string
	EngagementID int64
}

// As fills a *Session once a chat was started or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Session, bool) {
		st := d.st.State()
		return Session{SessionID: st.SessionID, EngagementID: st.EngagementID}, st.SessionID != ""
	})
}
