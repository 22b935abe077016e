package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/salesforce/internal/wire"
)

// Error is an error answer of the Messaging for In-App and Web API: its
// HTTP status and message. It matches servicedesk.ErrRateLimited (429),
// ErrChatNotFound (401 after a failed renewal, 404, 410, 417: no
// messaging session), ErrUnavailable (5xx, 408) or ErrRejected (the rest:
// 400, 403, 413, 415, …) with errors.Is.
type Error struct {
	Op         string
	Status     int
	Message    string
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("salesforce: %s: HTTP %d: %s", e.Op, e.Status, e.Message)
}

// ErrorCode implements servicedesk.Coder.
func (e *Error) ErrorCode() servicedesk.ErrorCode {
	switch {
	case e.Status == http.StatusTooManyRequests:
		return servicedesk.CodeRateLimited
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusNotFound, e.Status == http.StatusGone, e.Status == http.StatusExpectationFailed:
		return servicedesk.CodeNotFound
	case e.Status >= 500, e.Status == http.StatusRequestTimeout:
		return servicedesk.CodeUnavailable
	}
	return servicedesk.CodeRejected
}

// Unwrap returns the servicedesk sentinel of the error's kind.
func (e *Error) Unwrap() error { return e.ErrorCode().Err() }

// RetryDelay implements retry.Delayer: the answer's Retry-After.
func (e *Error) RetryDelay() time.Duration { return e.RetryAfter }

// do sends one request with token as the bearer and decodes a 2xx answer
// into out (when not nil).
func (k *Kit) do(ctx context.Context, op, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("salesforce: %s: encode: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.base+path, rd)
	if err != nil {
		return fmt.Errorf("salesforce: %s: %w", op, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Org-Id", k.cfg.OrgID)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := k.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("salesforce: %s: %w", op, ctx.Err())
		}
		return fmt.Errorf("salesforce: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("salesforce: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Op: op, Status: resp.StatusCode, Message: errorMessage(b)}
		if d, ok := retry.RetryAfter(resp, time.Now()); ok {
			e.RetryAfter = d
		}
		return e
	}
	if out != nil && len(bytes.TrimSpace(b)) > 0 {
		if raw, ok := out.(*[]byte); ok {
			*raw = b
			return nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("salesforce: %s: decode: %w", op, err)
		}
	}
	return nil
}

// errorMessage reads an error body's message, or its start.
func errorMessage(b []byte) string {
	var e wire.ErrorBody
	if json.Unmarshal(b, &e) == nil && (e.Message != "" || e.Error != "") {
		return strings.TrimSpace(e.ErrorCode + " " + e.Message + " " + e.Error)
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// call sends a request of the chat with its access token, retrying what
// is temporary (5xx, 429 after its Retry-After, lost connections) with the
// same body, so a resent message keeps its id. A 401 renews the token
// once (continuation-access-token) and sends again.
func (d *desk) call(ctx context.Context, op, method, path string, body, out any) error {
	renewed := false
	return retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries}.Do(ctx, func(attempt int) error {
		tok, err := d.bearer(ctx)
		if err != nil {
			return fmt.Errorf("salesforce: %s: %w", op, err)
		}
		err = d.k.do(ctx, op, method, path, tok, body, out)
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusUnauthorized && !renewed {
			renewed = true
			if err := d.renew(ctx, tok); err != nil {
				return fmt.Errorf("salesforce: %s: %w", op, err)
			}
			if tok, err = d.bearer(ctx); err != nil {
				return fmt.Errorf("salesforce: %s: %w", op, err)
			}
			err = d.k.do(ctx, op, method, path, tok, body, out)
		}
		if err != nil {
			d.log.Info("salesforce: request failed", "op", op, "err", err, "attempt", attempt)
		}
		return err
	})
}

func retryPolicy(k *Kit) retry.Policy {
	return retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}
}
