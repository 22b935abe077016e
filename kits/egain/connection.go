package egain

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/kits/egain/internal/wire"
)

// open starts the session's WebSocket. Every connection's opening frame
// names the last message delivered, after which the relay replays the
// conversation: a dropped connection misses nothing, and what comes twice
// is dropped by its id.
func (d *desk) open() error {
	if err := d.OpenSocket(d.socketConfig); err != nil {
		return fmt.Errorf("egain: open: %w", err)
	}
	return nil
}

func (d *desk) socketConfig() stream.SocketConfig {
	cfg := d.k.cfg
	st := d.state()
	q := url.Values{"userId": {st.UserID}, "sessionId": {st.SessionID}, "sessionToken": {st.Token}}
	return stream.SocketConfig{
		URL:    d.k.ws + "?" + q.Encode(),
		Dialer: cfg.Dialer,
		OnOpen: func(ctx context.Context, _ bool, send func([]byte) error) error {
			st := d.state()
			b, _ := json.Marshal(wire.ClientFrame{UserID: st.UserID, SessionID: st.SessionID, CustomerID: cfg.CustomerID, SessionToken: st.Token, LastMessageID: st.LastMessageID})
			return send(b)
		},
		OnMessage:    d.onFrame,
		OnState:      d.onState,
		PingInterval: cfg.PingInterval,
		Backoff:      cfg.Backoff,
		Logger:       d.log,
	}
}

// onState reports an outage while an agent is in the chat; its end comes
// with the next connection's "connected". A handshake the relay refuses
// as unauthorized means the session is gone.
func (d *desk) onState(up bool, err error) {
	if up {
		return
	}
	d.calls.Abort(errAmbiguous)
	if status, ok := stream.HandshakeStatus(err); ok && (status == http.StatusUnauthorized || status == http.StatusForbidden) {
		d.log.Info("egain: the relay refused the session", "err", err)
		d.over("")
		return
	}
	d.mu.Lock()
	select {
	case <-d.opened:
		d.opened = make(chan struct{})
	default:
	}
	report := err != nil && !d.down && d.AgentIn()
	d.down = d.down || report
	d.mu.Unlock()
	if report {
		d.ReportOutage(true)
	}
}

// onFrame handles one pushed frame, on the socket's read goroutine: in
// the relay's order, each message once.
func (d *desk) onFrame(b []byte) {
	p, m, err := wire.DecodePush(b)
	if err != nil {
		d.log.Warn("egain: ignored a frame that does not decode", "err", err)
		return
	}
	if tok := d.state().Token; p.Authorization != tok {
		// The starter kit's rule: a frame without the session's token is
		// not the session's.
		d.log.Warn("egain: ignored a frame without the session's authorization")
		return
	}
	switch {
	case p.MessageID != "" && m == nil:
		d.calls.Answer(p.MessageID, p)
	case p.Status == wire.StatusConnected:
		d.connected()
	case p.Status == wire.StatusEnded, p.Status == wire.StatusBadSession:
		d.over("")
	case m != nil:
		d.deliver(*m)
	default:
		d.log.Info("egain: ignored a status", "status", p.Status)
	}
}

// connected marks the connection's replay done: the outage, if one was
// reported, is over, and waiters go on.
func (d *desk) connected() {
	d.mu.Lock()
	select {
	case <-d.opened:
	default:
		close(d.opened)
	}
	wasDown := d.down
	d.down = false
	d.mu.Unlock()
	if wasDown && !d.Ended() {
		d.ReportOutage(false)
	}
}

// over ends the chat from the desk's side.
func (d *desk) over(reason string) {
	d.mu.Lock()
	reason = cmp.Or(reason, d.refusal)
	d.mu.Unlock()
	d.EndedByDesk(reason, false) // quiet during a Reconnect
	d.connected()
	d.calls.Abort(errEnded)
}

// errAmbiguous: an action's answer did not come; it may have been taken.
// Its retry carries the same messageId, which the relay takes once.
var errAmbiguous = fmt.Errorf("egain: no answer: %w", servicedesk.ErrUnavailable)

// act sends one customer action and waits for the relay's answer,
// retrying what is temporary (the same messageId every time).
func (d *desk) act(ctx context.Context, fr wire.ClientFrame) error {
	st := d.state()
	fr.SessionID, fr.CustomerID, fr.SessionToken = st.SessionID, d.k.cfg.CustomerID, st.Token
	b, err := json.Marshal(fr)
	if err != nil {
		return fmt.Errorf("egain: %s: encode: %w", fr.Type, err)
	}
	return d.k.policy().Do(ctx, func(attempt int) error {
		err := d.actOnce(ctx, fr, b)
		if err != nil && !errors.Is(err, errEnded) {
			d.log.Debug("egain: action failed", "type", fr.Type, "attempt", attempt, "err", err)
		}
		return err
	})
}

func (d *desk) actOnce(ctx context.Context, fr wire.ClientFrame, b []byte) error {
	if d.Ended() {
		return fmt.Errorf("egain: %s: %w", fr.Type, errEnded)
	}
	d.mu.Lock()
	opened := d.opened
	d.mu.Unlock()
	select {
	case <-opened:
	case <-ctx.Done():
		return fmt.Errorf("egain: %s: %w", fr.Type, ctx.Err())
	}
	s := d.Socket.Get()
	if s == nil || d.Ended() {
		return fmt.Errorf("egain: %s: %w", fr.Type, errEnded)
	}
	c := d.calls.Begin(fr.MessageID)
	defer c.Done()
	if err := s.Send(ctx, b); err != nil {
		if errors.Is(err, stream.ErrSocketClosed) {
			return fmt.Errorf("egain: %s: %w", fr.Type, errEnded)
		}
		return fmt.Errorf("egain: %s: %w: %w", fr.Type, servicedesk.ErrUnavailable, err)
	}
	p, err := c.Wait(ctx, d.k.cfg.RequestTimeout)
	switch {
	case errors.Is(err, stream.ErrNoAnswer):
		return fmt.Errorf("egain: %s: %w", fr.Type, errAmbiguous)
	case err != nil:
		return fmt.Errorf("egain: %s: %w", fr.Type, err)
	case p.Error != nil:
		return &Error{Op: fr.Type, Code: p.Error.Code, Message: p.Error.Message, RetryAfter: time.Duration(p.Error.RetryAfter) * time.Second}
	}
	return nil
}

// Error is the relay's refusal of a customer action.
type Error struct {
	Op, Code, Message string
	RetryAfter        time.Duration
}

func (e *Error) Error() string {
	return "egain: " + e.Op + ": " + e.Code + " " + e.Message
}

// ErrorCode implements servicedesk.Coder: 429 rate limited, 5xx
// unavailable, 404 and 409 (the conversation is over) not found, the rest
// rejected.
func (e *Error) ErrorCode() servicedesk.ErrorCode {
	n, _ := strconv.Atoi(e.Code)
	switch {
	case n == 429:
		return servicedesk.CodeRateLimited
	case n >= 500:
		return servicedesk.CodeUnavailable
	case n == 404 || n == 409:
		return servicedesk.CodeNotFound
	}
	return servicedesk.CodeRejected
}

// Unwrap returns the servicedesk sentinel of the error's kind.
func (e *Error) Unwrap() error { return e.ErrorCode().Err() }

// RetryDelay implements retry.Delayer: the answer's retryAfter.
func (e *Error) RetryDelay() time.Duration { return e.RetryAfter }
