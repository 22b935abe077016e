package chatwoot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

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
