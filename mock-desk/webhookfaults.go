package mockdesk

import "time"

// WebhookFault is what the desk's webhook faults (Faults.Webhook) make of
// one delivery a vendor face posts to its client: a latency first, then
// the delivery lost (Unreachable: a vendor that does not retry a failed
// webhook loses it), sent twice (Duplicate), or held until after the next
// delivery of its chat (Reorder).
type WebhookFault struct {
	Latency     time.Duration
	Unreachable bool
	Duplicate   bool
	Reorder     bool
}

// WebhookFault decides the faults of one webhook delivery of a face, from
// the desk's webhook fault stream, and counts those it injects.
func (d *Desk) WebhookFault() WebhookFault {
	cfg := d.faults.config().Webhook
	f := WebhookFault{Latency: time.Duration(cfg.Latency)}
	if f.Latency > 0 {
		d.faults.count(FaultWebhookLatency)
	}
	if f.Unreachable = d.faults.hit("webhook", FaultWebhookUnreachable, cfg.UnreachableRate); f.Unreachable {
		return f
	}
	f.Duplicate = d.faults.hit("webhook", FaultWebhookDuplicate, cfg.DuplicateRate)
	f.Reorder = d.faults.hit("webhook", FaultWebhookReorder, cfg.ReorderRate)
	return f
}
