package mockdesk

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
)

// verifySignature is the receiver side of the documented scheme, written
// from docs/desk-protocol.md: parse t and v1, reject a timestamp outside
// tolerance, compare HMAC-SHA256("t.body") in constant time.
func verifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("malformed signature header")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return errors.New("stale timestamp")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range sigs {
		if hmac.Equal(want, s) {
			return nil
		}
	}
	return errors.New("signature mismatch")
}

// receiver is a webhook endpoint that verifies, records and answers.
type receiver struct {
	t      *testing.T
	secret []byte // when desk is nil
	srv    *httptest.Server
	// fail answers this status to an event's first n attempts.
	failFirst int
	failWith  int

	mu       sync.Mutex
	desk     *Desk             // verifies each chat's deliveries with the chat's own secret
	got      []deskproto.Event // every verified delivery, in arrival order
	attempts map[string][]int
	rejected int
	changed  chan struct{}
}

func newReceiver(t *testing.T, secret []byte) *receiver {
	r := &receiver{t: t, secret: secret, attempts: map[string][]int{}, changed: make(chan struct{}, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// perChat makes r verify each chat's deliveries with that chat's secret.
func (r *receiver) perChat(d *Desk) {
	r.mu.Lock()
	r.desk = d
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var e deskproto.Event
	if err := json.Unmarshal(body, &e); err != nil || e.ID != req.Header.Get(webhook.EventIDHeader) {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	secret := r.secret
	if r.desk != nil {
		secret = r.desk.ChatWebhookSecret(e.ChatID)
	}
	r.mu.Unlock()
	if err := verifySignature(secret, req.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
		r.mu.Lock()
		r.rejected++
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	attempt, _ := strconv.Atoi(req.Header.Get(webhook.AttemptHeader))
	r.mu.Lock()
	r.attempts[e.ID] = append(r.attempts[e.ID], attempt)
	fail := attempt <= r.failFirst
	if !fail {
		r.got = append(r.got, e)
	}
	r.mu.Unlock()
	if fail {
		w.WriteHeader(r.failWith)
		return
	}
	w.WriteHeader(http.StatusNoContent)
	r.changed <- struct{}{}
}

// waitUnique waits until n distinct events arrived and returns them by seq.
func (r *receiver) waitUnique(chatID string, n int) []deskproto.Event {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		byID := map[string]deskproto.Event{}
		for _, e := range r.got {
			if e.ChatID == chatID {
				byID[e.ID] = e
			}
		}
		r.mu.Unlock()
		if len(byID) >= n {
			out := make([]deskproto.Event, 0, len(byID))
			for _, e := range byID {
				out = append(out, e)
			}
			slices.SortFunc(out, func(a, b deskproto.Event) int { return int(a.Seq - b.Seq) })
			return out
		}
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			r.t.Fatalf("got %d distinct events of chat %s, want %d", len(byID), chatID, n)
		}
	}
}

func TestWebhookSignatureVerification(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"id":"evt_1"}`)
	now := time.Unix(1_800_000_000, 0)
	good := webhook.Sign(secret, now, body)
	if err := verifySignature(secret, good, body, now.Add(4*time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	// The documented example in docs/desk-protocol.md.
	if got := webhook.Sign([]byte("whsec_example"), time.Unix(1767225600, 0), []byte(`{"id":"evt_ch_1_1"}`)); got != "t=1767225600,v1=f6bdb3c9178888483598d3aa83682e612ad70dcbd23f0a167daca4f537e32761" {
		t.Errorf("documented example signature: %s", got)
	}
	bad := []struct {
		name   string
		header string
		body   []byte
		at     time.Time
	}{
		{"tampered body", good, []byte(`{"id":"evt_2"}`), now},
		{"wrong secret", webhook.Sign([]byte("other"), now, body), body, now},
		{"stale", good, body, now.Add(5*time.Minute + time.Second)},
		{"from the future", good, body, now.Add(-6 * time.Minute)},
		{"malformed", "v1=abc", body, now},
		{"no v1", "t=" + strconv.FormatInt(now.Unix(), 10), body, now},
		{"empty", "", body, now},
	}
	for _, b := range bad {
		if err := verifySignature(secret, b.header, b.body, b.at, 5*time.Minute); err == nil {
			t.Errorf("%s: accepted", b.name)
		}
	}
}

func TestWebhookDeliveryInOrderWithRetries(t *testing.T) {
	secret := []byte("test-secret")
	rcv := newReceiver(t, secret)
	rcv.failFirst, rcv.failWith = 2, http.StatusInternalServerError
	h := newHarness(t, Options{WebhookSecret: secret})
	rcv.perChat(h.desk)
	ctx := ctxT(t)
	chat := h.start(deskproto.StartRequest{WebhookURL: rcv.srv.URL})
	ac, _ := h.desk.AwaitChat(ctx)
	must(t, ac.Join(ctx, ada))
	_, _ = ac.SayText(ctx, "one")
	_, _ = ac.SayText(ctx, "two")
	must(t, ac.End(ctx))
	evs := rcv.waitUnique(chat.ChatID, 7)
	want := "capabilities,queue_update,agent_joined,agent_message,agent_message,agent_ended,chat_ended"
	if got := strings.Join(types(evs), ","); got != want {
		t.Fatalf("webhook events %s", got)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	// In order: each event is acknowledged before the next is sent.
	for i, e := range rcv.got {
		if e.Seq != uint64(i+1) {
			t.Fatalf("delivery %d has seq %d", i, e.Seq)
		}
		if a := rcv.attempts[e.ID]; !slices.Equal(a, []int{1, 2, 3}) {
			t.Fatalf("attempts of %s = %v", e.ID, a)
		}
	}
	if rcv.rejected != 0 {
		t.Fatalf("%d deliveries failed verification", rcv.rejected)
	}
}

// TestWebhookSignedPerChat: a chat's deliveries are signed with the secret
// of its start answer, which signs no other chat's; the desk-wide secret
// signs none of them.
func TestWebhookSignedPerChat(t *testing.T) {
	rcv := newReceiver(t, nil)
	h := newHarness(t, Options{WebhookSecret: []byte("desk-wide")})
	rcv.perChat(h.desk)
	a := h.start(deskproto.StartRequest{WebhookURL: rcv.srv.URL})
	b := h.start(deskproto.StartRequest{WebhookURL: rcv.srv.URL})
	if a.WebhookSecret == "" || a.WebhookSecret == b.WebhookSecret || !bytes.Equal(h.desk.ChatWebhookSecret(a.ChatID), []byte(a.WebhookSecret)) {
		t.Fatalf("start answers' webhook secrets %q and %q", a.WebhookSecret, b.WebhookSecret)
	}
	got := rcv.waitUnique(a.ChatID, 1)
	body := eventJSON(got[0])
	rcv.mu.Lock()
	rejected := rcv.rejected
	rcv.mu.Unlock()
	if rejected != 0 {
		t.Fatalf("%d deliveries did not verify under their chat's secret", rejected)
	}
	now := time.Now()
	for what, key := range map[string]string{"chat b's secret": b.WebhookSecret, "the desk-wide secret": "desk-wide"} {
		if verifySignature([]byte(key), webhook.Sign([]byte(a.WebhookSecret), now, body), body, now, time.Minute) == nil {
			t.Fatalf("chat a's delivery verifies under %s", what)
		}
	}
}

func TestWebhookWrongSecretIsRejectedAndRetried(t *testing.T) {
	rcv := newReceiver(t, []byte("receiver-secret"))
	h := newHarness(t, Options{WebhookSecret: []byte("desk-secret")})
	h.start(deskproto.StartRequest{WebhookURL: rcv.srv.URL})
	waitFor(t, func() bool { rcv.mu.Lock(); defer rcv.mu.Unlock(); return rcv.rejected >= 3 })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.got) != 0 {
		t.Fatal("accepted a delivery signed with another secret")
	}
}

func TestWebhookFaults(t *testing.T) {
	secret := []byte("k")
	rcv := newReceiver(t, secret)
	h := newHarness(t, Options{WebhookSecret: secret, WebhookURL: rcv.srv.URL,
		Faults: Faults{Seed: 7, Webhook: WebhookFaults{DuplicateRate: 0.3, ReorderRate: 0.3, UnreachableRate: 0.3}}})
	rcv.perChat(h.desk)
	ctx := ctxT(t)
	chat := h.start(deskproto.StartRequest{}) // the desk-wide URL
	ac, _ := h.desk.AwaitChat(ctx)
	must(t, ac.Join(ctx, ada))
	for i := range 20 {
		_, _ = ac.SayText(ctx, "m"+strconv.Itoa(i))
	}
	evs := rcv.waitUnique(chat.ChatID, 23)
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("after dedupe and sort: seq %d at %d", e.Seq, i)
		}
	}
	counts := h.desk.FaultCounts()
	for _, k := range []string{FaultWebhookDuplicate, FaultWebhookReorder, FaultWebhookUnreachable} {
		if counts[k] == 0 {
			t.Errorf("no %s injected: %v", k, counts)
		}
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	ordered := true
	for i := 1; i < len(rcv.got); i++ {
		if rcv.got[i].Seq < rcv.got[i-1].Seq {
			ordered = false
		}
	}
	if ordered || len(rcv.got) <= len(evs) {
		t.Fatalf("faults had no effect: %d deliveries, ordered %v", len(rcv.got), ordered)
	}
}

// TestWebhookRegisteredLater: PUT …/webhook sends the chat's later events
// to the new URL; earlier ones are read with a poll.
func TestWebhookRegisteredLater(t *testing.T) {
	secret := []byte("later")
	rcv := newReceiver(t, secret)
	h := newHarness(t, Options{WebhookSecret: secret})
	rcv.perChat(h.desk)
	ctx := ctxT(t)
	chat := h.start(deskproto.StartRequest{})
	h.mustDo(204, nil, "PUT", "/v1/chats/"+chat.ChatID+"/webhook", chat.ChatToken, map[string]string{"url": rcv.srv.URL})
	must(t, h.desk.AgentJoin(ctx, chat.ChatID, ada))
	got := rcv.waitUnique(chat.ChatID, 1)
	if got[0].Type != deskproto.EventAgentJoined || got[0].Seq != 3 {
		t.Fatalf("first delivery = %s", eventJSON(got[0]))
	}
	if p := h.poll(chat, 0, ""); len(p.Events) != 3 {
		t.Fatalf("poll = %v", types(p.Events))
	}
}
