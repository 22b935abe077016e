package zendeskface

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/deskbridge/deskbridge/core/transport/retry"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// event is one webhook event of c; f.mu is held.
func (f *Face) event(typ string, c *conversation, payload map[string]any) map[string]any {
	payload["conversation"] = c.view()
	return map[string]any{"id": newID(), "createdAt": now(), "type": typ, "payload": payload}
}

// deliver posts one event, tried up to 5 times more with exponential
// backoff, as Zendesk does (over 15 minutes there); a 400, 401, 403, 404 or
// 406 is not retried. firstFails makes the first try fail (an injected
// unreachable endpoint). It reports whether the event was taken.
func (f *Face) deliver(ctx context.Context, conv string, ev map[string]any, firstFails bool) bool {
	body, err := json.Marshal(map[string]any{"app": map[string]string{"id": f.opts.AppID},
		"webhook": map[string]string{"id": WebhookID, "version": "v2"}, "events": []any{ev}})
	if err != nil {
		return false
	}
	for attempt := range 6 {
		if attempt > 0 && !retry.Sleep(ctx, f.opts.RetryBase<<(attempt-1)) {
			return false
		}
		if attempt == 0 && firstFails || f.cutOff(ctx, conv) {
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
