package kustomerface

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// retrySchedule is Kustomer's wait before each further try of a failed
// delivery, in minutes (docs/events/delivery-and-retries), scaled here to
// Options.RetryBase a minute.
var retrySchedule = []time.Duration{1, 1, 2, 5, 10, 15, 30}

// envelope is the event envelope of one event.
func (f *Face) envelope(name string, data map[string]any, changes map[string]any) []byte {
	var ch any
	if changes != nil {
		ch = changes
	}
	b, _ := json.Marshal(map[string]any{"id": newID(), "name": name, "org": f.opts.Org, "partition": f.opts.Org,
		"data": data, "changes": ch, "createdAt": stamp(time.Now())})
	return b
}

// Sign is the X-Kustomer-Webhook-Signature of body under token.
func Sign(token string, body []byte) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// send delivers body, tried again on the schedule until a 2xx; lost makes
// the first try fail, as an unreachable receiver would. It reports whether
// the event got through.
func (f *Face) send(ctx context.Context, s *session, body []byte, lost bool) bool {
	var name struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(body, &name)
	for try := 0; try <= len(retrySchedule); try++ {
		if try > 0 && !retry.Sleep(ctx, retrySchedule[try-1]*f.opts.RetryBase) {
			return false
		}
		if try == 0 && lost || f.cutOff(ctx, s) {
			continue
		}
		if f.post(ctx, name.Name, body) {
			return true
		}
	}
	return false
}

// post sends one delivery and reports whether it was answered 2xx.
func (f *Face) post(ctx context.Context, event string, body []byte) bool {
	f.mu.Lock()
	url := f.webhookURL
	f.mu.Unlock()
	if url == "" {
		return false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Kustomer-Webhook-Event", event)
	req.Header.Set("X-Kustomer-Webhook-Signature", Sign(f.opts.WebhookToken, body))
	resp, err := f.opts.HTTPClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

// sleep waits d, false when ctx ends first.
