package twilio

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// send sends c (a form to Conversations and Flex, raw bytes to the media
// service) with the kit's retries: rate limits (Retry-After honoured),
// 5xx and lost answers are tried again; health hears of each outcome.
// Twilio's error answers are *httpjson.Error (its message is Twilio's); no
// answer wraps servicedesk.ErrUnavailable.
func (k *Kit) send(ctx context.Context, c httpjson.Call, health func(error)) error {
	return k.api.Retry(ctx, retry.Policy{Backoff: k.cfg.Backoff, Retries: k.cfg.Retries}, c, health, k.log)
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
func conflict(err error) bool { return httpjson.StatusOf(err) == http.StatusConflict }
