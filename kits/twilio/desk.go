package twilio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// saved is what the kit persists so that a restart resumes the chat: the
// conversation and the customer's participant, the Flex interaction and
// its channel (to close it), and the index after the last message handled
// (where the fill after a restart starts).
type saved struct {
	Conversation string `json:"conversation,omitempty"`
	Service      string `json:"service,omitempty"`
	Identity     string `json:"identity,omitempty"`
	Participant  string `json:"participant,omitempty"`
	Interaction  string `json:"interaction,omitempty"`
	Channel      string `json:"channel,omitempty"`
	Next         int    `json:"next,omitempty"`
	Joined       bool   `json:"joined,omitempty"`
}

// evOwnMessage is the event the desk queues for a message it posted, so
// that the cursor moves past it in order.
const evOwnMessage = "deskbridge.own"

type desk struct {
	vendorkit.Chat // lifetime, typing indicator, joined and ended
	k              *Kit
	inst           servicedesk.Instance
	log            *slog.Logger
	once           sync.Once
	outage         vendorkit.Outage   // of the customer calls, raised at the first failure
	reader         vendorkit.Reader   // the worker: events in order, reads, reconciles
	following      webhook.Following  // the conversation whose webhooks come here
	profiles       vendorkit.Profiles // agents' profiles, by identity

	vendorkit.Saved[saved] // the conversation, its participant and Flex interaction, the cursor

	mu      sync.Mutex
	agents  map[string]servicedesk.AgentProfile // agent participants, by sid
	readIdx int                                 // the agents' read horizon told
}

// The optional methods the desk has, checked by the compiler.
var _ interface {
	servicedesk.ServiceDesk
	servicedesk.ReadNotifier
	servicedesk.Reconnector
	servicedesk.FileSelectionValidator
	io.Closer
} = (*desk)(nil)

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	d := &desk{k: k, inst: p.Instance, log: cmp.Or(p.Logger, k.log).With("kit", "twilio")}
	if err := d.Load("twilio", p, d.log); err != nil {
		return nil, err
	}
	d.Callback = p.Callback
	d.profiles = vendorkit.Profiles{Read: d.readUser, Complete: k.cfg.AgentProfile, Logger: d.log}
	d.Begin(false)
	d.resetChat()
	d.reader = vendorkit.Reader{Read: d.reconcile, Interval: k.cfg.ReconcileInterval, Backoff: k.cfg.Backoff, Logger: d.log,
		Gone: func(err error) bool { return errors.Is(err, servicedesk.ErrChatNotFound) }, Over: func(error) { d.over("") }}
	return d, nil
}

func (d *desk) resetChat() {
	d.mu.Lock()
	d.reader.Clear()
	d.readIdx = -1
	d.outage.Reset()
	d.agents = map[string]servicedesk.AgentProfile{}
	d.profiles.Reset()
	d.mu.Unlock()
}

func (d *desk) Name() string { return Name }

// follow routes conversation sid's webhooks to the worker instead of the
// last one's; "" only stops those.
func (d *desk) follow(sid string) {
	if sid == "" {
		d.following.Stop()
		return
	}
	d.following.Set(d.k.routes.Follow(sid, d.onEvent))
}

// StartChat creates the conversation with the customer as a participant
// and a scoped webhook to the kit, posts the bot transcript as its opening
// messages, and hands it to Flex with POST /v1/Interactions.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, opts servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	d.start()
	h := opts.Handoff.WithConnectMessage(connectMessage)
	identity := "deskbridge-" + vendorkit.NewUUID()
	if d.k.cfg.Identity != nil {
		identity = d.k.cfg.Identity(d.inst)
	}
	d.resetChat()
	d.Begin(false)
	d.Change(func(s *saved) { *s = saved{Identity: identity} })

	conv, err := d.createConversation(ctx, h)
	if err != nil {
		return err
	}
	d.Change(func(s *saved) { s.Conversation, s.Service = conv.SID, conv.ChatServiceSID })
	d.follow(conv.SID)
	d.persist()
	fail := func(err error) error {
		d.follow("")
		_ = d.closeConversation(context.WithoutCancel(ctx))
		return err
	}
	part, err := d.addCustomer(ctx, conv.SID, identity, h)
	if err != nil {
		return fail(err)
	}
	d.Change(func(s *saved) { s.Participant = part.SID })
	if err := d.ensureWebhook(ctx, conv.SID); err != nil {
		return fail(err)
	}
	if err := d.postTranscript(ctx, h.Transcript); err != nil {
		return fail(err)
	}
	in, err := d.createInteraction(ctx, conv.SID, identity, h)
	if err != nil {
		return fail(err)
	}
	d.Change(func(s *saved) { s.Interaction, s.Channel = in.SID, in.Channel.SID })
	d.persist()
	d.Callback.UpdateCapabilities(d.capabilities().FullUpdate())
	return nil
}

func (d *desk) capabilities() servicedesk.Capabilities {
	return servicedesk.Capabilities{AllowFileUploads: true, AllowMultipleFileUploads: true,
		AllowedFileUploadTypes: d.k.cfg.AllowedFileTypes, MaxFileSizeBytes: d.k.cfg.MaxFileBytes}
}

func (d *desk) persist() {
	joined := d.Joined() // an agent may be in before StartChat returns
	d.Update(func(s *saved) { s.Joined = joined })
}

// start runs the desk's worker once: it applies the conversation's events
// in order, fills gaps, and reconciles now and then.
func (d *desk) start() {
	d.once.Do(func() { d.Life.Go(func() { d.reader.Run(d.Life.Context()) }) })
}

// EndChat closes the Flex interaction's channel (the task goes to wrap-up
// and Flex closes the conversation) and the conversation, unless the desk
// ended it.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	defer d.follow("")
	st := d.State()
	return d.Chat.EndChat(ctx, info, st.Conversation != "", func(ctx context.Context) error {
		if st.Interaction != "" && st.Channel != "" {
			form := url.Values{"Status": {"closed"}}
			err := d.k.send(ctx, httpjson.Call{Op: "close interaction channel", Method: http.MethodPost,
				Path: d.k.cfg.FlexURL + "/v1/Interactions/" + st.Interaction + "/Channels/" + st.Channel, Form: form}, nil)
			if err != nil && !errors.Is(err, servicedesk.ErrChatNotFound) {
				return err
			}
		}
		return d.closeConversation(ctx)
	})
}

func (d *desk) closeConversation(ctx context.Context) error {
	st := d.State()
	return d.k.send(ctx, httpjson.Call{Op: "close conversation", Method: http.MethodPost,
		Path: d.k.cfg.ConversationsURL + "/v1/Conversations/" + st.Conversation, Form: url.Values{"State": {"closed"}}}, nil)
}

// Reconnect resumes the persisted conversation: it is followed again, its
// scoped webhook pointed here, and what happened meanwhile (messages after
// the last one handled, agents come or gone, the end) is read back.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.State()
	d.resetChat()
	d.Begin(st.Joined)
	if st.Conversation == "" {
		return false, nil
	}
	open, err := d.isOpen(ctx, st.Conversation)
	if err != nil {
		return false, fmt.Errorf("twilio: Reconnect %s: %w", st.Conversation, err)
	}
	if !open {
		return false, nil
	}
	parts, err := d.listParticipants(ctx, st.Conversation)
	if err != nil {
		return false, fmt.Errorf("twilio: Reconnect %s: %w", st.Conversation, err)
	}
	if st.Joined {
		// The engine restores the agent it knew; only changes are news.
		d.mu.Lock()
		for _, p := range parts {
			if p.Identity != "" && p.Identity != st.Identity {
				d.agents[p.SID] = servicedesk.AgentProfile{ID: p.Identity, Nickname: p.Identity, UserType: servicedesk.UserHuman}
			}
		}
		d.mu.Unlock()
	}
	if err := d.ensureWebhook(ctx, st.Conversation); err != nil {
		return false, fmt.Errorf("twilio: Reconnect %s: %w", st.Conversation, err)
	}
	d.follow(st.Conversation)
	d.start()
	d.reader.Ring()
	return true, nil
}

// Close stops the desk's goroutines; it does not end the chat. It is
// idempotent.
func (d *desk) Close() error {
	if d.k.desks.CloseChat(d, &d.Chat) {
		d.follow("")
	}
	return nil
}

// Conversation names the Twilio resources behind a session, for a Go host
// that calls Twilio's APIs itself (servicedesk.As, flow.Session.As).
type Conversation struct {
	ConversationSID string // CH…
	ParticipantSID  string // MB…, the customer
	Identity        string
	InteractionSID  string // KD…
	ChannelSID      string // UO…
}

// As fills a *Conversation once a chat started or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Conversation, bool) {
		st := d.State()
		return Conversation{ConversationSID: st.Conversation, ParticipantSID: st.Participant, Identity: st.Identity,
			InteractionSID: st.Interaction, ChannelSID: st.Channel}, st.Conversation != ""
	})
}
