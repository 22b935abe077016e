package vendorkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/actioncable"
	"github.com/deskbridge/deskbridge/core/transport/lifetime"
	"github.com/deskbridge/deskbridge/core/transport/sse"
	"github.com/deskbridge/deskbridge/core/transport/stream"
)

// Chat is the part of a vendor kit's desk that is the same for every
// vendor. Set Callback before use; the zero value is otherwise ready.
type Chat struct {
	// Callback is the session's servicedesk.Callback.
	Callback servicedesk.Callback

	// Life ends with Close: the desk's goroutines and callers' contexts.
	Life lifetime.Lifecycle
	// Socket holds the chat's live connection, if the vendor has one;
	// Stream its SSE stream, for vendors that push events that way.
	Socket stream.SocketSlot
	Stream lifetime.Slot[*sse.Stream]
	// Cable holds its ActionCable subscription, for vendors on Rails'
	// ActionCable (Chatwoot).
	Cable lifetime.Slot[*actioncable.Client]
	// AgentTyping shows the agent typing; Begin wires it to the callback.
	AgentTyping lifetime.Indicator

	mu        sync.Mutex
	joined    bool
	ended     bool
	endedByUs bool
	resuming  bool
}

// Begin resets the flags for a new chat (the engine keeps one desk per
// session: a chat after an ended one starts from a clean slate). joined
// is whether an agent is already in it (a resumed chat).
func (c *Chat) Begin(joined bool) {
	c.AgentTyping.Set = c.Callback.AgentTyping
	c.mu.Lock()
	c.joined, c.ended, c.endedByUs, c.resuming = joined, false, false, false
	c.mu.Unlock()
}

// Join records that an agent joined; it reports whether this is the first
// agent of the chat.
func (c *Chat) Join() (first bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first = !c.joined
	c.joined = true
	return first
}

// JoinAgent tells the customer that agent p joined (AgentJoined) and
// reports whether p is the chat's first agent. The first is saved first
// ({"joined": true}, merged into the persisted state, whose type keeps
// it as `json:"joined"`), so that a Reconnect after a restart knows an
// agent is in; a failed save is logged on log (the chat goes on).
func (c *Chat) JoinAgent(p servicedesk.AgentProfile, log *slog.Logger) (first bool) {
	if first = c.Join(); first {
		c.Persist(map[string]any{"joined": true}, log)
	}
	c.Callback.AgentJoined(p)
	return first
}

// Persist merges fields into the chat's persisted state
// (UpdatePersistedState): a cursor moved, a token renewed. A failed save
// is logged on log, not returned: the chat goes on, and a restart would
// resume from the state saved before.
func (c *Chat) Persist(fields map[string]any, log *slog.Logger) {
	if err := c.Callback.UpdatePersistedState(fields); err != nil && log != nil {
		log.Warn("persist state", "err", err)
	}
}

// Joined reports whether an agent joined the chat.
func (c *Chat) Joined() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joined
}

// Ended reports whether the chat ended, either side.
func (c *Chat) Ended() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// AgentIn reports whether an outage is worth Carbon's DISCONNECTED status:
// an agent joined a chat that goes on.
func (c *Chat) AgentIn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joined && !c.ended
}

// ReportOutage raises (down) or clears Carbon's DISCONNECTED status.
func (c *Chat) ReportOutage(down bool) {
	c.Callback.SetErrorStatus(servicedesk.DisconnectedError(down))
}

// EndingByUs marks the chat as being ended by the customer (EndChat), so
// that the desk's own end of it is quiet, and reports whether it had
// already ended, in which case there is nothing to tell the vendor. The
// chat counts as ended once Finish is called, after the vendor was told.
func (c *Chat) EndingByUs() (already bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endedByUs = !c.ended
	return c.ended
}

// Finish marks the chat ended and stops its socket or stream (off the
// caller's goroutine).
func (c *Chat) Finish() {
	c.mu.Lock()
	c.ended = true
	c.mu.Unlock()
	c.stopConnections()
}

func (c *Chat) stopConnections() {
	c.Socket.Stop(&c.Life)
	c.Stream.Stop(&c.Life)
	c.Cable.Stop(&c.Life)
}

// EndedByDesk applies the one rule for a chat the desk ended (the agent
// ended it, the contact or session is gone): once per chat, the typing
// indicator off, then AgentEndedChat when an agent had joined, else a
// CONNECTING error with reason; nothing when the customer ended it
// (quiet also says so: a resume that found the chat over). The socket is
// stopped off the caller's goroutine, which may be the socket's own.
func (c *Chat) EndedByDesk(reason string, quiet bool) {
	c.AgentTyping.Off()
	c.mu.Lock()
	already := c.ended
	c.ended = true
	byUs, joined := c.endedByUs || quiet || c.resuming, c.joined
	c.mu.Unlock()
	// The socket first: once the engine hears of the end, the next chat's
	// StartChat may open its own socket, which this must not be taken for.
	c.stopConnections()
	if !already && !byUs {
		DeskEnded(c.Callback, joined, reason)
	}
}

// Resume begins a resumed chat (Begin, joined: an agent was in it) for a
// kit's Reconnect, and until done is called a desk-side end is quiet:
// Reconnect reports the chat over (false) instead of the engine hearing of
// an end.
func (c *Chat) Resume(joined bool) (done func()) {
	c.Begin(joined)
	c.mu.Lock()
	c.resuming = true
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.resuming = false
		c.mu.Unlock()
	}
}

// EndChat is the frame of a desk's EndChat: bound to the desk's lifetime,
// the chat marked as ended by the customer (EndingByUs) and finished
// (Finish) whatever happens. end tells the vendor, unless there is nothing
// to tell: the chat had ended already, the agent ended it, or it never
// reached the vendor (started false). A servicedesk.ErrChatNotFound from
// end is no error: the chat is gone already.
func (c *Chat) EndChat(ctx context.Context, info servicedesk.EndChatInfo, started bool, end func(context.Context) error) error {
	ctx, done := c.Life.Bind(ctx)
	defer done()
	already := c.EndingByUs()
	defer c.Finish()
	if already || info.EndedByHumanAgent || !started {
		return nil
	}
	if err := end(ctx); err != nil && !errors.Is(err, servicedesk.ErrChatNotFound) {
		return err
	}
	return nil
}

// DeskEnded tells cb that the desk ended the chat: AgentEndedChat when an
// agent had joined, else a CONNECTING error with reason (the chat never
// reached an agent). Kits that keep their own flags (the desk protocol's)
// share the rule through it.
func DeskEnded(cb servicedesk.Callback, agentJoined bool, reason string) {
	if agentJoined {
		cb.AgentEndedChat()
		return
	}
	cb.SetErrorStatus(servicedesk.ConnectingError(reason))
}

// OpenSocket starts the chat's socket with the configuration config makes,
// unless one is open. After Close it fails with lifetime.ErrClosed.
func (c *Chat) OpenSocket(config func() stream.SocketConfig) error {
	if c.Life.Closed() {
		return lifetime.ErrClosed
	}
	c.Socket.Open(func() *stream.Socket { return stream.OpenSocket(config()) })
	return nil
}

// Close stops the socket or stream, the typing indicator and every goroutine of the
// desk; it reports whether this call did the closing. It does not end the
// chat. It is idempotent.
func (c *Chat) Close() (first bool) {
	c.Socket.Close()
	c.Stream.Close()
	c.Cable.Close()
	c.AgentTyping.Stop()
	return c.Life.Close()
}

// LoadState decodes a session's persisted state into the kit's type S. An
// empty state is S's zero value; one that does not decode is an error,
// rather than a desk that silently forgot its chat.
func LoadState[S any](kit string, raw json.RawMessage) (S, error) {
	var s S
	if len(raw) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("%s: persisted state: %w", kit, err)
	}
	return s, nil
}

// Desks is a kit's set of open desks: the body of its Factory and its
// Close. The zero value is ready.
type Desks[D interface {
	comparable
	io.Closer
}] struct {
	set lifetime.Set[D]
}

// Open makes a desk with newDesk (which does no network work) and tracks it
// until Forget or Close. kit names the kit in errors.
func (k *Desks[D]) Open(ctx context.Context, kit string, newDesk func() (D, error)) (D, error) {
	var zero D
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("%s: factory: %w", kit, err)
	}
	d, err := newDesk()
	if err != nil {
		return zero, fmt.Errorf("%s: factory: %w", kit, err)
	}
	if err := k.set.Add(d); err != nil {
		_ = d.Close()
		return zero, fmt.Errorf("%s: factory: %w", kit, err)
	}
	return d, nil
}

// Forget stops tracking a desk that closed by itself.
func (k *Desks[D]) Forget(d D) { k.set.Remove(d) }

// CloseChat is the body of a desk's Close: it closes c, the desk's Chat,
// and forgets d the first time. It reports whether this was that first
// time.
func (k *Desks[D]) CloseChat(d D, c *Chat) (first bool) {
	if !c.Close() {
		return false
	}
	k.Forget(d)
	return true
}

// Close closes every open desk and refuses new ones; it is idempotent.
func (k *Desks[D]) Close() error { return k.set.Close() }

// As is the body of a desk's As method (see servicedesk.As) for one type
// T: when target is a *T and get has a value (ok), it fills target.
func As[T any](target any, get func() (T, bool)) bool {
	p, ok := target.(*T)
	if !ok || p == nil {
		return false
	}
	v, ok := get()
	if ok {
		*p = v
	}
	return ok
}
