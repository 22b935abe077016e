package flow

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Options configure an Engine. The zero value is valid: every zero field
// takes the default its comment names.
type Options struct {
	// Store keeps sessions across restarts. Default: NewMemoryStore(0).
	Store Store
	// Logger receives the engine's logs. Default: discard.
	Logger *slog.Logger

	// AvailabilityTimeout bounds AreAnyAgentsOnline; past it the answer is
	// Offline, as in Carbon. Default 5s.
	AvailabilityTimeout time.Duration
	// AgentJoinTimeout ends a chat no agent joined in time. Default: off.
	AgentJoinTimeout time.Duration
	// StartChatTimeout bounds the desk's StartChat call. Default 30s.
	StartChatTimeout time.Duration
	// EndChatTimeout bounds the desk's EndChat; past it the chat ends
	// locally anyway. Default 5s.
	EndChatTimeout time.Duration
	// SendTimeout bounds one SendMessageToAgent call. Default 30s.
	SendTimeout time.Duration
	// SendRetryFor is how long a message the desk turned away for a while
	// (unavailable, rate limited, out of time: servicedesk.IsTemporary) is
	// tried again, with backoff, before the user is told it failed; the
	// kit's own retries come first. Default 30s; negative: not tried again.
	SendRetryFor time.Duration
	// ReconnectTimeout bounds Reconnect after a restart; past it the chat
	// ends. Default 15s.
	ReconnectTimeout time.Duration
	// MaxConcurrentReconnects bounds the desk Reconnect calls in flight
	// after a restart, so that thousands of resumed chats do not call the
	// desk all at once. Default 64.
	MaxConcurrentReconnects int
	// FileUploadTimeout fails a sent file whose status the desk never
	// reported. Default 2m.
	FileUploadTimeout time.Duration
	// ScreenShareTimeout cancels an unanswered screen share request.
	// Default 60s.
	ScreenShareTimeout time.Duration
	// AssistantReturnDelay is the pause before "Can I help you with anything
	// else?" after an agent ended the chat. Default 1.5s; negative: never.
	AssistantReturnDelay time.Duration

	// MaxSessions bounds the live sessions. A new session at the bound
	// takes the place of the oldest one that never started a chat and is
	// not attached (Session.Attach); when there is none, Engine.Session
	// fails with ErrTooManySessions. Default 100000; negative: no bound.
	MaxSessions int
	// ChatlessTTL forgets (as Engine.Forget does: memory, Store, files) a
	// session that never started a chat after this long unattached and
	// unused. Default 2m; negative: never.
	ChatlessTTL time.Duration
	// IdleTTL forgets a session with no chat running after this long
	// unattached and unused. Default 30m; negative: never.
	IdleTTL time.Duration
	// AbandonAfter ends a running chat whose user was gone this long: no
	// attachment, no command of the user. Default 15m; negative: never.
	AbandonAfter time.Duration
	// PresenceAfter is how long an attachment must last to count as the
	// user's presence for AbandonAfter and IdleTTL: attachments that come
	// and go sooner do not keep an abandoned chat alive. Default 5s.
	PresenceAfter time.Duration
	// MaxChatDuration ends a chat this long after it started, attached or
	// not. Default 8h; negative: never.
	MaxChatDuration time.Duration

	// AutoStart starts the chat as soon as an availability check answers
	// Online (Carbon's skipConnectHumanAgentCard).
	AutoStart bool
	// EventLogSize is how many events each live chat keeps in memory for
	// subscribers to catch up from; older ones come from the Store.
	// Default 128.
	EventLogSize int
	// EventLogBytes bounds the encoded bytes of that memory per chat, and
	// EventLogTotalBytes the bytes of all the engine's chats together;
	// past them the oldest events are read from the Store instead. Defaults
	// 1 MiB and 256 MiB; negative: no bound.
	EventLogBytes      int64
	EventLogTotalBytes int64
	// MaxDeskStateBytes limits the desk's persisted state. Default 64 KiB.
	MaxDeskStateBytes int

	// Redactor, when set, redacts the texts of the hand-off before they
	// reach the desk (Handoff's summary, transcript, unverified context
	// and attribute values, and the connect message's summary and message
	// to the agent), after the PreStartChat hook. What the user sees in
	// their own chat is never changed. redact.New makes one.
	Redactor Redactor
	// MaxTranscriptTurns, MaxTranscriptTurnBytes and MaxTranscriptBytes
	// bound the hand-off's bot transcript (Handoff.Bound): defaults 50
	// turns, 2 KiB a turn, 32 KiB in all; negative: no bound.
	MaxTranscriptTurns     int
	MaxTranscriptTurnBytes int
	MaxTranscriptBytes     int

	// PreStartChat runs before the desk is asked for an agent; it may cancel
	// the chat or set the payload the desk receives. An error ends the
	// request with a CONNECTING error. It runs off the session's queue.
	PreStartChat func(ctx context.Context, ev *PreStartChat) error
	// PreEndChat runs before a chat with an agent ends (by the user, or by
	// the agent); it may keep the chat going or set the payload the desk
	// receives. It runs off the session's queue.
	PreEndChat func(ctx context.Context, ev *PreEndChat) error

	// OpenFile reopens a sent file whose File.Open is nil, such as a file of
	// a message resent after a restart. Default: read it from Files; with
	// neither, such a file fails.
	OpenFile func(ctx context.Context, sessionID, fileID string) (io.ReadCloser, error)
	// Files keeps the bytes of uploaded files (the gateway puts them
	// there); the engine deletes a session's files once its chat ended and
	// no message of it is still on its way. Default: the Store, when it is
	// a FileStore.
	Files FileStore

	// Texts are the lines shown to the user. Default: DefaultTexts.
	Texts Texts

	// OnSave, when set, sees every Save the engine makes: how long it
	// took, how many events it carried, and its error; for metrics. It
	// runs on the session's queue: it must be quick.
	OnSave func(took time.Duration, events int, err error)

	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// NewID returns a new unique id for messages. Default: 128 random bits.
	NewID func() string
}

// PreStartChat is what the PreStartChat hook sees and may change.
type PreStartChat struct {
	SessionID      string
	ConnectMessage servicedesk.MessageResponse
	// Cancel stops the chat before the desk is asked.
	Cancel bool
	// Payload reaches the desk as StartChatOptions.PreStartChatPayload.
	Payload json.RawMessage
	// Handoff reaches the desk as StartChatOptions.Handoff: the host's,
	// completed from the connect message.
	Handoff servicedesk.Handoff
}

// PreEndChat is what the PreEndChat hook sees and may change.
type PreEndChat struct {
	SessionID    string
	EndedByAgent bool
	// Committed: the user's side has already ended the chat; Cancel is
	// ignored (EndOptions.Committed).
	Committed bool
	// Cancel keeps the chat going.
	Cancel bool
	// Payload reaches the desk as EndChatInfo.PreEndChatPayload.
	Payload json.RawMessage
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.AvailabilityTimeout, 5*time.Second)
	def(&o.StartChatTimeout, 30*time.Second)
	def(&o.EndChatTimeout, 5*time.Second)
	def(&o.SendTimeout, 30*time.Second)
	def(&o.SendRetryFor, 30*time.Second)
	def(&o.ReconnectTimeout, 15*time.Second)
	def(&o.FileUploadTimeout, 2*time.Minute)
	def(&o.ScreenShareTimeout, time.Minute)
	def(&o.AssistantReturnDelay, 1500*time.Millisecond)
	def(&o.ChatlessTTL, 2*time.Minute)
	def(&o.IdleTTL, 30*time.Minute)
	def(&o.AbandonAfter, 15*time.Minute)
	def(&o.PresenceAfter, 5*time.Second)
	def(&o.MaxChatDuration, 8*time.Hour)
	if o.MaxSessions == 0 {
		o.MaxSessions = 100000
	}
	if o.Store == nil {
		o.Store = NewMemoryStore(0)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.EventLogSize <= 0 {
		o.EventLogSize = 128
	}
	if o.EventLogBytes == 0 {
		o.EventLogBytes = 1 << 20
	}
	if o.EventLogTotalBytes == 0 {
		o.EventLogTotalBytes = 256 << 20
	}
	if o.MaxConcurrentReconnects <= 0 {
		o.MaxConcurrentReconnects = 64
	}
	for p, v := range map[*int]int{&o.MaxTranscriptTurns: 50, &o.MaxTranscriptTurnBytes: 2 << 10, &o.MaxTranscriptBytes: 32 << 10} {
		if *p == 0 {
			*p = v
		}
	}
	if o.MaxDeskStateBytes <= 0 {
		o.MaxDeskStateBytes = 64 << 10
	}
	if fs, ok := o.Store.(FileStore); ok && o.Files == nil {
		o.Files = fs
	}
	if o.OpenFile == nil && o.Files != nil {
		files := o.Files
		o.OpenFile = func(ctx context.Context, sessionID, fileID string) (io.ReadCloser, error) {
			_, rc, err := files.OpenFile(ctx, sessionID, fileID)
			return rc, err
		}
	}
	o.Texts = o.Texts.withDefaults()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = randomID
	}
	return o
}
