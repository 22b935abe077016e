package mockdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestInvariantsManyConcurrentChats runs many chats at once, each over one
// transport, with an echo agent, resent idempotency keys and resumes in
// the middle, and checks for every chat: seq strictly increasing and
// gap-free on every transport, one stored message per key, and a resume
// that yields exactly the missed events.
func TestInvariantsManyConcurrentChats(t *testing.T) {
	const chats, msgs = 150, 8
	secret := []byte("inv")
	rcv := newReceiver(t, secret)
	h := newHarness(t, Options{WebhookSecret: secret, Agents: []AgentConfig{
		{Profile: ada, Online: true, Capacity: chats, Script: Script{Echo(0)}},
	}})
	rcv.perChat(h.desk)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, chats)
	for i := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch i % 3 {
			case 0:
				err = invariantREST(ctx, h, i, msgs, "")
			case 1:
				err = invariantWS(ctx, h, i, msgs)
			case 2:
				err = invariantREST(ctx, h, i, msgs, rcv.srv.URL)
			}
			if err != nil {
				errs <- fmt.Errorf("chat %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, _ := h.desk.State(ctx, 0, 0)
	for _, c := range st.Chats {
		evs := checkSeq(t, h.desk, c.ChatID)
		msgsStored, _ := h.desk.CustomerMessages(c.ChatID)
		if len(msgsStored) != msgs {
			t.Errorf("chat %s stored %d messages, want %d (keys resent)", c.ChatID, len(msgsStored), msgs)
		}
		if n := countType(evs, deskproto.EventAgentMessage); n != msgs {
			t.Errorf("chat %s has %d echoes, want %d", c.ChatID, n, msgs)
		}
	}
	// Webhook chats: every event delivered, in order, signed.
	for _, c := range st.Chats {
		if c.Customer.Name == "webhook" {
			got := rcv.waitUnique(c.ChatID, int(c.LastSeq))
			for i, e := range got {
				if e.Seq != uint64(i+1) {
					t.Fatalf("webhook chat %s: seq %d at %d", c.ChatID, e.Seq, i)
				}
			}
		}
	}
}

// invariantREST sends msgs messages twice each (same key), reads the
// echoes by long poll, and checks a resume from the middle.
func invariantREST(ctx context.Context, h *harness, n, msgs int, webhook string) error {
	name := "rest"
	if webhook != "" {
		name = "webhook"
	}
	var chat deskproto.ChatInfo
	if err := h.call(ctx, "POST", "/v1/chats", "", deskproto.StartRequest{Customer: &deskproto.Customer{Name: name}, WebhookURL: webhook}, nil, &chat); err != nil {
		return err
	}
	var all []deskproto.Event
	var cur uint64
	for i := range msgs {
		key := fmt.Sprintf("c%d-m%d", n, i)
		body := map[string]any{"message": servicedesk.NewTextRequest(key)}
		var a, b deskproto.SendResult
		if err := h.call(ctx, "POST", "/v1/chats/"+chat.ChatID+"/messages", chat.ChatToken, body, []string{"Idempotency-Key", key}, &a); err != nil {
			return err
		}
		if err := h.call(ctx, "POST", "/v1/chats/"+chat.ChatID+"/messages", chat.ChatToken, body, []string{"Idempotency-Key", key}, &b); err != nil {
			return err
		}
		if a.MessageID != b.MessageID || !b.Replayed {
			return fmt.Errorf("key %s stored twice: %s, %s", key, a.MessageID, b.MessageID)
		}
	}
	for countType(all, deskproto.EventAgentMessage) < msgs {
		var p deskproto.Page
		if err := h.call(ctx, "GET", fmt.Sprintf("/v1/chats/%s/events?cursor=%d&wait=5", chat.ChatID, cur), chat.ChatToken, nil, nil, &p); err != nil {
			return err
		}
		for _, e := range p.Events {
			if e.Seq != cur+1 {
				return fmt.Errorf("poll: seq %d after %d", e.Seq, cur)
			}
			cur = e.Seq
		}
		all = append(all, p.Events...)
	}
	// Resume from the middle: exactly the events after it.
	mid := cur / 2
	var p deskproto.Page
	if err := h.call(ctx, "GET", fmt.Sprintf("/v1/chats/%s/events?cursor=%d", chat.ChatID, mid), chat.ChatToken, nil, nil, &p); err != nil {
		return err
	}
	if len(p.Events) != int(cur-mid) || p.Events[0].Seq != mid+1 || p.Events[0].ID != all[mid].ID {
		return fmt.Errorf("resume from %d: %d events", mid, len(p.Events))
	}
	return nil
}

func invariantWS(ctx context.Context, h *harness, n, msgs int) error {
	url := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/v1/ws"
	var conn *websocket.Conn
	var last uint64
	dial := func() error {
		var err error
		conn, _, err = websocket.DefaultDialer.DialContext(ctx, url, nil)
		return err
	}
	// read returns the next frame, checking that events come in seq order
	// with no gap and no repeat, across reconnects.
	read := func() (deskproto.ServerFrame, error) {
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		var f deskproto.ServerFrame
		err := conn.ReadJSON(&f)
		if err == nil && f.Type == "event" {
			if f.Event == nil {
				return f, fmt.Errorf("ws: event frame without an event")
			}
			e := *f.Event
			if e.Seq != last+1 {
				return f, fmt.Errorf("ws: seq %d after %d", e.Seq, last)
			}
			last = e.Seq
		}
		if err == nil && f.Type == "error" {
			return f, fmt.Errorf("ws error %+v", f.Error)
		}
		return f, err
	}
	send := func(i int) {
		key := fmt.Sprintf("w%d-%d", n, i)
		for range 2 { // every message resent with its key
			_ = conn.WriteJSON(deskproto.ClientFrame{Type: "message", IdempotencyKey: key, Message: &servicedesk.MessageRequest{Input: servicedesk.MessageInput{Text: key}}})
		}
	}
	// exchange sends messages from..to-1 one at a time, each after the
	// echo of the one before.
	exchange := func(from, to int) error {
		for i := from; i < to; i++ {
			send(i)
			for {
				f, err := read()
				if err != nil {
					return err
				}
				if f.Type == "event" && f.Event.Type == deskproto.EventAgentMessage {
					break
				}
			}
		}
		return nil
	}
	if err := dial(); err != nil {
		return err
	}
	_ = conn.WriteJSON(deskproto.ClientFrame{Type: "start", Start: json.RawMessage(`{"customer":{"name":"ws"}}`)})
	var chatID, token string
	for chatID == "" {
		f, err := read()
		if err != nil {
			return err
		}
		if f.Type == "welcome" {
			chatID, token = f.Chat.ChatID, f.ChatToken
		}
	}
	half := msgs / 2
	if err := exchange(0, half); err != nil {
		return err
	}
	// Send one more and leave before its echo: the resume must bring it.
	send(half)
	_ = conn.Close()
	if err := dial(); err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.WriteJSON(deskproto.ClientFrame{Type: "hello", ChatID: chatID, ChatToken: token, LastSeq: last})
	for echoed := false; !echoed; {
		f, err := read()
		if err != nil {
			return err
		}
		echoed = f.Type == "event" && f.Event.Type == deskproto.EventAgentMessage
	}
	return exchange(half+1, msgs)
}

func countType(evs []deskproto.Event, typ deskproto.EventType) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// call is a goroutine-safe request helper: errors instead of t.Fatal.
func (h *harness) call(ctx context.Context, method, path, token string, body any, hdr []string, out any) error {
	var rd *strings.Reader
	if body != nil {
		rd = strings.NewReader(string(mustJSON(body)))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequestWithContext(ctx, method, h.srv.URL+path, rd)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var eb deskproto.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&eb)
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, eb.Error.Code)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}
