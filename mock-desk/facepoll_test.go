package mockdesk

import (
	"context"
	"errors"
	"testing"

	"github.com/deskbridge/deskbridge/core/deskproto"
)

func TestFacePollFaults(t *testing.T) {
	d, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	page := deskproto.Page{Events: []deskproto.Event{{ID: "a", Seq: 1}, {ID: "b", Seq: 2}}, Cursor: 2}
	if d.StallPoll() {
		t.Fatal("a poll stalled with no faults set")
	}
	if got := d.DisorderPoll(page); len(got.Events) != 2 || got.Events[0].ID != "a" {
		t.Fatalf("DisorderPoll without faults changed the page: %+v", got)
	}
	d.SetFaults(Faults{Poll: PollFaults{StallRate: 1, DuplicateRate: 1, HTTPFaults: HTTPFaults{Rate5xx: 1}}})
	if !d.StallPoll() {
		t.Fatal("StallRate 1 did not stall")
	}
	got := d.DisorderPoll(page)
	if len(got.Events) != 4 || got.Cursor != 2 {
		t.Fatalf("DuplicateRate 1: %+v, want each event twice and the cursor kept", got)
	}
	var fe *FaultError
	if err := d.RequestFault(context.Background(), SitePoll); !errors.As(err, &fe) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("RequestFault(SitePoll) with Rate5xx 1 = %v", err)
	}
	c := d.FaultCounts()
	if c[FaultPollStall] != 1 || c[FaultPollDuplicate] != 2 || c[FaultPoll5xx] != 1 {
		t.Fatalf("fault counts %v", c)
	}
}
