package amazonconnect

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/amazonconnect/internal/wire"
)

// saved is what the kit persists through the session's persisted state so
// that a reload or restart finds the chat again.
type saved struct {
	ContactID        string `json:"contact_id,omitempty"`
	ParticipantID    string `json:"participant_id,omitempty"`
	ParticipantToken string `json:"participant_token,omitempty"`
	ConnectionToken  string `json:"connection_token,omitempty"`
	// ConnectionExpiry is the connection token's expiry (RFC 3339).
	ConnectionExpiry string `json:"connection_expiry,omitempty"`
	// StartedAt is when the contact started (RFC 3339); the gap fill after
	// a restart starts here when no item was seen yet.
	StartedAt string `json:"started_at,omitempty"`
	// LastItemID and LastItemTime name the last transcript item delivered:
	// the gap fill after a restart starts after it.
	LastItemID   string `json:"last_item_id,omitempty"`
	LastItemTime string `json:"last_item_time,omitempty"`
	// Joined is set once an agent joined.
	Joined bool `json:"joined,omitempty"`
}

// desk is one chat session's Amazon Connect participant.
type desk struct {
	vendorkit.Chat // lifetime, socket, typing indicator, joined and ended
	k              *Kit
	log            *slog.Logger
	sid            string

	gap       *stream.GapFiller[wire.Item]
	recovery  *stream.Recovery[wire.Item]
	typing    retry.Throttle
	delivered retry.Throttle // ChatJS sends receipts at most every 5 s

	vendorkit.Saved[saved] // the contact, its tokens, the last item delivered

	mu          sync.Mutex
	down        bool              // DISCONNECTED was reported
	agentIn     bool              // an agent is in the chat now
	systemText  string            // the last SYSTEM message while waiting
	lastAgentID string            // the last agent message, for read receipts
	attachments map[string]string // attachment id → file id
}

var (
	_ servicedesk.ServiceDesk    = (*desk)(nil)
	_ servicedesk.TypingNotifier = (*desk)(nil)
	_ servicedesk.ReadNotifier   = (*desk)(nil)
	_ servicedesk.Reconnector    = (*desk)(nil)
	_ io.Closer                  = (*desk)(nil)
)

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	d := &desk{k: k, attachments: map[string]string{}}
	if p.Instance != nil {
		d.sid = p.Instance.SessionID()
	}
	d.log = cmp.Or(p.Logger, k.log).With("kit", "amazonconnect", "session", d.sid)
	if err := d.Load("amazonconnect", p, d.log); err != nil {
		return nil, err
	}
	d.Callback = p.Callback
	d.Begin(false)
	d.typing.Interval = k.cfg.TypingInterval
	d.delivered.Interval = 5 * time.Second
	// Connect replays nothing: after every connection the gap is filled
	// from GetTranscript.
	d.gap, d.recovery = vendorkit.Recover(&d.Chat, vendorkit.Replay[wire.Item]{
		ID: func(it wire.Item) string { return it.ID }, Deliver: d.deliver, Fetch: d.fetchTranscript,
		Gone: isGone, Over: func(error) { d.contactGone() },
	}, k.cfg.Backoff, d.log)
	return d, nil
}

func (d *desk) Name() string { return "amazonconnect" }

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func connectTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// StartChat starts a chat contact (StartChatContact, SigV4) and connects
// the customer participant (CreateParticipantConnection, then the
// WebSocket, subscribed to aws/chat).
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	cfg := d.k.cfg
	h := opts.Handoff
	summary, data, _ := connectMessage.Handoff()
	if len(data) > 0 {
		// A host without a hand-off: the connect message's additional_data
		// routes, under the hand-off's own attributes.
		merged := maps.Clone(data)
		maps.Copy(merged, h.Attributes)
		h.Attributes = merged
	}
	attrs, dropped := contactAttributes(cfg, h, summary)
	if dropped > 0 {
		d.log.Warn("amazonconnect: hand-off attributes left out: Connect takes 32 KiB of contact attributes", "left_out", dropped)
	}
	in := &connect.StartChatContactInput{
		InstanceId:                     aws.String(cfg.InstanceID),
		ContactFlowId:                  aws.String(cfg.ContactFlowID),
		ParticipantDetails:             &types.ParticipantDetails{DisplayName: aws.String(displayName(cfg, h))},
		Attributes:                     attrs,
		ClientToken:                    aws.String(randomToken()),
		SupportedMessagingContentTypes: []string{wire.CTTextPlain, wire.CTTextMarkdown, wire.CTInteractive},
	}
	if cfg.ChatDurationInMinutes > 0 {
		in.ChatDurationInMinutes = aws.Int32(cfg.ChatDurationInMinutes)
	}
	startedAt := connectTime(time.Now())
	out, err := d.k.connect.StartChatContact(ctx, in)
	if err != nil {
		return fmt.Errorf("amazonconnect: StartChatContact: %w", err)
	}
	st := saved{ContactID: aws.ToString(out.ContactId), ParticipantID: aws.ToString(out.ParticipantId), ParticipantToken: aws.ToString(out.ParticipantToken), StartedAt: startedAt}
	// The engine keeps one desk per session: a new chat after an ended one
	// starts from a clean slate.
	d.Update(func(s *saved) { *s = st })
	d.mu.Lock()
	d.down, d.agentIn = false, false
	d.systemText, d.lastAgentID = "", ""
	d.attachments = map[string]string{}
	d.mu.Unlock()
	d.Begin(false)
	d.log.Info("amazonconnect: contact started", "contact", st.ContactID)
	d.Callback.UpdateCapabilities(d.k.cfg.Attachments.FullUpdate())
	return d.open()
}

// contactGone handles a contact that ended while the kit was away.
func (d *desk) contactGone() {
	d.log.Info("amazonconnect: the contact is over")
	d.EndedByDesk("", false)
}

// EndChat disconnects the customer (DisconnectParticipant), unless the
// agent or the desk ended the chat, and closes the connection.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	st := d.State()
	return d.Chat.EndChat(ctx, info, st.ConnectionToken != "", func(ctx context.Context) error {
		err := d.k.participant.call(ctx, "DisconnectParticipant", "/participant/disconnect", st.ConnectionToken, disconnectRequest{ClientToken: randomToken()}, nil)
		if err != nil && !isGone(err) {
			return fmt.Errorf("contact=%s: %w", st.ContactID, err)
		}
		return nil
	})
}

// Reconnect finds the chat of the persisted state again: a new connection
// (which also tells whether the contact is still on), then the WebSocket,
// whose first connection fills the gap from the last item delivered.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.State()
	if st.ContactID == "" || st.ParticipantToken == "" {
		return false, nil
	}
	var out createConnectionResponse
	err := d.k.participant.call(ctx, "CreateParticipantConnection", "/participant/connection", st.ParticipantToken,
		createConnectionRequest{Type: []string{"CONNECTION_CREDENTIALS"}, ConnectParticipant: true}, &out)
	if isGone(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	d.setCredentials(out)
	d.mu.Lock()
	d.agentIn = st.Joined
	d.mu.Unlock()
	d.Begin(st.Joined)
	if err := d.open(); err != nil {
		return false, err
	}
	d.Callback.UpdateCapabilities(d.k.cfg.Attachments.FullUpdate())
	d.log.Info("amazonconnect: reconnected", "contact", st.ContactID, "last_item", st.LastItemID)
	return true, nil
}

// Close stops the connection and every goroutine of the desk. It does not
// end the chat (EndChat does). It is idempotent.
func (d *desk) Close() error {
	d.k.desks.CloseChat(d, &d.Chat)
	return nil
}

// Contact names the Amazon Connect chat contact behind a session, for a Go
// host that calls Connect's own APIs about it (servicedesk.As,
// flow.Session.As).
type Contact struct {
	ContactID     string
	ParticipantID string
}

// As fills a *Contact once a contact was started or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Contact, bool) {
		st := d.State()
		return Contact{ContactID: st.ContactID, ParticipantID: st.ParticipantID}, st.ContactID != ""
	})
}
