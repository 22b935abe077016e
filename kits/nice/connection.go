package nice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/nice/internal/wire"
)

// errAmbiguous: a request was written but its answer never came (the
// connection went, or the gateway stayed silent): it may have been
// carried out.
var errAmbiguous = fmt.Errorf("nice: no answer to a request that was sent: %w", servicedesk.ErrUnavailable)

// heartbeat is the SDK's application heartbeat; the gateway answers
// "pong".
var heartbeat = []byte(`{"action":"heartbeat"}`)

// open starts the chat's gateway socket: a guest's connection is ready at
// once, an authorized customer's once its ReconnectConsumer (with the
// token it has) or AuthorizeCustomer (with a new authorization code) is
// answered; every connection after the first fills the gap.
func (d *desk) open() error {
	if err := d.OpenSocket(d.socketConfig); err != nil {
		return fmt.Errorf("nice: open: %w", err)
	}
	return nil
}

func (d *desk) socketConfig() stream.SocketConfig {
	cfg := d.k.cfg
	current := d.sockets.Next()
	d.mu.Lock()
	d.opened = 0
	d.mu.Unlock()
	guest := ""
	if !d.authorized() {
		guest = d.st.State().CustomerID
	}
	return stream.SocketConfig{
		URL:    d.k.gatewayURL(guest),
		Dialer: cfg.Dialer,
		OnOpen: func(ctx context.Context, _ bool, send func([]byte) error) error {
			if !current() {
				return errEnded
			}
			d.mu.Lock()
			d.opened++
			d.mu.Unlock()
			if !d.authorized() {
				d.chatGate().Open()
				return nil
			}
			return d.authorize(ctx, send)
		},
		OnMessage: func(b []byte) {
			if current() {
				d.onFrame(b, current)
			}
		},
		OnState: func(up bool, err error) {
			if current() {
				d.connected(up, err)
			}
		},
		PingInterval: cfg.PingInterval,
		Heartbeat:    func() []byte { return heartbeat },
		Backoff:      cfg.Backoff,
		Logger:       d.log,
	}
}

// connected follows the connection: a lost one holds the requests until
// the next is ready and fails those waiting for an answer (they may have
// been carried out); the recovery reports the outage and fills the gap.
func (d *desk) connected(up bool, err error) {
	if !up {
		d.chatGate().Reset()
		d.calls.Abort(errAmbiguous)
	}
	d.recovery.Handle(&d.Life)(up, err)
}

// authorize sends the connection's authorization: ReconnectConsumer while
// the customer's token is good, else AuthorizeCustomer (the register
// action) with a new authorization code.
func (d *desk) authorize(ctx context.Context, send func([]byte) error) error {
	d.mu.Lock()
	tok, id := d.token, vendorkit.NewUUID()
	good := tok.Token != "" && time.Now().Before(d.tokenDue)
	d.authEvent = id
	d.mu.Unlock()
	var req wire.Request
	if good {
		req = d.frame(id, wire.ReconnectConsumer, map[string]any{"accessToken": wire.Token{Token: tok.Token}})
	} else {
		code, err := d.k.cfg.AuthorizationCode(ctx, d.st.State().VerifiedID)
		if err != nil {
			return fmt.Errorf("nice: authorization code: %w", err)
		}
		req = d.frame(id, wire.AuthorizeCustomer, map[string]any{"authorization": map[string]string{"authorizationCode": code}, "disableChannelInfo": true, "sdkPlatform": "web"})
		req.Action = wire.ActionRegister
	}
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("nice: %s: encode: %w", req.Payload.EventType, err)
	}
	d.log.Debug("nice: authorizing the connection", "event", req.Payload.EventType)
	return send(b)
}

// frame is a chat window event of the session's customer.
func (d *desk) frame(id, eventType string, data map[string]any) wire.Request {
	d.mu.Lock()
	ident := d.identity
	d.mu.Unlock()
	ident.ID = d.st.State().CustomerID
	return wire.Request{Action: wire.ActionEvent, EventID: id, Payload: wire.Payload{EventType: eventType,
		Brand: wire.Brand{ID: d.k.cfg.BrandID}, Channel: wire.Channel{ID: d.k.cfg.ChannelID}, ConsumerIdentity: ident, Data: data}}
}

// onAuthorized takes the answer to the connection's authorization: the
// customer's identity and token, or a refusal. A refused token makes the
// next connection authorize anew; a refused code ends the chat's
// requests with CXone's reason.
func (d *desk) onAuthorized(f wire.Frame) {
	d.log.Debug("nice: authorization answered", "event", f.EventType, "error", f.Error != nil)
	if f.Error != nil {
		err := frameError("authorize", f.Error)
		d.log.Warn("nice: authorization refused", "err", err)
		if tok := d.currentToken(); tok != "" { // ReconnectConsumer's token
			d.reauthorize(tok)
			return
		}
		d.chatGate().Shut(fmt.Errorf("nice: the authorization code was refused: %s: %w", err.Reason(), servicedesk.ErrRejected))
		return
	}
	if f.EventType == wire.ConsumerAuthorized {
		var a wire.Authorized
		if err := json.Unmarshal(f.Data, &a); err != nil || a.AccessToken.Token == "" || a.ConsumerIdentity.ID == "" {
			d.log.Warn("nice: ConsumerAuthorized without identity or token", "err", err)
			d.reauthorize(d.currentToken())
			return
		}
		d.setToken(a.AccessToken)
		if d.st.State().CustomerID != a.ConsumerIdentity.ID {
			d.st.Update(func(s *saved) { s.CustomerID = a.ConsumerIdentity.ID })
		}
	}
	d.chatGate().Open()
}

func (d *desk) currentToken() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.token.Token
}

// reauthorize drops a token CXone refused, and the connection with it,
// so that the next connection authorizes anew; a token a refresh
// replaced meanwhile stays.
func (d *desk) reauthorize(refused string) {
	d.mu.Lock()
	stale := d.token.Token == refused
	if stale {
		d.token = wire.Token{}
	}
	d.mu.Unlock()
	if s := d.Socket.Get(); stale && s != nil {
		s.Drop()
	}
}

// setToken keeps a new access token and when to refresh it: after 90 %
// of its life, as the SDK does.
func (d *desk) setToken(t wire.Token) {
	life := time.Duration(t.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	d.mu.Lock()
	d.token, d.tokenDue = t, time.Now().Add(life*9/10)
	d.mu.Unlock()
	d.refresh.Do(func() { d.Life.Go(d.refresher) })
	select {
	case d.tokenKick <- struct{}{}:
	default:
	}
}

// refresher renews the access token when it is due (RefreshToken), so
// that it never expires while the chat goes on.
func (d *desk) refresher() {
	ctx := d.Life.Context()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		d.mu.Lock()
		due, tok := d.tokenDue, d.token.Token
		d.mu.Unlock()
		wait := time.Hour
		if tok != "" {
			wait = max(time.Until(due), 0)
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.tokenKick:
			continue
		case <-t.C:
		}
		if tok == "" {
			continue
		}
		if err := d.refreshToken(ctx, tok); err != nil && ctx.Err() == nil {
			d.log.Warn("nice: token refresh failed", "err", err)
			d.mu.Lock()
			switch {
			case d.token.Token != tok:
			case errors.Is(err, errEnded):
				d.token = wire.Token{} // the chat is over: nothing to renew
			default:
				d.tokenDue = time.Now().Add(d.k.cfg.Backoff.Max)
			}
			d.mu.Unlock()
		}
	}
}

// refreshToken trades tok for a new token.
func (d *desk) refreshToken(ctx context.Context, tok string) error {
	f, err := d.call(ctx, d.chatGate(), wire.RefreshToken, map[string]any{"accessToken": wire.Token{Token: tok}})
	if err != nil {
		return err // a refused token is dropped by call
	}
	var r wire.Refreshed
	if err := json.Unmarshal(f.Data, &r); err != nil || r.AccessToken.Token == "" {
		return fmt.Errorf("nice: TokenRefreshed without a token: %w", servicedesk.ErrUnavailable)
	}
	d.setToken(r.AccessToken)
	return nil
}

// request sends one event and returns its answer, retrying what is
// temporary (rate limits, unavailability, a lost connection) on the
// chat's connection once it is ready again. Only events that are safe to
// repeat go through it; SendMessage checks before it repeats.
func (d *desk) request(ctx context.Context, eventType string, data map[string]any) (wire.Frame, error) {
	var out wire.Frame
	g := d.chatGate()
	err := retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries}.Do(ctx, func(attempt int) error {
		var err error
		out, err = d.call(ctx, g, eventType, data)
		if err != nil && !errors.Is(err, errEnded) {
			d.log.Info("nice: request failed", "event", eventType, "err", err, "attempt", attempt)
		}
		return err
	})
	return out, err
}

// call sends one event of the chat whose gate is g, once, and waits for
// its answer; an authorized customer's carries the access token.
func (d *desk) call(ctx context.Context, g *stream.Gate, eventType string, data map[string]any) (wire.Frame, error) {
	// The token is the connection's: read once it is authorized.
	if err := g.Wait(ctx); err != nil {
		return wire.Frame{}, fmt.Errorf("nice: %s: %w", eventType, err)
	}
	s := d.Socket.Get()
	tok := d.currentToken()
	if d.authorized() && eventType != wire.RefreshToken {
		data = withToken(data, tok)
	}
	id := vendorkit.NewUUID()
	b, err := json.Marshal(d.frame(id, eventType, data))
	if err != nil {
		return wire.Frame{}, fmt.Errorf("nice: %s: encode: %w", eventType, err)
	}
	f, err := stream.Exchange(ctx, g, s, &d.calls, id, b, d.k.cfg.RequestTimeout)
	switch {
	case errors.Is(err, stream.ErrSocketClosed):
		return wire.Frame{}, fmt.Errorf("nice: %s: %w", eventType, errEnded)
	case errors.Is(err, stream.ErrNoAnswer):
		return wire.Frame{}, fmt.Errorf("nice: %s: %w", eventType, errAmbiguous)
	case err != nil:
		return wire.Frame{}, fmt.Errorf("nice: %s: %w", eventType, err)
	}
	if f.Error != nil {
		err := frameError(eventType, f.Error)
		if err.authorization() && d.authorized() {
			d.reauthorize(tok)
		}
		return wire.Frame{}, err
	}
	return f, nil
}

// withToken is data with the access token (data.accessToken), a copy.
func withToken(data map[string]any, tok string) map[string]any {
	out := maps.Clone(data)
	if out == nil {
		out = map[string]any{}
	}
	out["accessToken"] = wire.Token{Token: tok}
	return out
}

// onFrame routes one frame of the socket that current tells: the
// authorization's answer opens the gate, other answers go to their request
// by eventId, pushes to the delivery queue.
func (d *desk) onFrame(b []byte, current func() bool) {
	f, err := wire.DecodeFrame(b)
	if err != nil {
		d.log.Warn("nice: ignored a frame that does not decode", "err", err)
		return
	}
	if f.Pong {
		return
	}
	d.mu.Lock()
	auth := f.EventID != "" && f.EventID == d.authEvent
	d.mu.Unlock()
	switch {
	case auth:
		d.onAuthorized(f)
	case f.EventID != "" && d.calls.Answer(f.EventID, f):
	case f.Error != nil:
		d.log.Info("nice: an error frame no request waits for", "err", frameError("", f.Error))
	default:
		d.onPush(f, current)
	}
}
