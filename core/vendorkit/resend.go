package vendorkit

import (
	"context"
	"strconv"

	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// Resend sends one customer message with p's retries so that no retry
// doubles it: once a try's outcome is unknown (unknown(err): a 5xx, a lost
// answer), every later try first asks sent whether the vendor took the
// message after all (looking it up by the engine's id) and stops if it
// did. A lookup's error counts as the try's. sent nil sends again without
// asking.
func Resend(ctx context.Context, p retry.Policy, unknown func(error) bool, sent func(context.Context) (bool, error), send func(context.Context) error) error {
	ambiguous := false
	return p.Do(ctx, func(int) error {
		if ambiguous && sent != nil {
			if done, err := sent(ctx); err != nil || done {
				return err
			}
		}
		err := send(ctx)
		ambiguous = ambiguous || (err != nil && unknown(err))
		return err
	})
}

// PartID is the idempotency key of part i of a message sent to the desk
// as several (a long text, one file a message): the message's id for the
// first part, "id/i" for the others, so that a resend of any part finds
// its own.
func PartID(id string, i int) string {
	if i == 0 {
		return id
	}
	return id + "/" + strconv.Itoa(i)
}
