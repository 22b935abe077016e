package kustomer

import (
	"context"
	"errors"
	"net/http"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// Error is a call Kustomer answered with an error status: the status, and
// the first JSON:API error's code and its detail (or title) as Message.
type Error = httpjson.Error

// call sends c with the kit's retries (429 after its Retry-After, 5xx and
// lost answers again after the backoff), for calls that do no harm sent
// twice: reads, a status change, an attachment record and its upload.
func (d *desk) call(ctx context.Context, c httpjson.Call) error {
	return d.k.api.Retry(ctx, d.k.policy(), c, d.heard, d.log)
}

// create sends c, which makes something each time it is taken. A try
// whose outcome is unknown (a 5xx, a lost answer) is sent again only once
// sent says the earlier one was not taken; a 429 was surely not taken and
// is sent again after its Retry-After.
func (d *desk) create(ctx context.Context, c httpjson.Call, sent func(context.Context) (bool, error)) error {
	return vendorkit.Resend(ctx, d.k.policy(), unknownOutcome, sent, func(ctx context.Context) error {
		err := d.k.api.Call(ctx, c)
		d.heard(err)
		return err
	})
}

// unknownOutcome tells a failed try that Kustomer may have carried out.
func unknownOutcome(err error) bool { return servicedesk.CodeOf(err) == servicedesk.CodeUnavailable }

// heard counts one try's outcome toward an outage: Kustomer out of reach
// (no answer, 5xx) or back.
func (d *desk) heard(err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	d.reader.Heard(&d.outage, &d.Chat, unknownOutcome(err))
}

// gone tells errors after which the conversation is no more: not found,
// or not this API key's to read.
func gone(err error) bool {
	s := httpjson.StatusOf(err)
	return s == http.StatusNotFound || s == http.StatusForbidden
}
