package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/twilio/internal/wire"
)

// Error is an error answer of a Twilio API: the HTTP status, Twilio's
// error code (20404, 20429, 50353, ...) and message. It matches
// servicedesk.ErrRateLimited (429), ErrChatNotFound (404), ErrUnavailable
// (5xx) or ErrRejected (the other 4xx) with errors.Is.
type Error struct {
	Op         string
	Status     int
	Code       int
	Message    string
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("twilio: %s: HTTP %d (code %d): %s", e.Op, e.Status, e.Code, e.Message)
}

// ErrorCode implements servicedesk.Coder.
func (e *Error) ErrorCode() servicedesk.ErrorCode {
	if e.Code == 20429 {
		return servicedesk.CodeRateLimited
	}
	return servicedesk.CodeForStatus(e.Status)
}

// Unwrap returns the servicedesk sentinel of the error's kind.
func (e *Error) Unwrap() error { return e.ErrorCode().Err() }

// RetryDelay implements retry.Delayer: a 429's or 503's Retry-After.
func (e *Error) RetryDelay() time.Duration { return e.RetryAfter }

// Twilio's codes for a unique name or participant that exists already (a
// create retried after an answer that was lost).
const (
	codeConversationExists = 50353
	codeParticipantExists  = 50433
)

// call is one request to a Twilio API.
type call struct {
	op     string
	method string
	url    string
	form   url.Values
	body   []byte // raw body (media) when form is nil
	ctype  string
	header http.Header
}

// do sends c with Basic auth and decodes a 2xx answer into out. A failed
// request is an *Error, or wraps servicedesk.ErrUnavailable when no answer
// came.
func (k *Kit) do(ctx context.Context, c call, out any) error {
	var body io.Reader
	ctype := c.ctype
	switch {
	case c.form != nil:
		body = strings.NewReader(c.form.Encode())
		ctype = "application/x-www-form-urlencoded"
	case c.body != nil:
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, body)
	if err != nil {
		return fmt.Errorf("twilio: %s: %w", c.op, err)
	}
	for h, v := range c.header {
		req.Header[h] = v
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(k.user, k.pass)
	resp, err := k.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("twilio: %s: %w", c.op, ctx.Err())
		}
		return fmt.Errorf("twilio: %s: %w: %w", c.op, servicedesk.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("twilio: %s: %w: %w", c.op, servicedesk.ErrUnavailable, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Op: c.op, Status: resp.StatusCode}
		var we wire.Error
		if json.Unmarshal(b, &we) == nil && (we.Code != 0 || we.Message != "") {
			e.Code, e.Message = we.Code, we.Message
		} else {
			e.Message = strings.TrimSpace(string(b))
		}
		if wait, ok := retry.RetryAfter(resp, time.Now()); ok {
			e.RetryAfter = wait
		}
		return e
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("twilio: %s: decode: %w", c.op, err)
	}
	return nil
}

// send is do with the kit's retries: rate limits (Retry-After honoured),
// 5xx and lost answers are tried again; health hears of each outcome.
func (k *Kit) send(ctx context.Context, c call, out any, health func(error)) error {
	return retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}.Do(ctx, func(attempt int) error {
		err := k.do(ctx, c, out)
		if health != nil {
			health(err)
		}
		if err != nil {
			k.log.Debug("twilio: request failed", "op", c.op, "attempt", attempt, "err", err)
		}
		return err
	})
}

// jsonString encodes v for a form parameter that takes JSON (Attributes,
// an Interaction's Channel and Routing).
func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// hasCode reports whether err is a Twilio answer with that code.
func hasCode(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
