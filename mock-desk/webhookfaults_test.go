package mockdesk

import "testing"

func TestWebhookFaultForAFace(t *testing.T) {
	d, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if f := d.WebhookFault(); f != (WebhookFault{}) {
		t.Fatalf("no faults configured, got %+v", f)
	}
	must(t, d.InjectFault(FaultWebhookDuplicate, 1))
	if f := d.WebhookFault(); !f.Duplicate || f.Unreachable {
		t.Fatalf("forced duplicate, got %+v", f)
	}
	must(t, d.InjectFault(FaultWebhookUnreachable, 1))
	must(t, d.InjectFault(FaultWebhookReorder, 1))
	if f := d.WebhookFault(); !f.Unreachable || f.Reorder {
		t.Fatalf("an unreachable delivery is nothing else, got %+v", f)
	}
	if f := d.WebhookFault(); !f.Reorder {
		t.Fatalf("the forced reorder waits for the next delivery, got %+v", f)
	}
	d.SetFaults(Faults{Seed: 3, Webhook: WebhookFaults{DuplicateRate: 1}})
	if f := d.WebhookFault(); !f.Duplicate {
		t.Fatalf("rate 1, got %+v", f)
	}
	c := d.FaultCounts()
	if c[FaultWebhookDuplicate] != 2 || c[FaultWebhookUnreachable] != 1 || c[FaultWebhookReorder] != 1 {
		t.Fatalf("counts %v", c)
	}
}
