package mockdesk

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func TestFaultsREST5xxAnd429(t *testing.T) {
	h := newHarness(t, Options{Faults: Faults{REST: HTTPFaults{Rate5xx: 1, RetryAfter: Duration(2 * time.Second)}}})
	st, b, hdr := h.do("POST", "/v1/chats", "", deskproto.StartRequest{})
	if st != 503 || hdr.Get("Retry-After") != "2" || !strings.Contains(string(b), `"code":"unavailable"`) {
		t.Fatalf("5xx: %d %s %v", st, b, hdr)
	}
	h.desk.SetFaults(Faults{})
	must(t, h.desk.InjectFault(FaultREST429, 1))
	st, b, hdr = h.do("GET", "/v1/availability", "", nil)
	if st != 429 || hdr.Get("Retry-After") != "1" || !strings.Contains(string(b), "rate_limited") {
		t.Fatalf("429: %d %s", st, b)
	}
	h.do("GET", "/v1/availability", "", nil) // forced fault used up
	if st, _ := h.desk.State(ctxT(t), 0, 0); len(st.Chats) != 0 {
		t.Fatal("a refused start created a chat")
	}
	var fv struct {
		Counts map[string]int64 `json:"counts"`
		Config Faults           `json:"config"`
	}
	h.mustDo(200, &fv, "GET", "/control/faults", "", nil)
	if fv.Counts[FaultREST5xx] != 1 || fv.Counts[FaultREST429] != 1 {
		t.Fatalf("counts = %v", fv.Counts)
	}
	h.mustDo(204, nil, "PUT", "/control/faults", "", `{"seed":3,"rest":{"latency":"20ms"}}`)
	start := time.Now()
	h.mustDo(200, nil, "GET", "/v1/availability", "", nil)
	if time.Since(start) < 20*time.Millisecond || h.desk.FaultCounts()[FaultRESTLatency] != 1 {
		t.Fatal("latency not injected")
	}
	h.wantError(400, "bad_request", "POST", "/control/faults/inject", "", `{"kind":"meteor"}`)
	h.wantError(400, "bad_json", "PUT", "/control/faults", "", `{"seed":"x"}`)
}

// TestFaultsDeterministic: the same seed makes the same decisions for the
// same traffic; another seed does not.
func TestFaultsDeterministic(t *testing.T) {
	run := func(seed uint64) string {
		h := newHarness(t, Options{Faults: Faults{Seed: seed, REST: HTTPFaults{Rate5xx: 0.3, Rate429: 0.3}}})
		var b strings.Builder
		for range 40 {
			st, _, _ := h.do("GET", "/v1/availability", "", nil)
			b.WriteString(http.StatusText(st)[:1])
		}
		return b.String()
	}
	a, b, c := run(42), run(42), run(43)
	if a != b || a == c || !strings.Contains(a, "S") || !strings.Contains(a, "T") || !strings.Contains(a, "O") {
		t.Fatalf("seed 42: %s / %s, seed 43: %s", a, b, c)
	}
}

// TestFaultsAmbiguousSend: the desk stores the message but the answer is a
// 503; the resend with the same key is answered from the first.
func TestFaultsAmbiguousSend(t *testing.T) {
	h := newHarness(t, Options{})
	chat := h.start(deskproto.StartRequest{})
	must(t, h.desk.InjectFault(FaultREST5xxAfter, 1))
	body := map[string]any{"message": servicedesk.NewTextRequest("did it arrive?")}
	path := "/v1/chats/" + chat.ChatID + "/messages"
	if st, _, _ := h.do("POST", path, chat.ChatToken, body, "Idempotency-Key", "amb"); st != 503 {
		t.Fatal(st)
	}
	var res deskproto.SendResult
	h.mustDo(201, &res, "POST", path, chat.ChatToken, body, "Idempotency-Key", "amb")
	msgs, _ := h.desk.CustomerMessages(chat.ChatID)
	if !res.Replayed || len(msgs) != 1 || msgs[0].ID != res.MessageID {
		t.Fatalf("resend = %+v, stored %d", res, len(msgs))
	}
}

func TestFaultsWSDropAndPollStall(t *testing.T) {
	h := newHarness(t, Options{Faults: Faults{WS: WSFaults{DropAfterFrames: 3}}})
	ctx := ctxT(t)
	c := h.dialWS(t)
	c.send(deskproto.ClientFrame{Type: "start"})
	frames := 0
	for {
		if _, err := c.read(); err != nil {
			if websocket.IsCloseError(err, websocket.CloseGoingAway, websocket.CloseNormalClosure) {
				t.Fatalf("clean close, want an abrupt drop: %v", err)
			}
			break
		}
		frames++
	}
	if frames != 3 || h.desk.FaultCounts()[FaultWSDrop] != 1 {
		t.Fatalf("dropped after %d frames, counts %v", frames, h.desk.FaultCounts())
	}
	// The handshake refused: 503 with Retry-After, before any upgrade.
	h.desk.SetFaults(Faults{WS: WSFaults{Rate5xx: 1, RetryAfter: Duration(3 * time.Second)}})
	url := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/v1/ws"
	if _, resp, err := websocket.DefaultDialer.Dial(url, nil); err == nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("refused handshake: %v %+v", err, resp)
	}
	h.desk.SetFaults(Faults{})

	chat := h.start(deskproto.StartRequest{})
	must(t, h.desk.InjectFault(FaultPollStall, 1))
	start := time.Now()
	if p := h.poll(chat, 0, "0.2"); len(p.Events) != 0 || p.Cursor != 0 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("stalled poll = %+v", p)
	}
	if p := h.poll(chat, 0, "0.2"); len(p.Events) != 2 {
		t.Fatalf("poll after stall = %+v", p)
	}
	// Poll 5xx/429 come from the poll's own settings.
	h.desk.SetFaults(Faults{Poll: PollFaults{HTTPFaults: HTTPFaults{Rate429: 1}}})
	h.wantError(429, "rate_limited", "GET", "/v1/chats/"+chat.ChatID+"/events", chat.ChatToken, nil)
	h.mustDo(200, nil, "GET", "/v1/availability", "", nil) // REST unaffected
	h.desk.SetFaults(Faults{})

	// DropConnections: a pending long poll answers 503 at once.
	done := make(chan int, 1)
	go func() {
		st, _, _ := h.do("GET", "/v1/chats/"+chat.ChatID+"/events?cursor=2&wait=10", chat.ChatToken, nil)
		done <- st
	}()
	time.Sleep(50 * time.Millisecond)
	must(t, h.desk.DropConnections(ctx, chat.ChatID))
	select {
	case st := <-done:
		if st != 503 {
			t.Fatalf("dropped poll = %d", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("poll not dropped")
	}
}
