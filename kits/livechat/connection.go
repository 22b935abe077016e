package livechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/livechat/internal/wire"
)

// errAmbiguous: a request was written but its answer never came (the
// connection went, or LiveChat stayed silent): it may have been carried
// out.
var errAmbiguous = fmt.Errorf("livechat: no answer to a request that was sent: %w", servicedesk.ErrUnavailable)

// open starts the chat's RTM socket: every connection logs in (within
// LiveChat's 30 s) with a fresh enough customer token, pings every
// PingInterval, and every connection after the first fills the gap.
func (d *desk) open() error {
	if err := d.OpenSocket(d.socketConfig); err != nil {
		return fmt.Errorf("livechat: open: %w", err)
	}
	return nil
}

func (d *desk) socketConfig() stream.SocketConfig {
	cfg := d.k.cfg
	d.mu.Lock()
	d.conn++
	conn := d.conn
	d.opened = 0
	d.mu.Unlock()
	// A chat's socket outlives it a little (it is stopped off the engine's
	// goroutine): what it reports then is not the next chat's.
	current := func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.conn == conn
	}
	return stream.SocketConfig{
		URL:    d.k.rtm,
		Dialer: cfg.Dialer,
		OnOpen: func(ctx context.Context, _ bool, send func([]byte) error) error {
			d.mu.Lock()
			if d.conn == conn {
				d.opened++
			}
			d.mu.Unlock()
			tok, err := d.customerToken(ctx)
			if err != nil {
				return err
			}
			d.mu.Lock()
			payload := map[string]any{"token": "Bearer " + tok}
			if len(d.login) > 0 {
				payload["customer"] = d.login
			}
			if g := cfg.GroupID; g != 0 {
				payload["group_id"] = g
			}
			d.mu.Unlock()
			b, err := json.Marshal(wire.Request{RequestID: "login-" + vendorkit.NewUUID(), Action: "login", Payload: payload})
			if err != nil {
				return fmt.Errorf("livechat: login: %w", err)
			}
			return send(b)
		},
		OnMessage: func(b []byte) {
			if current() {
				d.onFrame(b)
			}
		},
		OnState: func(up bool, err error) {
			if !current() {
				return
			}
			if !up {
				d.chatGate().Reset()
				d.calls.Abort(errAmbiguous)
			}
			d.recovery.Handle(&d.Life)(up, err)
		},
		PingInterval: cfg.PingInterval,
		Heartbeat: func() []byte {
			return []byte(`{"action":"ping","payload":{}}`)
		},
		Backoff: cfg.Backoff,
		Logger:  d.log,
	}
}

// request sends one request and returns its answer's payload, retrying
// what is temporary (rate limits, LiveChat's unavailability, a lost
// connection) on the chat's connection once it is logged in again. Only
// requests that are safe to repeat go through it; send_event checks
// before it repeats (sendEvent).
func (d *desk) request(ctx context.Context, action string, payload any) (json.RawMessage, error) {
	return d.retried(ctx, action, payload, servicedesk.IsTemporary)
}

// requestOnce is request for a request that must not be carried out twice:
// it is not repeated once it was sent without an answer.
func (d *desk) requestOnce(ctx context.Context, action string, payload any) (json.RawMessage, error) {
	return d.retried(ctx, action, payload, func(err error) bool {
		return servicedesk.IsTemporary(err) && !errors.Is(err, errAmbiguous)
	})
}

func (d *desk) retried(ctx context.Context, action string, payload any, retryable func(error) bool) (json.RawMessage, error) {
	var out json.RawMessage
	g := d.chatGate()
	err := retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries, Retryable: retryable}.Do(ctx, func(attempt int) error {
		var err error
		out, err = d.call(ctx, g, action, payload)
		if err != nil && !errors.Is(err, errEnded) {
			d.log.Info("livechat: request failed", "action", action, "err", err, "attempt", attempt)
		}
		return err
	})
	return out, err
}

// call sends one request of the chat whose gate is g, once, and waits for
// its answer.
func (d *desk) call(ctx context.Context, g *stream.Gate, action string, payload any) (json.RawMessage, error) {
	if err := g.Wait(ctx); err != nil {
		return nil, fmt.Errorf("livechat: %s: %w", action, err)
	}
	s := d.Socket.Get()
	if s == nil {
		return nil, fmt.Errorf("livechat: %s: %w", action, errEnded)
	}
	id := vendorkit.NewUUID()
	b, err := json.Marshal(wire.Request{RequestID: id, Action: action, Payload: payload})
	if err != nil {
		return nil, fmt.Errorf("livechat: %s: encode: %w", action, err)
	}
	c := d.calls.Begin(id)
	defer c.Done()
	if err := s.Send(ctx, b); err != nil {
		if errors.Is(err, stream.ErrSocketClosed) {
			return nil, fmt.Errorf("livechat: %s: %w", action, errEnded)
		}
		return nil, fmt.Errorf("livechat: %s: %w: %w", action, servicedesk.ErrUnavailable, err)
	}
	f, err := c.Wait(ctx, d.k.cfg.RequestTimeout)
	switch {
	case errors.Is(err, stream.ErrNoAnswer):
		return nil, fmt.Errorf("livechat: %s: %w", action, errAmbiguous)
	case err != nil:
		return nil, fmt.Errorf("livechat: %s: %w", action, err)
	}
	if !f.Success {
		return nil, rtmError(action, f.Payload)
	}
	return f.Payload, nil
}

func rtmError(action string, payload json.RawMessage) error {
	var eb wire.ErrorBody
	_ = json.Unmarshal(payload, &eb)
	if eb.Error.Type == "" {
		eb.Error.Type = "internal"
	}
	return &Error{Action: action, Type: eb.Error.Type, Message: eb.Error.Message}
}

func decode(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return errors.New("an empty payload")
	}
	return json.Unmarshal(raw, v)
}

// onFrame routes one frame: the login's answer opens the gate, other
// answers go to their request, pushes to their handler.
func (d *desk) onFrame(b []byte) {
	f, err := wire.DecodeFrame(b)
	if err != nil {
		d.log.Warn("livechat: ignored a frame that does not decode", "err", err)
		return
	}
	if f.Type == wire.TypeResponse {
		if f.Action == "login" {
			d.onLogin(f)
			return
		}
		if f.Success && (f.Action == "start_chat" || f.Action == "resume_chat") {
			// Follow the chat from here, before the next push is read.
			d.following(f)
		}
		if f.RequestID != "" {
			d.calls.Answer(f.RequestID, f)
		}
		return
	}
	d.onPush(f)
}

// onLogin takes the login's answer: success opens the connection to
// requests; an authentication error marks the token stale, so that the
// next connection gets a new one.
func (d *desk) onLogin(f wire.Frame) {
	if f.Success {
		d.chatGate().Open()
		return
	}
	err := rtmError("login", f.Payload)
	d.log.Warn("livechat: login refused", "err", err)
	var le *Error
	if errors.As(err, &le) {
		switch le.Type {
		case "authentication", "authorization":
			d.mu.Lock()
			d.staleToken = true
			d.mu.Unlock()
		case "license_expired", "customer_banned", "wrong_product_version", "unsupported_version":
			d.over(le.Reason())
		}
	}
}

// following records the chat a start_chat or resume_chat answer names, on
// the read goroutine, so that the pushes right behind it count as its;
// then it takes the pushes that came before the answer, in the order
// they came.
func (d *desk) following(f wire.Frame) {
	var sc wire.StartChat
	if json.Unmarshal(f.Payload, &sc) != nil {
		return
	}
	d.mu.Lock()
	if sc.ChatID == "" {
		sc.ChatID = d.pendingChat
	}
	if sc.ChatID == "" {
		d.mu.Unlock()
		return
	}
	d.st.ChatID, d.st.ThreadID = sc.ChatID, sc.ThreadID
	early := d.early
	d.starting, d.early = false, nil
	d.mu.Unlock()
	for _, p := range early {
		d.onPush(p)
	}
}

// holdEarly keeps, while a start_chat or resume_chat is unanswered, a push
// that names a chat: LiveChat promises no order between a response and
// the pushes of what the request set going (the chat's queue position, an
// agent joining it), and there are no retries of pushes. following
// replays them once the answer names the chat.
func (d *desk) holdEarly(f wire.Frame) bool {
	d.mu.Lock()
	waiting := d.starting && d.st.ChatID == ""
	d.mu.Unlock()
	if !waiting {
		return false
	}
	var p struct {
		ChatID string `json:"chat_id"`
	}
	if json.Unmarshal(f.Payload, &p) != nil || p.ChatID == "" {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.starting || d.st.ChatID != "" {
		return false // answered meanwhile: the push is handled as any other
	}
	if len(d.early) == maxEarly {
		d.log.Warn("livechat: too many pushes before the chat's start was answered; one dropped", "action", f.Action)
		return true
	}
	d.early = append(d.early, f)
	return true
}

// startAnswered ends the wait for a start_chat or resume_chat answer:
// pushes held for a chat no answer named are dropped.
func (d *desk) startAnswered() {
	d.mu.Lock()
	d.starting, d.early = false, nil
	d.mu.Unlock()
}
