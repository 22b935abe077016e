package rest

import (
	"context"
	"crypto/sha256"
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
	// WebhookSecrets verify the signatures of chats that have no secret of
	// their own (a desk whose start answer names no webhook_secret); give
	// two while rotating. A chat whose start answer named one is checked
	// against it alone, so no other key signs for it. Take them from the
	// environment, never from a file in the repository.
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
	// Elsewhere, when set, is given every delivery for a chat no session
	// here follows, unverified (its chat's secret is known where the chat
	// is followed): with several instances behind one public URL, it
	// carries the delivery to the others (which Deliver it). It is also
	// kept here a while, for a chat whose start answer is on its way. An
	// error makes the webhook fail (503), so that the desk delivers it
	// again.
	Elsewhere func(d Delivery) error
}

// A Delivery is one webhook request as it came: its raw body, its
// signature header and when it was received (the signature's timestamp is
// checked against that). Config.Elsewhere carries it, Deliver takes it.
type Delivery struct {
	Body      []byte    `json:"body"`
	Signature string    `json:"signature"`
	Received  time.Time `json:"received"`
}

// Kit is the REST + webhooks kit: one per process. Its WebhookHandler
// receives the events of every chat of every session and routes each to
// its session's desk.
type Kit struct {
	cfg      Config
	client   *deskproto.Client
	verifier webhook.Verifier
	seen     *stream.Deduper

	mu         sync.Mutex
	chats      map[string]*link
	early      map[string]*early // deliveries for chats not (yet) followed here
	earlyBytes int
}

// early holds deliveries that arrived before their chat's start answer,
// unverified until then (the answer brings the chat's secret).
type early struct {
	since      time.Time
	deliveries []Delivery
}

const (
	maxEarlyChats  = 4096
	maxEarlyEvents = 256
	maxEarlyBytes  = 8 << 20
	earlyTTL       = 30 * time.Second
)

// New returns a kit for the desk at cfg.BaseURL. It does no network work.
func New(cfg Config) (*Kit, error) {
	if cfg.WebhookURL == "" {
		return nil, errors.New("rest: a WebhookURL is required: the desk posts events there")
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

// follow routes chat id's events to l, with those that came early and
// pass the check against the chat's secret.
func (k *Kit) follow(id string, l *link) {
	k.mu.Lock()
	k.chats[id] = l
	e := k.early[id]
	delete(k.early, id)
	if e != nil {
		for _, d := range e.deliveries {
			k.earlyBytes -= len(d.Body)
		}
	}
	k.mu.Unlock()
	if e != nil {
		for _, d := range e.deliveries {
			k.take(l, d)
		}
	}
}

// verify checks d's signature with the chat's own secret when it has
// one, else with the configured ones, at the time d was received.
func (k *Kit) verify(secret string, d Delivery) error {
	v := k.verifier
	if secret != "" {
		v.Secrets = [][]byte{[]byte(secret)}
	}
	if !d.Received.IsZero() {
		at := d.Received
		v.Now = func() time.Time { return at }
	}
	return v.Verify(d.Signature, d.Body)
}

// take verifies d for the chat l follows and hands its event over, once:
// the result says which (errBadDelivery, errDuplicate, nil).
func (k *Kit) take(l *link, d Delivery) error {
	if err := k.verify(l.secret(), d); err != nil {
		k.cfg.Logger.Warn("rest: webhook refused", "err", err)
		return err
	}
	ev, err := deskproto.DecodeEvent(d.Body)
	if err != nil {
		return err
	}
	// Two deliveries of an event are the same bytes: a same id with other
	// bytes goes on, for the desk to settle against the desk's log.
	sum := sha256.Sum256(d.Body)
	if !k.seen.First(ev.ID + "\x00" + string(sum[:16])) {
		return errDuplicate
	}
	l.in.Deliver(ev)
	return nil
}

var errDuplicate = errors.New("rest: a delivery seen before")

func (k *Kit) unfollow(id string, l *link) {
	k.mu.Lock()
	if k.chats[id] == l {
		delete(k.chats, id)
	}
	k.mu.Unlock()
}

// route hands d (for chat chatID) to the chat's desk, or keeps it a while
// for a chat whose start answer is still on its way. What is not kept is
// not lost: a desk fills gaps from the desk's event log.
func (k *Kit) route(chatID string, d Delivery) error {
	k.mu.Lock()
	l := k.chats[chatID]
	var relayErr error
	if l == nil && k.cfg.Elsewhere != nil {
		k.mu.Unlock()
		relayErr = k.cfg.Elsewhere(d)
		k.mu.Lock()
		l = k.chats[chatID] // followed meanwhile?
	}
	if l == nil {
		now := time.Now()
		e := k.early[chatID]
		if e == nil {
			if len(k.early) >= maxEarlyChats || k.earlyBytes+len(d.Body) > maxEarlyBytes {
				for id, old := range k.early {
					if now.Sub(old.since) > earlyTTL {
						for _, d := range old.deliveries {
							k.earlyBytes -= len(d.Body)
						}
						delete(k.early, id)
					}
				}
			}
			if len(k.early) < maxEarlyChats {
				e = &early{since: now}
				k.early[chatID] = e
			}
		}
		if e != nil && len(e.deliveries) < maxEarlyEvents && k.earlyBytes+len(d.Body) <= maxEarlyBytes {
			e.deliveries = append(e.deliveries, d)
			k.earlyBytes += len(d.Body)
		}
		k.mu.Unlock()
		return relayErr
	}
	k.mu.Unlock()
	return k.take(l, d)
}

// Deliver hands a delivery that another instance received to the session
// here that follows its chat, once its signature checks out against the
// chat's secret; false when no session here follows the chat (nothing is
// kept).
func (k *Kit) Deliver(d Delivery) bool {
	ev, err := deskproto.DecodeEvent(d.Body)
	if err != nil {
		return false
	}
	k.mu.Lock()
	l := k.chats[ev.ChatID]
	k.mu.Unlock()
	if l == nil {
		return false
	}
	_ = k.take(l, d)
	return true
}

// link sends actions over REST; its events come through the kit's
// webhook handler.
type link struct {
	deskproto.RESTActions
	kit *Kit
	in  deskproto.Inbox

	mu         sync.Mutex
	chatID     string
	hookSecret string // the chat's own webhook secret, if the desk issued one
	closed     bool
}

func (l *link) secret() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hookSecret
}

func (l *link) Start(ctx context.Context, req deskproto.StartRequest) (deskproto.ChatInfo, error) {
	req.WebhookURL = l.kit.cfg.WebhookURL
	info, err := l.RESTActions.Start(ctx, req)
	if err != nil {
		return info, err
	}
	return info, l.follow(info.ChatID, info.WebhookSecret)
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
	return info, l.follow(ref.ID, ref.WebhookSecret)
}

func (l *link) follow(id, secret string) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return deskproto.ErrClosed
	}
	if l.chatID != "" && l.chatID != id {
		l.kit.unfollow(l.chatID, l)
	}
	l.chatID, l.hookSecret = id, secret
	l.mu.Unlock()
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
