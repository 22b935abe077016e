package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// call is one request to a Twilio API: a form (Conversations, Flex) or
// raw bytes (a media upload).
type call struct {
	op, method, url string
	form            url.Values
	body            []byte
	ctype           string
}

// do sends c once. Twilio's error answers are *httpjson.Error (its
// message is Twilio's); no answer wraps servicedesk.ErrUnavailable.
func (k *Kit) do(ctx context.Context, c call, out any) error {
	if c.form != nil {
		c.body, c.ctype = []byte(c.form.Encode()), "application/x-www-form-urlencoded"
	}
	return k.api.Send(ctx, c.op, c.method, c.url, c.ctype, c.body, out)
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

// conflict reports a 409: what a create makes exists already (Twilio's
// 50353 for a unique name, 50433 for a participant), a retry of a create
// whose answer was lost.
func conflict(err error) bool {
	var e *httpjson.Error
	return errors.As(err, &e) && e.Status == http.StatusConflict
}

// refusal is the message of an answer that refused a request, "" for any
// other error.
func refusal(err error) string {
	var e *httpjson.Error
	if errors.As(err, &e) && e.ErrorCode() == servicedesk.CodeRejected {
		return e.Message
	}
	return ""
}
