package chatwoot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// call sends one request of the public API, paced with every other
// request of the kit (one IP for every customer), retrying what is
// temporary: a 429 pauses the whole kit for its Retry-After (1 s without
// one), 5xx and lost connections back off.
func (k *Kit) call(ctx context.Context, op, method, path string, body, out any) error {
	return k.retry(ctx, op, func(ctx context.Context) error { return k.api.Do(ctx, op, method, path, "", body, out) })
}

func (k *Kit) retry(ctx context.Context, op string, do func(ctx context.Context) error) error {
	policy := retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}
	return policy.Do(ctx, func(int) error { return k.try(ctx, op, do) })
}

// try sends one request in its turn of the kit's pacing; a 429 pauses
// every request of the kit.
func (k *Kit) try(ctx context.Context, op string, do func(ctx context.Context) error) error {
	if err := k.pacer.Wait(ctx); err != nil {
		return fmt.Errorf("chatwoot: %s: %w", op, err)
	}
	err := do(ctx)
	var e *httpjson.Error
	if errors.As(err, &e) && e.Status == http.StatusTooManyRequests {
		k.pacer.Defer(max(e.RetryAfter, time.Second))
	}
	if err != nil {
		k.log.Info("chatwoot: request failed", "op", op, "err", err)
	}
	return err
}

// bot calls the application API with the agent bot's access token.
func (k *Kit) bot(ctx context.Context, op, method, path string, body any) error {
	api := *k.api
	api.Header = http.Header{"Api_access_token": {k.cfg.BotToken}}
	return k.retry(ctx, op, func(ctx context.Context) error { return api.Do(ctx, op, method, path, "", body, nil) })
}

// upload is a file of a message: its name, type and bytes.
type upload struct {
	name, mime string
	data       []byte
}

// postMultipart sends a message with files (attachments[]) as
// multipart/form-data, the way the public API takes them: one try.
func (k *Kit) postMultipart(ctx context.Context, op, path string, fields map[string]string, files []upload, out any) error {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for name, v := range fields {
		_ = w.WriteField(name, v) // writes to a buffer do not fail
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachments[]"; filename=%q`, f.name))
		h.Set("Content-Type", f.mime)
		part, _ := w.CreatePart(h)
		_, _ = part.Write(f.data)
	}
	_ = w.Close()
	body := buf.Bytes()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.api.Base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("chatwoot: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	resp, err := k.api.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("chatwoot: %s: %w", op, ctx.Err())
		}
		return fmt.Errorf("chatwoot: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, httpjson.MaxBody))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e := &httpjson.Error{Name: "chatwoot", Op: op, Status: resp.StatusCode, Message: httpjson.Message(b)}
		if d, ok := retry.RetryAfter(resp, time.Now()); ok {
			e.RetryAfter = d
		}
		return e
	}
	return decodeInto(b, out)
}

func statusOf(err error) int {
	var e *httpjson.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}
