package httpjson

import (
	"bytes"
	"cmp"
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
)

// MaxBody bounds an answer's body.
const MaxBody = 8 << 20

// Error is a non-2xx answer: its status and the server's message. Its
// kind (ErrorCode) is Kind when set, else 429 rate limited, 5xx and 408
// unavailable, 404 and 410 not found, the rest rejected; it matches that
// servicedesk sentinel with errors.Is.
type Error struct {
	Name, Op   string // the kit and the operation, for the message
	Status     int
	Code       string // the vendor's error code, when Client.ErrorBody reads one
	Message    string
	RetryAfter time.Duration
	Kind       servicedesk.ErrorCode
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s: HTTP %d: %s", e.Name, e.Op, e.Status, e.Message)
}

// ErrorCode implements servicedesk.Coder.
func (e *Error) ErrorCode() servicedesk.ErrorCode {
	switch {
	case e.Kind != servicedesk.CodeOK:
		return e.Kind
	case e.Status == http.StatusTooManyRequests:
		return servicedesk.CodeRateLimited
	case e.Status >= 500, e.Status == http.StatusRequestTimeout:
		return servicedesk.CodeUnavailable
	case e.Status == http.StatusNotFound, e.Status == http.StatusGone:
		return servicedesk.CodeNotFound
	}
	return servicedesk.CodeRejected
}

// Unwrap returns the servicedesk sentinel of the error's kind.
func (e *Error) Unwrap() error { return e.ErrorCode().Err() }

// RetryDelay implements retry.Delayer: the answer's Retry-After.
func (e *Error) RetryDelay() time.Duration { return e.RetryAfter }

// Client sends requests to one API.
type Client struct {
	// Name prefixes errors ("salesforce").
	Name string
	// Base is prepended to request paths.
	Base string
	HTTP *http.Client
	// Header is set on every request (an org id).
	Header http.Header
	// Kinds overrides the kind of some statuses (a 401 that means the
	// chat is out of reach).
	Kinds map[int]servicedesk.ErrorCode
	// ErrorBody, when set, reads an error answer's body in the vendor's own
	// form (a code and a message) in place of Message; an empty message
	// falls back to the status text.
	ErrorBody func(body []byte) (code, message string)
}

// Do sends one request: body (when not nil) as JSON, bearer (when not
// empty) as the Authorization. A 2xx answer is decoded into out when out
// is not nil and the body is not empty; out may be a *[]byte for the raw
// body.
func (c *Client) Do(ctx context.Context, op, method, path, bearer string, body, out any) error {
	var raw []byte
	ctype := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: %s: encode: %w", c.Name, op, err)
		}
		raw, ctype = b, "application/json"
	}
	return c.send(ctx, op, method, path, bearer, ctype, raw, out)
}

// Send is Do for a body that is not JSON (a form, a file's bytes), sent
// as it is with its content type; answers are read as Do reads them.
func (c *Client) Send(ctx context.Context, op, method, path, contentType string, body []byte, out any) error {
	return c.send(ctx, op, method, path, "", contentType, body, out)
}

func (c *Client) send(ctx context.Context, op, method, path, bearer, ctype string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	return c.sendReader(ctx, op, method, path, bearer, ctype, rd, int64(len(body)), out)
}

// sendReader sends length bytes of body (nil: none) with ctype.
func (c *Client) sendReader(ctx context.Context, op, method, path, bearer, ctype string, body io.Reader, length int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", c.Name, op, err)
	}
	if body != nil {
		req.ContentLength = length
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %s: %w", c.Name, op, ctx.Err())
		}
		return fmt.Errorf("%s: %s: %w: %w", c.Name, op, servicedesk.ErrUnavailable, err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("%s: %s: %w: %w", c.Name, op, servicedesk.ErrUnavailable, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Name: c.Name, Op: op, Status: resp.StatusCode, Kind: c.Kinds[resp.StatusCode]}
		if c.ErrorBody != nil {
			e.Code, e.Message = c.ErrorBody(b)
			e.Message = cmp.Or(e.Message, http.StatusText(resp.StatusCode))
		} else {
			e.Message = Message(b)
		}
		if d, ok := retry.RetryAfter(resp, time.Now()); ok {
			e.RetryAfter = d
		}
		return e
	}
	if out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: %s: decode: %w", c.Name, op, err)
	}
	return nil
}

// Message reads an error body's message: its first of message,
// error_description, detail and error, after its errorCode (or code) when
// it has one; else the body's start.
func Message(b []byte) string {
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		code, _ := m["errorCode"].(string)
		if code == "" {
			code, _ = m["code"].(string)
		}
		for _, k := range []string{"message", "error_description", "detail", "error"} {
			if s, ok := m[k].(string); ok && s != "" {
				return strings.TrimSpace(code + " " + s)
			}
		}
		if code != "" {
			return code
		}
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// StatusOf is the HTTP status of the *Error in err's chain, 0 when it has
// none (no answer at all, or another kind of error).
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Refusal is the server's reason for refusing a request (an *Error of kind
// servicedesk.CodeRejected that has a message), "" for any other error: a
// sentence a kit may show the customer, where an outage's is not one.
func Refusal(err error) string {
	var e *Error
	if errors.As(err, &e) && e.ErrorCode() == servicedesk.CodeRejected {
		return e.Message
	}
	return ""
}
