package zendeskface

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// event is one webhook event of c; f.mu is held.
func (f *Face) event(typ string, c *conversation, payload map[string]any) map[string]any {
	payload["conversation"] = c.view()
	return map[string]any{"id": newID(), "createdAt": now(), "type": typ, "payload": payload}
}

// outbox sends one conversation's webhook events in order, from one
// goroutine that runs while there are some.
type outbox struct {
	f       *Face
	conv    string
	mu      sync.Mutex
	queue   []map[string]any
	running bool
}

func (f *Face) newOutbox(conv string) *outbox { return &outbox{f: f, conv: conv} }

func (o *outbox) push(ev map[string]any) {
	o.mu.Lock()
	o.queue = append(o.queue, ev)
	start := !o.running
	o.running = true
	o.mu.Unlock()
	if start && !o.f.d.Go(o.run) {
		o.mu.Lock()
		o.running = false
		o.mu.Unlock()
	}
}

// pop takes the next event; with none left (and stop), the goroutine is
// done.
func (o *outbox) pop(stop bool) map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.queue) == 0 {
		o.running = o.running && !stop
		return nil
	}
	ev := o.queue[0]
	o.queue = o.queue[1:]
	return ev
}

func (o *outbox) run(ctx context.Context) {
	for ev := o.pop(true); ev != nil; ev = o.pop(true) {
		wf := o.f.d.WebhookFault()
		if wf.Latency > 0 && !sleep(ctx, wf.Latency) {
			return
		}
		if wf.Reorder {
			// Held until after the next delivery of the conversation.
			if next := o.pop(false); next != nil {
				o.deliver(ctx, next, false)
			}
		}
		if o.deliver(ctx, ev, wf.Unreachable) && wf.Duplicate {
			o.deliver(ctx, ev, false)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// deliver posts one event, tried up to 5 times more with exponential
// backoff, as Zendesk does (over 15 minutes there); a 400, 401, 403, 404 or
// 406 is not retried. firstFails makes the first try fail (an injected
// unreachable endpoint). It reports whether the event was taken.
func (o *outbox) deliver(ctx context.Context, ev map[string]any, firstFails bool) bool {
	f := o.f
	body, err := json.Marshal(map[string]any{"app": map[string]string{"id": f.opts.AppID},
		"webhook": map[string]string{"id": WebhookID, "version": "v2"}, "events": []any{ev}})
	if err != nil {
		return false
	}
	for attempt := range 6 {
		if attempt > 0 && !sleep(ctx, f.opts.RetryBase<<(attempt-1)) {
			return false
		}
		if attempt == 0 && firstFails || f.cutOff(ctx, o.conv) {
			continue
		}
		switch status := f.post(ctx, body); {
		case status/100 == 2:
			return true
		case status == 400, status == 401, status == 403, status == 404, status == 406:
			return false
		}
	}
	return false
}

// cutOff tells whether DropConnections cut the conversation's chat off:
// its webhooks do not get through either.
func (f *Face) cutOff(ctx context.Context, conv string) bool {
	f.mu.Lock()
	c := f.convs[conv]
	var chat *mockdesk.CustomerChat
	if c != nil {
		chat = c.chat
	}
	f.mu.Unlock()
	if chat == nil {
		return false
	}
	_, err := chat.Info(ctx)
	return errors.Is(err, mockdesk.ErrUnavailable)
}

// post sends one delivery and returns the status (0: no answer).
func (f *Face) post(ctx context.Context, body []byte) int {
	f.mu.Lock()
	url := f.webhookURL
	f.mu.Unlock()
	if url == "" {
		return 0
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", f.opts.WebhookSecret)
	resp, err := f.opts.HTTPClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode
}
