package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
)

// Name is the desk name the kit reports (Carbon's getName).
const Name = "deskbridge-rest"

// Config configures the kit.
type Config struct {
	// BaseURL is the desk's root URL, e.g. "https://desk.example.com".
	BaseURL string
	// WebhookURL is the public URL at which WebhookHandler is served: the
	// desk posts each chat's events there.
	WebhookURL string
	// WebhookSecrets verify the desk's signatures; give two while rotating.
	// Take them from the environment, never from a file in the repository.
	WebhookSecrets []string
	// SignatureTolerance is how far a signature's timestamp may be from
	// now. Default 5 minutes.
	SignatureTolerance time.Duration
	// MaxWebhookBytes bounds a webhook body. Default 1 MiB.
	MaxWebhookBytes int64
	// HTTPClient carries the REST calls.
	HTTPClient *http.Client
	// Backoff spaces retries; Retry-After is honoured up to Backoff.Max.
	// Default 100ms to 5s, full jitter.
	Backoff retry.Backoff
	// Customer names the end user to the desk. Default: the session id.
	Customer func(servicedesk.Instance) *deskproto.Customer
	// Logger receives the kit's logs. Default: discard.
	Logger *slog.Logger
	// Elsewhere, when set, is given every event of a chat no session here
	// follows: with several instances behind one public URL, it carries the
	// event to the others (which Deliver it). The event is also kept here a
	// while, for a chat whose start answer is on its way. An error makes
	// the webhook fail (503), so that the desk delivers it again.
	Elsewhere func(ev deskproto.Event) error
}

// Kit is the REST + webhooks kit: one per process. Its WebhookHandler
// receives the events of every chat of every session and routes each to
// its session's desk.
type Kit struct {
	cfg      Config
	client   *deskproto.Client
	verifier webhook.Verifier
	seen     *stream.Deduper

	mu    sync.Mutex
	chats map[string]*link
	early map[string]*early // events of chats not (yet) followed here
}

// early holds events that arrived before their chat's start answer.
type early struct {
	since  time.Time
	events []deskproto.Event
}

const (
	maxEarlyChats  = 4096
	maxEarlyEvents = 256
	earlyTTL       = 30 * time.Second
)

// New returns a kit for the desk at cfg.BaseURL. It does no network work.
func New(cfg Config) (*Kit, error) {
	if cfg.WebhookURL == "" {
		return nil, errors.New("rest: a WebhookURL is required: the desk posts events there")
	}
	if len(cfg.WebhookSecrets) == 0 {
		return nil, errors.New("rest: at least one webhook secret is required")
	}
	if cfg.MaxWebhookBytes <= 0 {
		cfg.MaxWebhookBytes = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	client, err := deskproto.NewClient(deskproto.ClientConfig{BaseURL: cfg.BaseURL, HTTPClient: cfg.HTTPClient, Backoff: cfg.Backoff, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("rest: %w", err)
	}
	v := webhook.Verifier{Tolerance: cfg.SignatureTolerance}
	for _, s := range cfg.WebhookSecrets {
		if s == "" {
			return nil, errors.New("rest: empty webhook secret")
		}
		v.Secrets = append(v.Secrets, []byte(s))
	}
	return &Kit{cfg: cfg, client: client, verifier: v, seen: stream.NewDeduper(1 << 16),
		chats: map[string]*link{}, early: map[string]*early{}}, nil
}

// Factory builds the desk of one session; it has the servicedesk.Factory
// signature.
func (k *Kit) Factory(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return deskproto.NewDesk(deskproto.DeskConfig{Name: Name, Client: k.client, Params: p, Customer: k.cfg.Customer},
		func(in deskproto.Inbox) deskproto.Link {
			return &link{kit: k, in: in, RESTActions: deskproto.RESTActions{Client: k.client, Health: in.Connected}}
		})
}

// Close releases idle HTTP connections.
func (k *Kit) Close() error {
	if k.cfg.HTTPClient != nil {
		k.cfg.HTTPClient.CloseIdleConnections()
	}
	return nil
}

// follow routes chat id's events to l, with any that came early.
func (k *Kit) follow(id string, l *link) {
	k.mu.Lock()
	k.chats[id] = l
	e := k.early[id]
	delete(k.early, id)
	k.mu.Unlock()
	if e != nil {
		l.in.Deliver(e.events...)
	}
}

func (k *Kit) unfollow(id string, l *link) {
	k.mu.Lock()
	if k.chats[id] == l {
		delete(k.chats, id)
	}
	k.mu.Unlock()
}

// route hands ev to its chat's desk, or keeps it a while for a chat whose
// start answer is still on its way. What is not kept is not lost: a desk
// fills gaps from the desk's event log.
func (k *Kit) route(ev deskproto.Event) error {
	k.mu.Lock()
	l := k.chats[ev.ChatID]
	var relayErr error
	if l == nil && k.cfg.Elsewhere != nil {
		k.mu.Unlock()
		relayErr = k.cfg.Elsewhere(ev)
		k.mu.Lock()
		l = k.chats[ev.ChatID] // followed meanwhile?
	}
	if l == nil {
		now := time.Now()
		e := k.early[ev.ChatID]
		if e == nil {
			if len(k.early) >= maxEarlyChats {
				for id, old := range k.early {
					if now.Sub(old.since) > earlyTTL {
						delete(k.early, id)
					}
				}
			}
			if len(k.early) < maxEarlyChats {
				e = &early{since: now}
				k.early[ev.ChatID] = e
			}
		}
		if e != nil && len(e.events) < maxEarlyEvents {
			e.events = append(e.events, ev)
		}
		k.mu.Unlock()
		return relayErr
	}
	k.mu.Unlock()
	l.in.Deliver(ev)
	return nil
}

// Deliver hands an event that another instance received to the session
// here that follows its chat; false when none does (nothing is kept).
func (k *Kit) Deliver(ev deskproto.Event) bool {
	k.mu.Lock()
	l := k.chats[ev.ChatID]
	k.mu.Unlock()
	if l == nil {
		return false
	}
	l.in.Deliver(ev)
	return true
}

// link sends actions over REST; its events come through the kit's
// webhook handler.
type link struct {
	deskproto.RESTActions
	kit *Kit
	in  deskproto.Inbox

	mu     sync.Mutex
	chatID string
	closed bool
}

func (l *link) Start(ctx context.Context, req deskproto.StartRequest) (deskproto.ChatInfo, error) {
	req.WebhookURL = l.kit.cfg.WebhookURL
	info, err := l.RESTActions.Start(ctx, req)
	if err != nil {
		return info, err
	}
	return info, l.follow(info.ChatID)
}

// Attach re-attaches after a restart: the chat's webhook is pointed here
// again (another instance may have served it), and the desk fills in the
// events after after from the desk's log.
func (l *link) Attach(ctx context.Context, ref deskproto.ChatRef, _ uint64) (deskproto.ChatInfo, error) {
	info, err := l.RESTActions.Attach(ctx, ref)
	if err != nil {
		return info, err
	}
	if info.State != deskproto.StateEnded {
		if err := l.kit.client.SetWebhook(ctx, ref, l.kit.cfg.WebhookURL); err != nil {
			return info, err
		}
	}
	return info, l.follow(ref.ID)
}

func (l *link) follow(id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return deskproto.ErrClosed
	}
	if l.chatID != "" && l.chatID != id {
		l.kit.unfollow(l.chatID, l)
	}
	l.chatID = id
	l.kit.follow(id, l)
	return nil
}

// Leave stops routing the chat's events here; another chat may follow.
func (l *link) Leave() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.chatID != "" {
		l.kit.unfollow(l.chatID, l)
		l.chatID = ""
	}
	return nil
}

// Close stops routing the chat's events here.
func (l *link) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.chatID != "" {
		l.kit.unfollow(l.chatID, l)
	}
	return nil
}
