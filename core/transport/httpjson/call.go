package httpjson

import (
	"context"
	"io"
	"log/slog"
	"net/url"

	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// Call is one request of a Client, for kits whose calls differ in their
// body's form: Body, when not nil, is sent as JSON; else Form, when not
// nil, as a URL-encoded form; else Stream, when not nil, Length bytes of
// it read as they are sent (a Multipart body, a file), with ContentType;
// else Raw as it is with ContentType (a file's bytes). A Call with a
// Stream serves one try: make it anew for the next. Bearer, when set, is
// the Authorization; a 2xx answer is decoded into Out as Do decodes it.
type Call struct {
	Op, Method, Path string
	Body             any
	Form             url.Values
	Stream           io.Reader
	Length           int64
	Raw              []byte
	ContentType      string
	Bearer           string
	Out              any
}

// Call sends r once.
func (c *Client) Call(ctx context.Context, r Call) error {
	switch {
	case r.Body != nil:
		return c.Do(ctx, r.Op, r.Method, r.Path, r.Bearer, r.Body, r.Out)
	case r.Form != nil:
		return c.send(ctx, r.Op, r.Method, r.Path, r.Bearer, "application/x-www-form-urlencoded", []byte(r.Form.Encode()), r.Out)
	case r.Stream != nil:
		return c.sendReader(ctx, r.Op, r.Method, r.Path, r.Bearer, r.ContentType, r.Stream, r.Length, r.Out)
	}
	return c.send(ctx, r.Op, r.Method, r.Path, r.Bearer, r.ContentType, r.Raw, r.Out)
}

// Retry sends r with p's retries (a temporary error tried again after the
// backoff or the answer's Retry-After, any other returned at once). heard,
// when set, hears of every try's outcome (nil: an answer), for an outage's
// count; log, when set, of every failed try (Debug).
func (c *Client) Retry(ctx context.Context, p retry.Policy, r Call, heard func(error), log *slog.Logger) error {
	return p.Do(ctx, func(attempt int) error {
		err := c.Call(ctx, r)
		if heard != nil {
			heard(err)
		}
		if err != nil && log != nil {
			log.Debug("request failed", "op", r.Op, "attempt", attempt, "err", err)
		}
		return err
	})
}
