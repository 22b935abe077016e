package flow

import (
	"bytes"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// EventType names what happened. Every outcome a person would see is an
// event; so are state changes, for front ends that draw banners.
type EventType string

// Event types.
const (
	// EventState: the session's state changed (State).
	EventState EventType = "state"
	// EventAvailability: the answer of an availability check (Online).
	EventAvailability EventType = "availability"
	// EventQueueUpdate: news for the waiting user (Availability, Text).
	EventQueueUpdate EventType = "queue_update"
	// EventAgentJoined: an agent joined (Profile, Text).
	EventAgentJoined EventType = "agent_joined"
	// EventReloadWarning: the desk cannot resume a chat after a restart (Text).
	EventReloadWarning EventType = "reload_warning"
	// EventAgentMessage: a message from the agent (Message, MessageID, Profile).
	EventAgentMessage EventType = "agent_message"
	// EventAgentTyping: the agent started or stopped typing (Typing).
	EventAgentTyping EventType = "agent_typing"
	// EventAgentRead: the agent read the user's messages.
	EventAgentRead EventType = "agent_read"
	// EventTransfer: a transfer to another agent started (Profile, Text).
	EventTransfer EventType = "transfer"
	// EventAgentLeft: the agent left; the chat stays open (Profile, Text).
	EventAgentLeft EventType = "agent_left"
	// EventUserMessage: the user sent a message (UserMessage, MessageID, Files).
	EventUserMessage EventType = "user_message"
	// EventMessageStatus: a user message reached the desk or failed
	// (MessageID, Status, Text).
	EventMessageStatus EventType = "message_status"
	// EventError: an inline error line (ErrorType, Text).
	EventError EventType = "error"
	// EventDisconnected: the desk connection was lost mid-chat (Text).
	EventDisconnected EventType = "disconnected"
	// EventReconnected: the desk connection is back (Text).
	EventReconnected EventType = "reconnected"
	// EventFileStatus: a file's upload status changed (FileID, FileStatus, Text).
	EventFileStatus EventType = "file_status"
	// EventScreenShare: a screen share request or session changed (ScreenShare, Text).
	EventScreenShare EventType = "screen_share"
	// EventCapabilities: what the user may upload changed (Capabilities).
	EventCapabilities EventType = "capabilities"
	// EventSuspended: the host parked or resumed the agent chat (Suspended).
	EventSuspended EventType = "suspended"
	// EventChatEnded: the chat ended (Reason, EndedByAgent, RequestCancelled, Text).
	EventChatEnded EventType = "chat_ended"
	// EventAssistantReturned: the bot is back after an agent chat (Text).
	EventAssistantReturned EventType = "assistant_returned"
	// EventOwner: who answers the user changed (Owner): the host's bot
	// must not answer while the owner is OwnerQueued or OwnerAgent, and
	// takes the conversation back at OwnerEnded (right after chat_ended,
	// which says why, with the agent's last words).
	EventOwner EventType = "owner"
)

// MessageStatus is how a user message fared on its way to the desk.
type MessageStatus string

// Message statuses.
const (
	MessageQueued MessageStatus = "queued"
	MessageSent   MessageStatus = "sent"
	MessageFailed MessageStatus = "failed"
)

// ConversationOwner says who answers the user (not the instance that owns a
// session: see Owners).
type ConversationOwner string

// Owners.
const (
	// OwnerBot: no agent chat has been asked for yet; the host's bot
	// answers.
	OwnerBot ConversationOwner = "bot"
	// OwnerQueued: the user waits for an agent; the bot stays silent.
	OwnerQueued ConversationOwner = "queued"
	// OwnerAgent: an agent has the chat; the bot stays silent.
	OwnerAgent ConversationOwner = "agent"
	// OwnerEnded: the last agent chat ended (its chat_ended event says
	// why); the host's bot answers again, as at OwnerBot, and may say that
	// it took the conversation back. A new chat makes it OwnerQueued.
	OwnerEnded ConversationOwner = "ended"
)

// EndReason says why a chat ended.
type EndReason string

// End reasons.
const (
	EndByUser          EndReason = "user"
	EndByAgent         EndReason = "agent"
	EndCancelled       EndReason = "cancelled"        // a pre-start hook cancelled
	EndConnectingError EndReason = "connecting_error" // the desk could not connect the chat
	EndJoinTimeout     EndReason = "join_timeout"
	EndReconnectFailed EndReason = "reconnect_failed"
)

// ScreenSharePhase extends servicedesk.ScreenShareState with "requested".
type ScreenSharePhase string

// Screen share phases.
const (
	ScreenShareRequested ScreenSharePhase = "requested"
	ScreenShareAccepted  ScreenSharePhase = ScreenSharePhase(servicedesk.ScreenShareAccepted)
	ScreenShareDeclined  ScreenSharePhase = ScreenSharePhase(servicedesk.ScreenShareDeclined)
	ScreenShareCancelled ScreenSharePhase = ScreenSharePhase(servicedesk.ScreenShareCancelled)
	ScreenShareEnded     ScreenSharePhase = ScreenSharePhase(servicedesk.ScreenShareEnded)
)

// Event is one entry of a session's event log. Seq numbers start at 1 and
// grow by one per event, so a front end that saw Seq n asks for events after
// n and gets exactly the ones it missed. Only the fields its Type lists are
// set.
type Event struct {
	Seq  uint64    `json:"seq"`
	Type EventType `json:"type"`
	// Time is milliseconds since the Unix epoch.
	Time int64 `json:"time"`
	// Chat numbers the agent chats of a session: 1 for the first, and so on.
	Chat uint64 `json:"chat,omitempty"`
	// Text is the line a person sees, from Options.Texts.
	Text string `json:"text,omitempty"`
	// Kind is Carbon's agent_message_type for status lines.
	Kind servicedesk.AgentMessageType `json:"kind,omitempty"`

	State            State                          `json:"state,omitempty"`
	Online           servicedesk.OnlineStatus       `json:"online,omitempty"`
	Availability     *servicedesk.AgentAvailability `json:"availability,omitempty"`
	Profile          *servicedesk.AgentProfile      `json:"profile,omitempty"`
	Message          *servicedesk.MessageResponse   `json:"message,omitempty"`
	UserMessage      *servicedesk.MessageRequest    `json:"user_message,omitempty"`
	MessageID        string                         `json:"message_id,omitempty"`
	Status           MessageStatus                  `json:"status,omitempty"`
	Files            []servicedesk.FileUpload       `json:"files,omitempty"`
	FileID           string                         `json:"file_id,omitempty"`
	FileStatus       servicedesk.FileStatus         `json:"file_status,omitempty"`
	Typing           *bool                          `json:"typing,omitempty"`
	Suspended        *bool                          `json:"suspended,omitempty"`
	ScreenShare      ScreenSharePhase               `json:"screen_share,omitempty"`
	ErrorType        servicedesk.ErrorType          `json:"error_type,omitempty"`
	Capabilities     *servicedesk.Capabilities      `json:"capabilities,omitempty"`
	Reason           EndReason                      `json:"reason,omitempty"`
	EndedByAgent     bool                           `json:"ended_by_agent,omitempty"`
	RequestCancelled bool                           `json:"request_cancelled,omitempty"`
	// Owner (owner events) is who answers the user now.
	Owner ConversationOwner `json:"owner,omitempty"`
	// LastAgentText (chat_ended) is the agent's last message, plain text,
	// for the host's bot to take the conversation back from.
	LastAgentText string `json:"last_agent_text,omitempty"`

	// enc holds the event's JSON once made: a published event is encoded
	// by its store and again for every socket that shows it, and never
	// changes. Copies of the event share it.
	enc *encodedEvent
}

type encodedEvent struct {
	once sync.Once
	b    []byte
	msg  []byte // Message's encoding, a part of b
	err  error
}

// plainEvent is Event without its MarshalJSON.
type plainEvent Event

// MarshalJSON encodes the event once for all its readers (events the
// engine published; others are encoded each time).
func (e *Event) MarshalJSON() ([]byte, error) {
	if e.enc == nil {
		b, _, err := e.encode()
		return b, err
	}
	e.enc.once.Do(func() { e.enc.b, e.enc.msg, e.enc.err = e.encode() })
	return e.enc.b, e.enc.err
}

// MessageJSON returns the encoding of the event's Message, as it is in
// the event's own (a front end that hands the message on needs no second
// encoding of it); nil when the event has none.
func (e *Event) MessageJSON() ([]byte, error) {
	if e.Message == nil {
		return nil, nil
	}
	if e.enc == nil {
		return json.Marshal(e.Message)
	}
	if _, err := e.MarshalJSON(); err != nil {
		return nil, err
	}
	return e.enc.msg, nil
}

// encode encodes the event with its message last, and returns the
// message's part of it too.
func (e *Event) encode() (b, msg []byte, err error) {
	if e.Message == nil {
		b, err = json.Marshal((*plainEvent)(e))
		return b, nil, err
	}
	w := eventWriters.Get().(*eventWriter)
	defer w.put()
	// The fields but the message, an object with seq, type and time at
	// least: the message goes in before its closing brace.
	if err := w.enc.Encode(eventSansMessage{plainEvent: (*plainEvent)(e)}); err != nil {
		return nil, nil, err
	}
	w.buf.Truncate(w.buf.Len() - 2) // "}\n"
	w.buf.WriteString(`,"message":`)
	start := w.buf.Len()
	if err := w.enc.Encode(e.Message); err != nil {
		return nil, nil, err
	}
	w.buf.Truncate(w.buf.Len() - 1) // "\n"
	end := w.buf.Len()
	w.buf.WriteByte('}')
	b = bytes.Clone(w.buf.Bytes())
	return b, b[start:end:end], nil
}

// eventSansMessage encodes an event without its message: the shallower
// (nil, omitted) Message hides the event's.
type eventSansMessage struct {
	*plainEvent
	Message *struct{} `json:"message,omitempty"`
}

// eventWriter is a reusable buffer with an encoder writing to it.
type eventWriter struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var eventWriters = sync.Pool{New: func() any {
	w := new(eventWriter)
	w.enc = json.NewEncoder(&w.buf)
	return w
}}

func (w *eventWriter) put() {
	if w.buf.Cap() > 64<<10 {
		return // an odd large event: not kept
	}
	w.buf.Reset()
	eventWriters.Put(w)
}

// eventLog keeps the newest events of a session in a ring of pointers:
// events are immutable once published, so the session and a MemoryStore share
// one allocation per event, and an unused slot costs one word. Besides max
// events, it may hold at most maxBytes of encoded events, and a budget
// shared by many logs bounds them together: the oldest events go first,
// the newest is always kept.
type eventLog struct {
	buf   []*Event
	start int    // index of the oldest event in buf
	n     int    // events held
	last  uint64 // Seq of the newest event; 0 when none yet
	max   int

	maxBytes int64       // 0: no bound
	budget   *ByteBudget // may be nil
	bytes    int64       // encoded size of the events held, when counted
}

// ByteBudget bounds the encoded bytes of many event logs together (the
// sessions of an engine, of a MemoryStore): past it, a log that grows
// drops its own oldest events. Safe for concurrent use.
type ByteBudget struct {
	max  int64
	used atomic.Int64
}

// NewByteBudget returns a budget of max bytes (no bound when max <= 0).
func NewByteBudget(max int64) *ByteBudget { return &ByteBudget{max: max} }

// Used returns the bytes held now.
func (b *ByteBudget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

func (b *ByteBudget) over() bool { return b != nil && b.max > 0 && b.used.Load() > b.max }

func (l *eventLog) counting() bool { return l.maxBytes > 0 || l.budget != nil }

// eventSize is an event's encoded size (MarshalJSON caches the encoding
// of a published event, so this costs one encoding per event).
func eventSize(ev *Event) int64 {
	b, err := ev.MarshalJSON()
	if err != nil {
		return 1 << 10
	}
	return int64(len(b))
}

func (l *eventLog) count(ev *Event, sign int64) {
	sz := sign * eventSize(ev)
	l.bytes += sz
	if l.budget != nil {
		l.budget.used.Add(sz)
	}
}

func (l *eventLog) append(ev *Event) {
	if !l.counting() {
		l.appendSlot(ev)
		return
	}
	if l.n > 0 && l.n == len(l.buf) && len(l.buf) >= l.max {
		l.dropOldest() // the ring is full: its oldest slot is reused
	}
	l.appendSlot(ev)
	l.count(ev, 1)
	for l.n > 1 && ((l.maxBytes > 0 && l.bytes > l.maxBytes) || l.budget.over()) {
		l.dropOldest()
	}
}

// dropOldest forgets the oldest event held.
func (l *eventLog) dropOldest() {
	if l.n == 0 {
		return
	}
	if l.counting() {
		l.count(l.buf[l.start], -1)
	}
	l.buf[l.start] = nil
	l.start = (l.start + 1) % len(l.buf)
	l.n--
}

func (l *eventLog) appendSlot(ev *Event) {
	if l.n < len(l.buf) {
		l.buf[(l.start+l.n)%len(l.buf)] = ev
		l.n++
	} else if len(l.buf) < l.max {
		// Grow lazily: an idle session holds no event buffer at all.
		nb := make([]*Event, min(max(2*len(l.buf), 8), l.max))
		for i := range l.n {
			nb[i] = l.buf[(l.start+i)%len(l.buf)]
		}
		l.buf, l.start = nb, 0
		l.buf[l.n] = ev
		l.n++
	} else {
		l.buf[l.start] = ev
		l.start = (l.start + 1) % len(l.buf)
	}
	l.last = ev.Seq
}

// release frees the buffer; the Seq count goes on.
func (l *eventLog) release() {
	if l.counting() {
		for l.n > 0 {
			l.dropOldest()
		}
	}
	l.buf, l.start, l.n = nil, 0, 0
}

// oldest returns the Seq of the oldest event held, or last+1 when empty.
func (l *eventLog) oldest() uint64 {
	if l.n == 0 {
		return l.last + 1
	}
	return l.buf[l.start].Seq
}

// since returns copies of the events after seq, and false when some of them
// are no longer held.
func (l *eventLog) since(seq uint64, limit int) ([]Event, bool) {
	if seq >= l.last {
		return nil, true
	}
	if seq+1 < l.oldest() {
		return nil, false
	}
	skip := int(seq + 1 - l.oldest())
	count := l.n - skip
	if limit > 0 && count > limit {
		count = limit
	}
	out := make([]Event, count)
	for i := range count {
		out[i] = *l.buf[(l.start+skip+i)%len(l.buf)]
	}
	return out, true
}
