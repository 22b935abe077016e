package webhook

import (
	"errors"
	"testing"
	"time"
)

func TestRouter(t *testing.T) {
	var r Router[string]
	var relayed [][]byte
	r.Elsewhere = func(b []byte) error { relayed = append(relayed, b); return nil }
	if err := r.Route("c1", "early", []byte("raw-early")); err != nil {
		t.Fatal(err)
	}
	if len(relayed) != 1 || string(relayed[0]) != "raw-early" {
		t.Fatalf("relayed %q", relayed)
	}
	var got []string
	stop := r.Follow("c1", func(e string) { got = append(got, e) })
	if err := r.Route("c1", "live", nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "early" || got[1] != "live" || len(relayed) != 1 {
		t.Fatalf("got %q, relayed %d", got, len(relayed))
	}
	// A later follower of the chat keeps it when the first stops.
	var second []string
	r.Follow("c1", func(e string) { second = append(second, e) })
	stop()
	if !r.Here("c1", "x") || len(second) != 1 {
		t.Fatalf("the second follower lost the chat: %q", second)
	}
	r.Elsewhere = func([]byte) error { return errors.New("nobody") }
	if err := r.Route("c2", "y", nil); err == nil {
		t.Fatal("the relay's error is lost")
	}
}

func TestRouterParkingBounded(t *testing.T) {
	r := Router[int]{ParkFor: 10 * time.Millisecond, ParkPerChat: 2, ParkChats: 2}
	for i := range 5 {
		_ = r.Route("a", i, nil)
	}
	_ = r.Route("b", 0, nil)
	_ = r.Route("c", 0, nil) // over ParkChats: not parked
	var a, c []int
	r.Follow("a", func(e int) { a = append(a, e) })
	r.Follow("c", func(e int) { c = append(c, e) })
	if len(a) != 2 || len(c) != 0 {
		t.Fatalf("a %v, c %v", a, c)
	}
	time.Sleep(20 * time.Millisecond)
	var b []int
	r.Follow("b", func(e int) { b = append(b, e) })
	if len(b) != 0 {
		t.Fatalf("an expired event was delivered: %v", b)
	}
}
