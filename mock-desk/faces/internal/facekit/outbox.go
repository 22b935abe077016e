package facekit

import (
	"context"
	"sync"

	"github.com/deskbridge/deskbridge/core/transport/retry"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// Outbox posts one conversation's webhook deliveries in order, for a face
// whose vendor retries a failed delivery, with the desk's webhook faults:
// latency before a delivery, the next one overtaking it (reorder), a
// second copy (duplicate), its first try failing (unreachable). It runs a
// goroutine only while deliveries are pending, so that a conversation's
// sender does not outlive its chat for as long as the desk runs.
type Outbox[T any] struct {
	desk *mockdesk.Desk
	// deliver posts one delivery, retrying as the vendor does; firstFails
	// makes its first try fail. It reports whether the delivery was taken.
	deliver func(ctx context.Context, item T, firstFails bool) bool

	mu      sync.Mutex
	pending []T
	running bool
}

// NewOutbox returns an empty outbox that posts with deliver.
func NewOutbox[T any](d *mockdesk.Desk, deliver func(ctx context.Context, item T, firstFails bool) bool) *Outbox[T] {
	return &Outbox[T]{desk: d, deliver: deliver}
}

// Push queues item after the deliveries pending.
func (o *Outbox[T]) Push(item T) {
	o.mu.Lock()
	o.pending = append(o.pending, item)
	start := !o.running
	o.running = true
	o.mu.Unlock()
	if start && !o.desk.Go(o.run) {
		o.mu.Lock()
		o.running = false
		o.mu.Unlock()
	}
}

// take removes and returns the oldest pending delivery; with none left
// and done, the goroutine stops.
func (o *Outbox[T]) take(done bool) (T, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.pending) == 0 {
		o.running = o.running && !done
		var none T
		return none, false
	}
	item := o.pending[0]
	o.pending = o.pending[1:]
	return item, true
}

func (o *Outbox[T]) run(ctx context.Context) {
	for item, ok := o.take(true); ok; item, ok = o.take(true) {
		fault := o.desk.WebhookFault()
		if fault.Latency > 0 && !retry.Sleep(ctx, fault.Latency) {
			return
		}
		if fault.Reorder {
			if later, ok := o.take(false); ok {
				o.deliver(ctx, later, false) // it overtakes this one
			}
		}
		if o.deliver(ctx, item, fault.Unreachable) && fault.Duplicate {
			o.deliver(ctx, item, false)
		}
	}
}
