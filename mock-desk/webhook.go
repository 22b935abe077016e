package mockdesk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
)

// webhooks delivers each chat's events in order, one delivery at a time
// per chat, retrying each until the receiver answers 2xx or the desk
// closes.
type webhooks struct {
	d      *Desk
	client *http.Client
	own    bool
	secret []byte
}

func newWebhooks(d *Desk) *webhooks {
	h := &webhooks{d: d, client: d.opts.WebhookClient, secret: d.opts.WebhookSecret}
	if h.client == nil {
		h.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}
		h.own = true
	}
	if len(h.secret) == 0 {
		h.secret = []byte(newID("whsec_", 24))
	}
	return h
}

func (h *webhooks) close() {
	if h.own {
		h.client.CloseIdleConnections()
	}
}

// WebhookSecret returns the desk-wide secret (a random one when Options
// gave none). It signs the deliveries of a chat that has no secret of its
// own; every chat started here has one (ChatWebhookSecret).
func (d *Desk) WebhookSecret() []byte { return bytes.Clone(d.hooks.secret) }

// ChatWebhookSecret returns the secret that signs chat id's deliveries,
// handed out in its start answer; nil for no such chat.
func (d *Desk) ChatWebhookSecret(id string) []byte {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if c := d.chats[id]; c != nil {
		return bytes.Clone(c.hookSecret)
	}
	return nil
}

// enqueueLocked queues e for c's webhook, if it has one. Callers hold d.mu.
func (h *webhooks) enqueueLocked(c *chat, e deskproto.Event) {
	url := c.webhookURL
	if url == "" {
		url = h.d.defaultW
	}
	if url == "" {
		return
	}
	c.hookQueue = append(c.hookQueue, e)
	if !c.hookRunning {
		c.hookRunning = h.d.goLocked(func() { h.run(c) })
	}
}

func (h *webhooks) run(c *chat) {
	d := h.d
	for {
		d.mu.Lock()
		if len(c.hookQueue) == 0 || d.closed {
			c.hookRunning = false
			d.mu.Unlock()
			return
		}
		if len(c.hookQueue) > 1 && d.faults.hit("webhook", FaultWebhookReorder, d.faults.config().Webhook.ReorderRate) {
			c.hookQueue[0], c.hookQueue[1] = c.hookQueue[1], c.hookQueue[0]
		}
		e := c.hookQueue[0]
		c.hookQueue = c.hookQueue[1:]
		url := c.webhookURL
		if url == "" {
			url = d.defaultW
		}
		secret := h.secret
		if len(c.hookSecret) > 0 {
			secret = c.hookSecret
		}
		d.mu.Unlock()
		if !h.deliver(url, secret, e) {
			return
		}
		if d.faults.hit("webhook", FaultWebhookDuplicate, d.faults.config().Webhook.DuplicateRate) {
			if !h.deliver(url, secret, e) {
				return
			}
		}
	}
}

// partitioned reports whether chat id is cut off by DropConnections.
func (h *webhooks) partitioned(id string) bool {
	h.d.mu.RLock()
	defer h.d.mu.RUnlock()
	c := h.d.chats[id]
	return c != nil && time.Now().Before(c.partitionUntil)
}

// deliver posts e, signed with secret, until a 2xx answer; false when the
// desk closed first.
func (h *webhooks) deliver(url string, secret []byte, e deskproto.Event) bool {
	d := h.d
	body := eventJSON(e)
	for attempt := 1; ; attempt++ {
		cfg := d.faults.config().Webhook
		if cfg.Latency > 0 {
			d.faults.count(FaultWebhookLatency)
			if d.pause(d.ctx, time.Duration(cfg.Latency)) != nil {
				return false
			}
		}
		var wait time.Duration
		if h.partitioned(e.ChatID) {
			d.log.Debug("webhook held: the chat's connection is dropped", "event", e.ID, "attempt", attempt)
		} else if d.faults.hit("webhook", FaultWebhookUnreachable, cfg.UnreachableRate) {
			d.log.Debug("webhook unreachable (injected)", "event", e.ID, "attempt", attempt)
		} else {
			status, ra, err := h.post(url, secret, e.ID, attempt, body)
			if err == nil && status >= 200 && status < 300 {
				return true
			}
			d.log.Info("webhook delivery failed", "event", e.ID, "attempt", attempt, "status", status, "err", err)
			wait = ra
		}
		if wait <= 0 {
			wait = h.backoff(attempt)
		}
		if d.pause(d.ctx, min(wait, time.Duration(d.opts.WebhookRetryMax))) != nil {
			return false
		}
	}
}

// backoff is exponential with full jitter: a random wait up to
// min·2^(attempt-1), capped at max.
func (h *webhooks) backoff(attempt int) time.Duration {
	lo, hi := time.Duration(h.d.opts.WebhookRetryMin), time.Duration(h.d.opts.WebhookRetryMax)
	ceil := lo << min(attempt-1, 20)
	if ceil <= 0 || ceil > hi {
		ceil = hi
	}
	return lo/2 + rand.N(ceil-lo/2+1)
}

func (h *webhooks) post(url string, secret []byte, eventID string, attempt int, body []byte) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(h.d.ctx, time.Duration(h.d.opts.WebhookTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("webhook %s: %w", eventID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mock-desk")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, time.Now(), body))
	req.Header.Set(webhook.EventIDHeader, eventID)
	req.Header.Set(webhook.AttemptHeader, strconv.Itoa(attempt))
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("webhook %s: %w", eventID, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	var ra time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		ra = time.Duration(s) * time.Second
	}
	return resp.StatusCode, ra, nil
}

// setWebhook points a chat's later events at url ("" for the desk's
// default). Events logged before are not resent: read them with a poll.
func (d *Desk) setWebhook(ctx context.Context, chatID, token, url string) error {
	if url != "" {
		if err := checkWebhookURL(url); err != nil {
			return fmt.Errorf("mockdesk: set webhook of chat %s: %w", chatID, err)
		}
	}
	return d.customerAct(ctx, "set webhook", chatID, token, func(c *chat) error {
		c.webhookURL = url
		return nil
	})
}

// setDefaultWebhook sets the URL that gets the events of chats that
// registered none ("" for none).
func (d *Desk) setDefaultWebhook(url string) error {
	if url != "" {
		if err := checkWebhookURL(url); err != nil {
			return fmt.Errorf("mockdesk: set default webhook: %w", err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.defaultW = url
	return nil
}
