package salesforce

import (
	"context"
	"fmt"
	"net/http"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// Error answers of the API are *httpjson.Error values. Besides its
// defaults (429 rate limited, 5xx unavailable, 404 and 410 not found, the
// rest rejected), a 401 the continuation token could not cure and a 417
// (no messaging session) mean the conversation is out of reach.
var errorKinds = map[int]servicedesk.ErrorCode{http.StatusUnauthorized: servicedesk.CodeNotFound, http.StatusExpectationFailed: servicedesk.CodeNotFound}

// call sends a request of the chat with its access token, retrying what
// is temporary (5xx, 429 after its Retry-After, lost connections) with the
// same body, so a resent message keeps its id. A 401 renews the token
// once (continuation-access-token) and sends again.
func (d *desk) call(ctx context.Context, op, method, path string, body, out any) error {
	renewed := false
	return retryPolicy(d.k).Do(ctx, func(attempt int) error {
		tok, err := d.bearer(ctx)
		if err != nil {
			return fmt.Errorf("salesforce: %s: %w", op, err)
		}
		err = d.k.api.Do(ctx, op, method, path, tok, body, out)
		if httpjson.StatusOf(err) == http.StatusUnauthorized && !renewed {
			renewed = true
			if err := d.renew(ctx, tok); err != nil {
				return fmt.Errorf("salesforce: %s: %w", op, err)
			}
			if tok, err = d.bearer(ctx); err != nil {
				return fmt.Errorf("salesforce: %s: %w", op, err)
			}
			err = d.k.api.Do(ctx, op, method, path, tok, body, out)
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
