package webhook

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestIntake: an event is applied once however often it is delivered; one
// that could not be passed on is taken when it comes again; a relayed one
// reaches the desk here once, and is refused when none follows its chat.
func TestIntake(t *testing.T) {
	var in Intake[string]
	relayErr := errors.New("no instance answers")
	in.Elsewhere = func([]byte) error { return relayErr }
	var got []string
	var f Following
	f.Set(in.Follow("c1", func(e string) { got = append(got, e) }))
	for range 3 {
		if err := in.Take("k1", "c1", "hello", nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 {
		t.Fatalf("a redelivery applied again: %q", got)
	}
	if err := in.Take("k2", "c2", "elsewhere", []byte("raw")); !errors.Is(err, relayErr) {
		t.Fatalf("Take = %v, want the relay's error", err)
	}
	in.Elsewhere = nil
	if err := in.Take("k2", "c2", "elsewhere", []byte("raw")); err != nil {
		t.Fatal(err)
	}
	if err := in.Take("k2", "c2", "elsewhere", []byte("raw")); err != nil {
		t.Fatal(err)
	}

	if !in.Relayed("k3", "c1", "relayed") || !in.Relayed("k3", "c1", "relayed") {
		t.Fatal("a relayed event of a chat followed here refused")
	}
	if len(got) != 2 || got[1] != "relayed" {
		t.Fatalf("relayed events: %q", got)
	}
	if in.Relayed("k4", "c9", "nobody") {
		t.Fatal("a relayed event of a chat nobody here follows taken")
	}
	if err := in.Take("k5", "c9", "here first", nil); err != nil || in.Relayed("k5", "c9", "here first") {
		t.Fatal("an event taken here, of a chat nobody here follows, is taken again when relayed")
	}

	// Following: a new chat's Set stops the old one; Stop stops it all.
	f.Set(in.Follow("c3", func(e string) { got = append(got, e) }))
	if in.Here("c1", "x") || !in.Here("c3", "y") {
		t.Fatal("Set did not move the desk to its new chat")
	}
	f.Stop()
	f.Stop()
	if in.Here("c3", "z") {
		t.Fatal("Stop did not stop")
	}
	if in.Relayed("k4", "c9", "nobody") {
		t.Fatal("a refused relayed event is remembered")
	}
}

func TestUnavailable(t *testing.T) {
	rec := httptest.NewRecorder()
	Unavailable(rec, "later")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("answer %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}
