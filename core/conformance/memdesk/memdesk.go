package memdesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// ErrClosed is returned by a kit desk after Close.
var ErrClosed = errors.New("memdesk: desk closed")

// Features are what memdesk does: everything.
var Features = conformance.Features{
	AvailabilityCheck: true, QueuePosition: true, WaitTime: true,
	UserTyping: true, AgentTyping: true, UserRead: true, AgentRead: true,
	FileUpload: true, Transfer: true, ScreenShare: true, Reconnect: true,
}

// Limits are the file rules memdesk reports and enforces.
var Limits = servicedesk.Capabilities{
	AllowFileUploads: true, AllowMultipleFileUploads: true,
	AllowedFileUploadTypes: "image/*,.txt,.pdf", MaxFileSizeBytes: 1 << 20, MaxFiles: 5,
}

// Desk is the whole in-memory desk.
type Desk struct {
	mu       sync.Mutex
	online   bool
	refuse   string
	chats    map[string]*Chat
	next     int
	newChats chan *Chat
}

// New returns a desk with agents online.
func New() *Desk {
	return &Desk{online: true, chats: map[string]*Chat{}, newChats: make(chan *Chat, 16)}
}

var _ conformance.Desk = (*Desk)(nil)

// SetAgentsOnline implements conformance.Desk.
func (d *Desk) SetAgentsOnline(_ context.Context, online bool) error {
	d.mu.Lock()
	d.online = online
	d.mu.Unlock()
	return nil
}

// RefuseNextChat implements conformance.Desk.
func (d *Desk) RefuseNextChat(_ context.Context, reason string) error {
	d.mu.Lock()
	d.refuse = reason
	d.mu.Unlock()
	return nil
}

// NextChat implements conformance.Desk.
func (d *Desk) NextChat(ctx context.Context) (conformance.Chat, error) {
	select {
	case c := <-d.newChats:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// state is what a kit desk persists: enough to find its chat again.
type state struct {
	ChatID    string `json:"chat_id,omitempty"`
	ChatToken string `json:"chat_token,omitempty"`
}

// Factory builds the kit side of the desk for one session.
func (d *Desk) Factory() servicedesk.Factory {
	return func(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		k := &kit{d: d, cb: p.Callback}
		if len(p.PersistedState) > 0 {
			if err := json.Unmarshal(p.PersistedState, &k.saved); err != nil {
				return nil, fmt.Errorf("memdesk: persisted state: %w", err)
			}
		}
		p.Callback.UpdateCapabilities(Limits.FullUpdate())
		return k, nil
	}
}

// kit is the desk as a kit sees it: a servicedesk.ServiceDesk with every
// optional method.
type kit struct {
	d     *Desk
	cb    servicedesk.Callback
	saved state

	mu     sync.Mutex
	chat   *Chat
	closed bool
}

func (k *kit) Name() string { return "memdesk" }

func (k *kit) current() (*Chat, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, ErrClosed
	}
	if k.chat == nil {
		return nil, servicedesk.ErrNoChat
	}
	return k.chat, nil
}

func (k *kit) StartChat(_ context.Context, m servicedesk.MessageResponse, _ servicedesk.StartChatOptions) error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return ErrClosed
	}
	k.mu.Unlock()
	d := k.d
	d.mu.Lock()
	if reason := d.refuse; reason != "" {
		d.refuse = ""
		d.mu.Unlock()
		k.cb.SetErrorStatus(servicedesk.ConnectingError(reason))
		return nil
	}
	d.next++
	c := newChat("chat-"+strconv.Itoa(d.next), summaryOf(m))
	d.chats[c.id] = c
	d.mu.Unlock()
	c.attach(k)
	k.mu.Lock()
	k.chat = c
	k.mu.Unlock()
	if err := k.cb.UpdatePersistedState(state{ChatID: c.id, ChatToken: c.token}); err != nil {
		return err
	}
	d.newChats <- c
	return nil
}

func summaryOf(m servicedesk.MessageResponse) string {
	it, ok := m.ConnectToAgent()
	if !ok || it.TransferInfo == nil {
		return ""
	}
	return servicedesk.NewResponse(it.TransferInfo.SummaryMessageToAgent...).PlainText()
}

func (k *kit) EndChat(_ context.Context, info servicedesk.EndChatInfo) error {
	c, err := k.current()
	if errors.Is(err, servicedesk.ErrNoChat) {
		return nil // idempotent
	}
	if err != nil {
		return err
	}
	if !info.EndedByHumanAgent {
		c.push(c.ended, struct{}{})
	}
	k.mu.Lock()
	k.chat = nil
	k.mu.Unlock()
	return k.cb.ReplacePersistedState(state{})
}

func (k *kit) SendMessageToAgent(ctx context.Context, m servicedesk.MessageRequest, id string, data servicedesk.AdditionalDataToAgent) error {
	c, err := k.current()
	if err != nil {
		return err
	}
	return c.receive(ctx, k, m, id, data.FilesToUpload)
}

func (k *kit) AreAnyAgentsOnline(context.Context, servicedesk.MessageResponse) (servicedesk.OnlineStatus, error) {
	k.d.mu.Lock()
	defer k.d.mu.Unlock()
	if k.d.online {
		return servicedesk.Online, nil
	}
	return servicedesk.Offline, nil
}

func (k *kit) UserTyping(_ context.Context, on bool) error {
	c, err := k.current()
	if err != nil {
		return err
	}
	c.push(c.typing, on)
	return nil
}

func (k *kit) UserReadMessages(context.Context) error {
	c, err := k.current()
	if err != nil {
		return err
	}
	c.push(c.reads, struct{}{})
	return nil
}

func (k *kit) FilesSelectedForUpload(_ context.Context, files []servicedesk.FileUpload) error {
	for _, f := range files {
		if ok, why := Limits.Accepts(f.File.Name, f.File.Type, f.File.Size); !ok {
			k.cb.SetFileUploadStatus(f.ID, true, why)
		}
	}
	return nil
}

func (k *kit) ScreenShareStop(context.Context) error {
	c, err := k.current()
	if err != nil {
		return err
	}
	c.push(c.share, servicedesk.ScreenShareEnded)
	return nil
}

func (k *kit) Reconnect(context.Context) (bool, error) {
	k.d.mu.Lock()
	c, ok := k.d.chats[k.saved.ChatID]
	k.d.mu.Unlock()
	if !ok || c.token != k.saved.ChatToken || c.isOver() {
		return false, nil
	}
	c.attach(k)
	k.mu.Lock()
	k.chat = c
	k.mu.Unlock()
	return true, nil
}

func (k *kit) UpdateState(context.Context, servicedesk.ChatState) error { return nil }

// Close implements io.Closer; it is idempotent.
func (k *kit) Close() error {
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	return nil
}

// Chat is one chat, from the agent's seat.
type Chat struct {
	id, token, summary string

	mu          sync.Mutex
	k           *kit
	agent       string
	over        bool
	down        bool
	held        []servicedesk.MessageResponse
	rejectNext  string
	failUpload  string
	seenIDs     map[string]bool
	messages    chan conformance.CustomerMessage
	typing      chan bool
	reads       chan struct{}
	share       chan servicedesk.ScreenShareState
	ended       chan struct{}
	uploadDelay time.Duration
}

var _ conformance.Chat = (*Chat)(nil)

func newChat(id, summary string) *Chat {
	return &Chat{
		id: id, token: "tok-" + id, summary: summary, seenIDs: map[string]bool{},
		messages: make(chan conformance.CustomerMessage, 256), typing: make(chan bool, 64),
		reads: make(chan struct{}, 64), share: make(chan servicedesk.ScreenShareState, 16),
		ended: make(chan struct{}, 4), uploadDelay: 10 * time.Millisecond,
	}
}

func (c *Chat) attach(k *kit) {
	c.mu.Lock()
	c.k = k
	c.mu.Unlock()
}

func (c *Chat) cb() servicedesk.Callback {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.k.cb
}

func (c *Chat) isOver() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.over
}

func (c *Chat) push(ch any, v any) {
	switch ch := ch.(type) {
	case chan bool:
		ch <- v.(bool)
	case chan struct{}:
		ch <- struct{}{}
	case chan servicedesk.ScreenShareState:
		ch <- v.(servicedesk.ScreenShareState)
	}
}

func (c *Chat) receive(ctx context.Context, k *kit, m servicedesk.MessageRequest, id string, files []servicedesk.FileUpload) error {
	c.mu.Lock()
	if c.seenIDs[id] {
		c.mu.Unlock()
		return nil // a resend with the same idempotency key
	}
	c.seenIDs[id] = true
	reject, failUpload := c.rejectNext, c.failUpload
	c.rejectNext, c.failUpload = "", ""
	c.mu.Unlock()
	msg := conformance.CustomerMessage{ID: id, Text: m.Input.Text}
	if reject != "" {
		msg.Rejected = true
		c.messages <- msg
		return fmt.Errorf("memdesk: message %s: %w: %s", id, servicedesk.ErrRejected, reject)
	}
	type status struct {
		id, reason string
	}
	var statuses []status
	for _, f := range files {
		cf := conformance.CustomerFile{ID: f.ID, Name: f.File.Name, Type: f.File.Type}
		if ok, why := Limits.Accepts(f.File.Name, f.File.Type, f.File.Size); !ok {
			cf.Rejected = why
		} else if f.File.Open == nil {
			cf.Rejected = "The file could not be read."
		} else {
			rc, err := f.File.Open(ctx)
			if err != nil {
				return fmt.Errorf("memdesk: open file %s: %w", f.ID, err)
			}
			cf.Data, err = io.ReadAll(io.LimitReader(rc, Limits.MaxFileSizeBytes+1))
			rc.Close()
			if err != nil {
				return fmt.Errorf("memdesk: read file %s: %w", f.ID, err)
			}
			if failUpload != "" {
				cf.Rejected = failUpload
			}
		}
		msg.Files = append(msg.Files, cf)
		statuses = append(statuses, status{f.ID, cf.Rejected})
	}
	c.messages <- msg
	if len(statuses) > 0 {
		// Upload outcomes arrive later, as from a real desk's scanner.
		cb := k.cb
		time.AfterFunc(c.uploadDelay, func() {
			for _, s := range statuses {
				cb.SetFileUploadStatus(s.id, s.reason != "", s.reason)
			}
		})
	}
	return nil
}

// ID implements conformance.Chat.
func (c *Chat) ID() string { return c.id }

// Summary implements conformance.Chat.
func (c *Chat) Summary() string { return c.summary }

// QueueUpdate implements conformance.Chat.
func (c *Chat) QueueUpdate(_ context.Context, position, wait int) error {
	var a servicedesk.AgentAvailability
	if position >= 0 {
		a.PositionInQueue = servicedesk.Number(&position)
	}
	if wait >= 0 {
		a.EstimatedWaitTime = servicedesk.Number(&wait)
	}
	c.cb().UpdateAgentAvailability(a)
	return nil
}

// Join implements conformance.Chat.
func (c *Chat) Join(_ context.Context, agent servicedesk.AgentProfile) error {
	c.mu.Lock()
	c.agent = agent.ID
	c.mu.Unlock()
	c.cb().AgentJoined(agent)
	return nil
}

// Say implements conformance.Chat; while the connection is down messages
// wait and go out in order when it is back.
func (c *Chat) Say(_ context.Context, m servicedesk.MessageResponse) error {
	c.mu.Lock()
	if c.down {
		c.held = append(c.held, m)
		c.mu.Unlock()
		return nil
	}
	agent, cb := c.agent, c.k.cb
	c.mu.Unlock()
	cb.SendMessageToUser(m, agent)
	return nil
}

// Typing implements conformance.Chat.
func (c *Chat) Typing(_ context.Context, on bool) error { c.cb().AgentTyping(on); return nil }

// Read implements conformance.Chat.
func (c *Chat) Read(context.Context) error { c.cb().AgentReadMessages(); return nil }

// Transfer implements conformance.Chat: the transfer starts, then to joins.
func (c *Chat) Transfer(ctx context.Context, to servicedesk.AgentProfile) error {
	c.cb().BeginTransferToAnotherAgent(nil)
	return c.Join(ctx, to)
}

// Leave implements conformance.Chat.
func (c *Chat) Leave(context.Context) error { c.cb().AgentLeftChat(); return nil }

// End implements conformance.Chat.
func (c *Chat) End(context.Context) error {
	c.mu.Lock()
	c.over = true
	c.mu.Unlock()
	c.cb().AgentEndedChat()
	return nil
}

// RequestScreenShare implements conformance.Chat.
func (c *Chat) RequestScreenShare(context.Context) error {
	cb := c.cb()
	go func() {
		st, err := cb.ScreenShareRequest(context.Background())
		if err == nil && st != servicedesk.ScreenShareCancelled {
			c.share <- st
		}
	}()
	return nil
}

// CancelScreenShare implements conformance.Chat.
func (c *Chat) CancelScreenShare(context.Context) error { c.cb().ScreenShareEnded(); return nil }

// FailNextUpload implements conformance.Chat.
func (c *Chat) FailNextUpload(_ context.Context, reason string) error {
	c.mu.Lock()
	c.failUpload = reason
	c.mu.Unlock()
	return nil
}

// RejectNextMessage implements conformance.Chat.
func (c *Chat) RejectNextMessage(_ context.Context, reason string) error {
	c.mu.Lock()
	c.rejectNext = reason
	c.mu.Unlock()
	return nil
}

// DropConnection implements conformance.Chat: the kit reports the loss,
// and 50ms later the return, delivering what the agent said meanwhile.
func (c *Chat) DropConnection(context.Context) error {
	c.mu.Lock()
	c.down = true
	cb := c.k.cb
	c.mu.Unlock()
	cb.SetErrorStatus(servicedesk.DisconnectedError(true))
	time.AfterFunc(50*time.Millisecond, func() {
		c.mu.Lock()
		held, agent, cb := c.held, c.agent, c.k.cb
		c.held, c.down = nil, false
		// Sent under the lock, so a Say racing the return waits its turn.
		cb.SetErrorStatus(servicedesk.DisconnectedError(false))
		for _, m := range held {
			cb.SendMessageToUser(m, agent)
		}
		c.mu.Unlock()
	})
	return nil
}

func await[T any](ctx context.Context, ch chan T) (T, error) {
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// AwaitMessage implements conformance.Chat.
func (c *Chat) AwaitMessage(ctx context.Context) (conformance.CustomerMessage, error) {
	return await(ctx, c.messages)
}

// AwaitTyping implements conformance.Chat.
func (c *Chat) AwaitTyping(ctx context.Context) (bool, error) { return await(ctx, c.typing) }

// AwaitRead implements conformance.Chat.
func (c *Chat) AwaitRead(ctx context.Context) error { _, err := await(ctx, c.reads); return err }

// AwaitScreenShare implements conformance.Chat.
func (c *Chat) AwaitScreenShare(ctx context.Context) (servicedesk.ScreenShareState, error) {
	return await(ctx, c.share)
}

// AwaitEnded implements conformance.Chat.
func (c *Chat) AwaitEnded(ctx context.Context) error { _, err := await(ctx, c.ended); return err }
