package amazonconnect

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/kits/amazonconnect/internal/wire"
)

// open starts the participant WebSocket. Every connection that comes up,
// the first too, is followed by a gap fill: Connect replays nothing, so
// what happened before a connection subscribed comes from GetTranscript.
func (d *desk) open() error {
	cfg := d.k.cfg
	err := d.OpenSocket(func() stream.SocketConfig {
		return stream.SocketConfig{
			URLFunc: d.websocketURL,
			Dialer:  cfg.Dialer,
			OnOpen: func(ctx context.Context, _ bool, send func([]byte) error) error {
				return send(wire.SubscribeFrame)
			},
			OnMessage:    d.onFrame,
			OnState:      d.recovery.Handle(&d.Life),
			PingInterval: cfg.HeartbeatInterval,
			Heartbeat:    func() []byte { return wire.HeartbeatFrame },
			MaxLifetime:  cfg.TransportLifetime,
			Lifetime:     d.lifetime,
			Backoff:      cfg.Backoff,
			Logger:       d.log,
		}
	})
	if err != nil {
		return fmt.Errorf("amazonconnect: open: %w", err)
	}
	return nil
}

// lifetime recycles the connection a minute before the connection token
// expires, if that comes before the transport lifetime.
func (d *desk) lifetime() time.Duration {
	life := d.k.cfg.TransportLifetime
	if exp, err := time.Parse(time.RFC3339, d.State().ConnectionExpiry); err == nil {
		if left := time.Until(exp) - time.Minute; left > 0 && left < life {
			life = left
		}
	}
	return life
}

// websocketURL asks for a fresh WebSocket URL and connection token before
// every dial: the URL must be used within 100 s, and the token is renewed
// on the way.
func (d *desk) websocketURL(ctx context.Context) (string, http.Header, error) {
	st := d.State()
	var out createConnectionResponse
	err := d.k.participant.call(ctx, "CreateParticipantConnection", "/participant/connection", st.ParticipantToken,
		createConnectionRequest{Type: []string{"WEBSOCKET", "CONNECTION_CREDENTIALS"}, ConnectParticipant: true}, &out)
	if err != nil {
		if isGone(err) {
			d.contactGone()
		}
		return "", nil, fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	if out.Websocket == nil || out.Websocket.URL == "" {
		return "", nil, fmt.Errorf("amazonconnect: CreateParticipantConnection contact=%s: no Websocket.Url", st.ContactID)
	}
	d.setCredentials(out)
	return out.Websocket.URL, nil, nil
}

func (d *desk) setCredentials(out createConnectionResponse) {
	if out.ConnectionCredentials == nil || out.ConnectionCredentials.ConnectionToken == "" {
		return
	}
	d.Merge(func(s *saved) map[string]any {
		s.ConnectionToken, s.ConnectionExpiry = out.ConnectionCredentials.ConnectionToken, out.ConnectionCredentials.Expiry
		return map[string]any{"connection_token": s.ConnectionToken, "connection_expiry": s.ConnectionExpiry}
	})
}

// fetchTranscript reads the transcript after the last item delivered
// (GetTranscript, FORWARD and ASCENDING from it), all pages.
func (d *desk) fetchTranscript(ctx context.Context) ([]wire.Item, error) {
	st := d.State()
	sp := &startPosition{ID: st.LastItemID}
	if sp.ID == "" {
		sp = &startPosition{AbsoluteTime: st.StartedAt}
	}
	req := transcriptRequest{ContactID: st.ContactID, MaxResults: 100, ScanDirection: "FORWARD", SortOrder: "ASCENDING", StartPosition: sp}
	var all []wire.Item
	for page := 0; page < 100; page++ {
		var out transcriptResponse
		if err := d.k.participant.call(ctx, "GetTranscript", "/participant/transcript", st.ConnectionToken, req, &out); err != nil {
			return nil, fmt.Errorf("contact=%s: %w", st.ContactID, err)
		}
		for _, it := range out.Transcript {
			if it.ID != st.LastItemID {
				all = append(all, it)
			}
		}
		if out.NextToken == "" {
			break
		}
		req.NextToken = out.NextToken
	}
	return all, nil
}

// onFrame reads one WebSocket frame. Frames that do not decode, and topics
// the kit does not use, are logged and ignored.
func (d *desk) onFrame(b []byte) {
	topic, it, err := wire.DecodeFrame(b)
	if err != nil {
		d.log.Warn("amazonconnect: ignored a frame that does not decode", "err", err)
		return
	}
	switch topic {
	case wire.TopicChat:
		d.gap.Live(*it)
	case wire.TopicHeartbeat, wire.TopicSubscribe, wire.TopicPing:
	default:
		d.log.Debug("amazonconnect: ignored a frame", "topic", topic)
	}
}
