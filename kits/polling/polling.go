package polling

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
)

// Name is the desk name the kit reports (Carbon's getName).
const Name = "deskbridge-polling"

// Config configures the kit.
type Config struct {
	// BaseURL is the desk's root URL, e.g. "https://desk.example.com".
	BaseURL string
	// HTTPClient carries the requests; its Timeout must exceed Wait.
	// Default: a pooled client with a 60s timeout.
	HTTPClient *http.Client
	// Wait is how long the desk may hold a poll. Default 25s (the
	// protocol caps it at 30s).
	Wait time.Duration
	// Backoff spaces retries of failed requests and polls; Retry-After is
	// honoured up to Backoff.Max. Default 100ms to 5s, full jitter.
	Backoff retry.Backoff
	// Customer names the end user to the desk. Default: the session id.
	Customer func(servicedesk.Instance) *deskproto.Customer
	// Logger receives the kit's logs; sessions log through the logger in
	// their FactoryParams. Default: discard.
	Logger *slog.Logger
}

// Kit is the long-polling kit: one per process, shared by all sessions.
type Kit struct {
	cfg    Config
	client *deskproto.Client
}

// New returns a kit for the desk at cfg.BaseURL. It does no network work.
func New(cfg Config) (*Kit, error) {
	if cfg.Wait <= 0 {
		cfg.Wait = 25 * time.Second
	}
	if cfg.Wait > 30*time.Second {
		return nil, fmt.Errorf("polling: wait %s: the protocol caps it at 30s", cfg.Wait)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	client, err := deskproto.NewClient(deskproto.ClientConfig{BaseURL: cfg.BaseURL, HTTPClient: cfg.HTTPClient, Backoff: cfg.Backoff, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("polling: %w", err)
	}
	return &Kit{cfg: cfg, client: client}, nil
}

// Factory builds the desk of one session; it has the servicedesk.Factory
// signature.
func (k *Kit) Factory(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return deskproto.NewDesk(deskproto.DeskConfig{Name: Name, Client: k.client, Params: p, Customer: k.cfg.Customer},
		func(in deskproto.Inbox) deskproto.Link {
			return &link{kit: k, in: in, RESTActions: deskproto.RESTActions{Client: k.client}}
		})
}

// Close releases idle connections. Sessions' desks close with their
// engine.
func (k *Kit) Close() error {
	if k.cfg.HTTPClient != nil {
		k.cfg.HTTPClient.CloseIdleConnections()
	}
	return nil
}

// link sends actions over REST and runs one long poll at a time. Two
// failed polls in a row mark the desk unreachable until one succeeds.
type link struct {
	deskproto.RESTActions
	kit *Kit
	in  deskproto.Inbox

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	closed bool
}

func (l *link) Start(ctx context.Context, req deskproto.StartRequest) (deskproto.ChatInfo, error) {
	info, err := l.RESTActions.Start(ctx, req)
	if err != nil {
		return info, err
	}
	return info, l.follow(l.Chat())
}

func (l *link) Attach(ctx context.Context, ref deskproto.ChatRef, _ uint64) (deskproto.ChatInfo, error) {
	info, err := l.RESTActions.Attach(ctx, ref)
	if err != nil {
		return info, err
	}
	return info, l.follow(ref)
}

// follow starts the poll loop, replacing any earlier one.
func (l *link) follow(ref deskproto.ChatRef) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return deskproto.ErrClosed
	}
	l.stopLocked()
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go l.poll(ctx, ref, l.done)
	return nil
}

// poll keeps exactly one long poll in flight until the chat ends or the
// link closes. A failed poll marks the connection lost until one succeeds.
func (l *link) poll(ctx context.Context, ref deskproto.ChatRef, done chan struct{}) {
	defer close(done)
	log := l.kit.cfg.Logger.With("chat", ref.ID)
	// Every poll failure is worth another try but a chat that is gone.
	policy := retry.Policy{Backoff: l.kit.cfg.Backoff, Retryable: func(err error) bool {
		var e *deskproto.Error
		return !errors.As(err, &e) || (e.Code != deskproto.CodeChatNotFound && e.Code != deskproto.CodeUnauthorized)
	}}
	for ctx.Err() == nil {
		var page deskproto.Page
		err := policy.Do(ctx, func(attempt int) error {
			var err error
			page, err = l.kit.client.Events(deskproto.WithoutRetry(ctx), ref, l.in.Last(), l.kit.cfg.Wait)
			if err != nil && ctx.Err() == nil {
				// One failed poll is a blip (the next often works); two in
				// a row mean the desk is out of reach.
				if attempt >= 1 {
					l.in.Connected(false)
				}
				log.Debug("polling: poll failed", "err", err, "attempt", attempt)
			}
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("polling: chat gone; polling stopped", "err", err)
			}
			return
		}
		l.in.Connected(true)
		l.in.Deliver(page.Events...)
		if page.Ended && l.in.Last() >= page.Cursor {
			return
		}
	}
}

func (l *link) stopLocked() {
	if l.cancel != nil {
		l.cancel()
		<-l.done
		l.cancel = nil
	}
}

// Leave stops the poll; another chat may follow.
func (l *link) Leave() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopLocked()
	return nil
}

// Close stops the poll and waits for it.
func (l *link) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.stopLocked()
	return nil
}
