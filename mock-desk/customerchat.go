package mockdesk

import (
	"context"
	"fmt"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// The customer side for vendor faces: what a face in another package does
// for its customer, on the same rules as the desk protocol's transports
// (idempotency, file checks, partitions), without reaching into the desk.

// ChatStart is what a face knows when its customer starts a chat.
type ChatStart struct {
	Customer deskproto.Customer
	// Summary is what the agent reads first: the bot's hand-off summary.
	Summary string
	// Attributes are the contact's custom attributes (Connect's
	// Attributes, Genesys's customAttributes, …); the agent side sees them
	// in ChatView.
	Attributes map[string]string
}

// StartCustomerChat opens a chat for a face's customer and returns its
// customer side. The chat's first events are those of StartChat.
func (d *Desk) StartCustomerChat(ctx context.Context, s ChatStart) (*CustomerChat, error) {
	item := servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: s.Summary}
	cust := s.Customer
	res, err := d.startChat(ctx, deskproto.StartRequest{Customer: &cust, ConnectItem: &item}, s.Attributes)
	if err != nil {
		return nil, err
	}
	return d.Customer(res.ChatID, res.ChatToken), nil
}

// CustomerChat is the customer side of one chat, for a vendor face: every
// method checks the chat's token, answers ErrUnavailable while
// DropConnections cuts the chat off, and wraps one of the Err… values.
// It is safe for concurrent use.
type CustomerChat struct {
	d         *Desk
	id, token string
}

// Customer returns the customer side of a chat started before (by
// StartCustomerChat, StartChat or any transport). It checks nothing
// until used.
func (d *Desk) Customer(chatID, token string) *CustomerChat {
	return &CustomerChat{d: d, id: chatID, token: token}
}

// ID returns the chat's id.
func (c *CustomerChat) ID() string { return c.id }

// Token returns the chat's token, which authorises its customer side.
func (c *CustomerChat) Token() string { return c.token }

// Info returns the chat's state, capabilities, agent and last seq.
func (c *CustomerChat) Info(ctx context.Context) (deskproto.ChatInfo, error) {
	if err := ctx.Err(); err != nil {
		return deskproto.ChatInfo{}, fmt.Errorf("mockdesk: chat info of %s: %w", c.id, err)
	}
	return c.d.chatInfo(c.id, c.token)
}

// Send stores a customer message once per m.IdempotencyKey: a resent key
// with the same message answers the first result (Replayed), with another
// message ErrIdempotencyReused. m.FileIDs announce files uploaded with
// Upload.
func (c *CustomerChat) Send(ctx context.Context, m deskproto.Message) (deskproto.SendResult, error) {
	return c.d.sendMessage(ctx, c.id, c.token, m.IdempotencyKey, m.Message, m.FileIDs)
}

// Typing shows or hides the customer's typing indicator to the agent.
func (c *CustomerChat) Typing(ctx context.Context, on bool) error {
	return c.d.customerTyping(ctx, c.id, c.token, on)
}

// Read marks the agent's messages read up to messageID (all when empty).
func (c *CustomerChat) Read(ctx context.Context, messageID string) error {
	return c.d.customerRead(ctx, c.id, c.token, messageID)
}

// Upload is one file a face's customer uploads.
type Upload struct {
	// FileID is the file's id (the face's attachment id); empty: the desk
	// makes one.
	FileID string
	// MessageID is the customer message the file goes with.
	MessageID string
	Name      string
	Type      string
	Content   []byte
	// Size, when larger than len(Content), is the size the customer
	// declared for bytes the face never took: the desk checks it against
	// the chat's limit (a face refusing a file up front records it so).
	Size int64
}

// Upload checks one file against the chat's capabilities and stores it
// when it passes. Either way the chat gets a file_status event and the
// agent side sees the outcome; a refused file fails with
// ErrFileTooLarge, ErrFileTypeNotAllowed, ErrUploadsDisabled or
// ErrFileRejected, and the result says why.
func (c *CustomerChat) Upload(ctx context.Context, u Upload) (deskproto.FileResult, error) {
	tooLarge := false
	if u.Size > int64(len(u.Content)) {
		info, err := c.d.chatInfo(c.id, c.token)
		if err != nil {
			return deskproto.FileResult{}, fmt.Errorf("mockdesk: upload: %w", err)
		}
		limit := info.Capabilities.MaxFileSizeBytes
		tooLarge = limit > 0 && u.Size > limit
	}
	res, err := c.d.uploadFile(ctx, c.id, c.token, u.FileID, u.MessageID, u.Name, u.Type, u.Content, tooLarge)
	return res, err
}

// End ends the chat as the customer.
func (c *CustomerChat) End(ctx context.Context) error {
	return c.d.customerEnd(ctx, c.id, c.token)
}

// AnswerScreenShare answers the agent's pending screen share request
// (shareID, or whichever is pending when empty) with accepted, declined or
// cancelled.
func (c *CustomerChat) AnswerScreenShare(ctx context.Context, shareID string, state servicedesk.ScreenShareState) error {
	return c.d.screenShareAnswer(ctx, c.id, c.token, shareID, state)
}

// StopScreenShare ends an accepted screen share from the customer's side.
func (c *CustomerChat) StopScreenShare(ctx context.Context) error {
	return c.d.screenShareStop(ctx, c.id, c.token)
}

// Events returns the chat's events after seq after (at most 500), waiting
// up to wait for the first when there are none yet. A face's history or
// transcript call reads with wait 0.
func (c *CustomerChat) Events(ctx context.Context, after uint64, wait time.Duration) (deskproto.Page, error) {
	return c.d.waitEvents(ctx, c.id, c.token, after, wait)
}

// Latest, as Follow's after, starts a follower at the present: it gets
// only the events logged after Follow.
const Latest = ^uint64(0)

// Follow starts following the chat's events after seq after (0: from the
// start; Latest: from now), for a face that pushes them to its customer
// over its own WebSocket, SSE or webhooks. Like a connection the desk
// already accepted, a follower reads through a partition; DropConnections
// ends it (see Next).
func (c *CustomerChat) Follow(ctx context.Context, after uint64) (*Follower, error) {
	return c.FollowSince(ctx, after, time.Time{})
}

// FollowSince is Follow for a connection opened at since, before it
// followed the chat (a socket that logs in first, a stream opened for a
// customer before their conversation existed): a DropConnections after
// since cuts it too, as it would the network connection, so that Next
// fails at once with ErrUnavailable.
func (c *CustomerChat) FollowSince(ctx context.Context, after uint64, since time.Time) (*Follower, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mockdesk: follow chat %s: %w", c.id, err)
	}
	c.d.mu.RLock()
	defer c.d.mu.RUnlock()
	ch, err := c.d.lookupToken(c.id, c.token)
	if err != nil {
		return nil, fmt.Errorf("mockdesk: follow: %w", err)
	}
	if after == Latest {
		after = ch.seq
	}
	if after > ch.seq {
		return nil, fmt.Errorf("mockdesk: follow chat %s after %d, at %d: %w", c.id, after, ch.seq, ErrBadCursor)
	}
	dropped := ch.dropped
	if !since.IsZero() && ch.droppedAt.After(since) {
		dropped = closedChan
	}
	return &Follower{c: c, after: after, dropped: dropped}, nil
}

// closedChan is the drop signal of a follower whose connection was dropped
// before it followed.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Follower reads one chat's events in seq order as they are logged. Use
// it from one goroutine.
type Follower struct {
	c       *CustomerChat
	after   uint64
	dropped <-chan struct{} // the chat's drop signal when Follow began
}

// Next returns the events after the last it returned, waiting until there
// is at least one. It fails with ErrUnavailable once DropConnections was
// called for the chat after Follow (the face drops its connection,
// abruptly, as a network failure would: the follower is done),
// ErrChatEnded once the events of an ended chat are all read, ErrClosed
// when the desk closes, or ctx's error.
func (f *Follower) Next(ctx context.Context) ([]deskproto.Event, error) {
	d, id := f.c.d, f.c.id
	for {
		select {
		case <-f.dropped:
			return nil, fmt.Errorf("mockdesk: follow chat %s: connection dropped: %w", id, ErrUnavailable)
		default:
		}
		d.mu.RLock()
		ch, err := d.lookupToken(id, f.c.token)
		if err != nil {
			d.mu.RUnlock()
			return nil, fmt.Errorf("mockdesk: follow: %w", err)
		}
		evs := append([]deskproto.Event(nil), ch.events[f.after:]...)
		ended := ch.state == StateEnded
		changed := ch.changed
		d.mu.RUnlock()
		if len(evs) > 0 {
			f.after = evs[len(evs)-1].Seq
			return evs, nil
		}
		if ended {
			return nil, fmt.Errorf("mockdesk: follow chat %s: %w", id, ErrChatEnded)
		}
		select {
		case <-changed:
		case <-f.dropped:
		case <-ctx.Done():
			return nil, fmt.Errorf("mockdesk: follow chat %s: %w", id, ctx.Err())
		case <-d.ctx.Done():
			return nil, fmt.Errorf("mockdesk: follow chat %s: %w", id, ErrClosed)
		}
	}
}

// Seq returns the seq of the last event Next returned (or Follow's after).
func (f *Follower) Seq() uint64 { return f.after }
