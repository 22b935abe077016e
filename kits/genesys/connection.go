package genesys

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/genesys/internal/wire"
)

// open starts the guest WebSocket. Every connection sends configureSession
// with the session token (a resume after the first), and every connection
// after the first fills the gap from the history.
func (d *desk) open() error {
	if err := d.OpenSocket(d.socketConfig); err != nil {
		return fmt.Errorf("genesys: open: %w", err)
	}
	return nil
}

// socketConfig is the guest WebSocket's.
func (d *desk) socketConfig() stream.SocketConfig {
	cfg := d.k.cfg
	var header http.Header
	if cfg.Origin != "" {
		header = http.Header{"Origin": {cfg.Origin}}
	}
	// An ended chat's connection may still be closing when the next
	// chat's is configured: its frames and its end must not touch that chat.
	current := d.sockets.Next()
	return stream.SocketConfig{
		URL:    d.k.wsURL,
		Header: header,
		Dialer: cfg.Dialer,
		OnOpen: func(ctx context.Context, first bool, send func([]byte) error) error {
			req := map[string]any{"action": "configureSession", "token": d.token(), "deploymentId": cfg.DeploymentID, "startNew": false, "tracingId": "configure-" + vendorkit.NewUUID()}
			jwt, err := d.sessionJWT(ctx, first)
			if err != nil {
				return err
			}
			if jwt != "" {
				req["action"], req["data"] = "configureAuthenticatedSession", map[string]string{"code": jwt}
			}
			b, _ := json.Marshal(req)
			return send(b)
		},
		OnMessage: func(b []byte) {
			if current() {
				d.onFrame(b)
			}
		},
		OnState:      d.onState(current, d.recovery.Handle(&d.Life)),
		PingInterval: cfg.EchoInterval,
		Heartbeat: func() []byte {
			b, _ := json.Marshal(map[string]any{"action": "echo", "token": d.token(), "tracingId": vendorkit.NewUUID(),
				"message": map[string]any{"type": "Text", "text": "ping", "metadata": map[string]string{"customMessageId": wire.HealthCheckID}}})
			return b
		},
		Backoff: cfg.Backoff,
		Logger:  d.log,
	}
}

func (d *desk) awaitReady(ctx context.Context) error {
	for {
		d.mu.Lock()
		ready := d.ready
		d.mu.Unlock()
		ended := d.Ended()
		if ended {
			return errEnded
		}
		select {
		case <-ready:
			d.mu.Lock()
			same := ready == d.ready
			d.mu.Unlock()
			ended := d.Ended()
			if ended {
				return errEnded
			}
			if same {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// onState forgets the session's configuration when the current
// connection is lost (the next one configures it again), then hands over
// to next; a connection no longer current changes nothing.
func (d *desk) onState(current func() bool, next func(bool, error)) func(bool, error) {
	return func(up bool, err error) {
		if !current() {
			return
		}
		if !up {
			d.mu.Lock()
			select {
			case <-d.ready:
				d.ready = make(chan struct{})
			default:
			}
			d.mu.Unlock()
		}
		next(up, err)
	}
}

// onFrame routes one frame: answers to their request, upload outcomes to
// their upload, outbound messages through the gap filler, session events
// to the callbacks. Unknown classes are logged and ignored.
func (d *desk) onFrame(b []byte) {
	env, err := wire.DecodeFrame(b)
	if err != nil {
		d.log.Warn("genesys: ignored a frame that does not decode", "err", err)
		return
	}
	if env.TracingID != "" {
		d.mu.Lock()
		ch := d.pending[env.TracingID]
		d.mu.Unlock()
		if ch != nil {
			select {
			case ch <- env:
			default:
			}
			if env.Class != wire.ClassStructuredMessage {
				return
			}
		}
	}
	switch env.Class {
	case wire.ClassSessionResponse:
		d.onSession(env)
	case wire.ClassStructuredMessage:
		var m wire.Message
		if err := json.Unmarshal(env.Body, &m); err != nil {
			d.log.Warn("genesys: ignored a message that does not decode", "err", err)
			return
		}
		if m.Direction == wire.DirectionOutbound {
			d.gap.Live(m)
		}
	case wire.ClassUploadSuccess, wire.ClassUploadFailure:
		var r wire.UploadResult
		_ = json.Unmarshal(env.Body, &r)
		d.mu.Lock()
		ch := d.uploads[r.AttachmentID]
		d.mu.Unlock()
		if ch != nil {
			select {
			case ch <- env:
			default:
			}
		}
	case wire.ClassSessionExpired, wire.ClassSessionCleared, wire.ClassLogout:
		d.log.Info("genesys: session over", "class", env.Class)
		d.over("")
	case wire.ClassConnectionClosed:
		// Another connection took the session over: this one is done.
		d.log.Info("genesys: connection closed by Genesys", "body", string(env.Body))
		d.over("")
	case wire.ClassJwtResponse, wire.ClassPresignedURL, wire.ClassString, wire.ClassTooManyRequests, wire.ClassGenerateURLError, wire.ClassAttachmentDeleted:
		// Answers whose request gave up waiting.
	default:
		d.log.Info("genesys: ignored an unknown frame", "class", env.Class, "type", env.Type)
	}
}

// onSession handles configureSession's (or configureAuthenticatedSession's)
// answer.
func (d *desk) onSession(env wire.Envelope) {
	var s wire.SessionResponse
	if env.Code != 200 || json.Unmarshal(env.Body, &s) != nil {
		d.log.Warn("genesys: configureSession refused", "code", env.Code, "body", string(env.Body))
		switch env.Code {
		case 4006, 4007, http.StatusUnauthorized, http.StatusForbidden:
			// The session is gone, or its customer's JWT is refused.
			d.over("")
		}
		return
	}
	d.mu.Lock()
	resumed := d.st.Joined || d.st.LastMessageID != ""
	first := !d.configured
	d.session, d.configured = s, true
	d.mu.Unlock()
	if s.ReadOnly || (s.NewSession && resumed) {
		// The conversation is over, or Genesys forgot the session.
		d.over("")
		return
	}
	if first {
		d.Callback.UpdateCapabilities(capabilities(s).FullUpdate())
	}
	d.mu.Lock()
	select {
	case <-d.ready:
	default:
		close(d.ready)
	}
	d.mu.Unlock()
}

// sessionJWT returns the JWT that configures an authenticated session on a
// new connection, "" for a guest: the one StartChat got on the first
// connection, a renewed one on later connections and after a restart.
// A refresh token Genesys refuses ends the chat: the session cannot be
// configured again.
func (d *desk) sessionJWT(ctx context.Context, first bool) (string, error) {
	d.mu.Lock()
	jwt, refresh := d.jwt, d.st.RefreshToken
	d.mu.Unlock()
	if refresh == "" || (first && jwt != "") {
		return jwt, nil
	}
	jwt, err := d.k.renew(ctx, refresh)
	if err != nil {
		if !servicedesk.IsTemporary(err) {
			d.log.Warn("genesys: the authenticated session's refresh token was refused", "err", err)
			d.over("")
		}
		return "", err
	}
	d.mu.Lock()
	d.jwt = jwt
	d.mu.Unlock()
	return jwt, nil
}
