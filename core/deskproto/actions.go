package deskproto

import (
	"context"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// RESTActions is the action half of a Link over the protocol's REST API:
// start, attach, send, typing, read, screen share, end. Links that receive
// events some other way (webhooks, long polling) embed it.
type RESTActions struct {
	Client *Client
	// Health, when set, learns whether the desk answers (see WithHealth).
	Health func(up bool)

	mu  sync.Mutex
	ref ChatRef
}

// Chat returns the chat the actions go to.
func (a *RESTActions) Chat() ChatRef {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ref
}

func (a *RESTActions) ctx(ctx context.Context) context.Context {
	if a.Health != nil {
		return WithHealth(ctx, a.Health)
	}
	return ctx
}

// Start opens the chat over REST.
func (a *RESTActions) Start(ctx context.Context, req StartRequest) (ChatInfo, error) {
	info, err := a.Client.Start(a.ctx(ctx), req)
	if err == nil {
		a.mu.Lock()
		a.ref = ChatRef{ID: info.ChatID, Token: info.ChatToken, WebhookSecret: info.WebhookSecret}
		a.mu.Unlock()
	}
	return info, err
}

// Attach checks the chat over REST and remembers it.
func (a *RESTActions) Attach(ctx context.Context, ref ChatRef) (ChatInfo, error) {
	info, err := a.Client.Chat(a.ctx(ctx), ref)
	if err == nil {
		a.mu.Lock()
		a.ref = ref
		a.mu.Unlock()
	}
	return info, err
}

// Send implements Link.
func (a *RESTActions) Send(ctx context.Context, m Message) (SendResult, error) {
	return a.Client.Send(a.ctx(ctx), a.Chat(), m)
}

// Typing implements Link.
func (a *RESTActions) Typing(ctx context.Context, on bool) error {
	return a.Client.Typing(a.ctx(ctx), a.Chat(), on)
}

// Read implements Link.
func (a *RESTActions) Read(ctx context.Context, messageID string) error {
	return a.Client.Read(a.ctx(ctx), a.Chat(), messageID)
}

// ScreenShare implements Link.
func (a *RESTActions) ScreenShare(ctx context.Context, id string, state servicedesk.ScreenShareState) error {
	return a.Client.ScreenShare(a.ctx(ctx), a.Chat(), id, state)
}

// StopScreenShare implements Link.
func (a *RESTActions) StopScreenShare(ctx context.Context) error {
	return a.Client.StopScreenShare(a.ctx(ctx), a.Chat())
}

// End implements Link.
func (a *RESTActions) End(ctx context.Context) error {
	return a.Client.End(a.ctx(ctx), a.Chat())
}
