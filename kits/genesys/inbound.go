package genesys

import (
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/genesys/internal/wire"
)

// deliver acts on one outbound message, in order.
func (d *desk) deliver(m wire.Message) {
	d.mu.Lock()
	d.st.LastMessageID = m.ID
	d.mu.Unlock()
	ended := d.Ended()
	if err := d.Callback.UpdatePersistedState(map[string]any{"last_message_id": m.ID}); err != nil {
		d.log.Warn("genesys: persist state", "err", err)
	}
	if ended {
		return
	}
	switch m.Type {
	case "Text", "Structured":
		d.onText(m)
	case "Event":
		for _, e := range m.Events {
			d.onEvent(m, e)
		}
	default:
		d.log.Info("genesys: ignored a message type", "type", m.Type)
	}
}

func (d *desk) profile(m wire.Message) servicedesk.AgentProfile {
	p := servicedesk.AgentProfile{UserType: servicedesk.UserHuman}
	if m.OriginatingEntity == "Bot" {
		p.UserType = servicedesk.UserBot
	}
	if m.Channel != nil && m.Channel.From != nil {
		f := m.Channel.From
		p.Nickname = f.Nickname
		if p.Nickname == "" {
			p.Nickname = strings.TrimSpace(f.FirstName + " " + f.LastName)
		}
		p.ProfilePictureURL = f.Image
	}
	p.ID = p.Nickname
	if p.ID == "" {
		p.ID = "agent"
	}
	if fn := d.k.cfg.AgentProfile; fn != nil {
		p = fn(d.Life.Context(), p)
	}
	return p
}

func (d *desk) join(m wire.Message) servicedesk.AgentProfile {
	p := d.profile(m)
	d.mu.Lock()
	first := !d.st.Joined
	d.st.Joined = true
	d.mu.Unlock()
	d.Join()
	if first {
		_ = d.Callback.UpdatePersistedState(map[string]any{"joined": true})
	}
	d.Callback.AgentJoined(p)
	return p
}

func (d *desk) onText(m wire.Message) {
	joined := d.Joined()
	human := m.OriginatingEntity != "Bot" && m.Channel != nil && m.Channel.From != nil
	if !joined && !human {
		d.mu.Lock()
		d.lastText = m.Text
		d.mu.Unlock()
		d.Callback.UpdateAgentAvailability(servicedesk.AgentAvailability{Message: m.Text})
		return
	}
	d.AgentTyping.Off()
	var p servicedesk.AgentProfile
	if !joined {
		// A human answered without a Join event first: that is the join.
		p = d.join(m)
	} else {
		p = d.profile(m)
	}
	d.Callback.SendMessageToUser(toResponse(m), p.ID)
}

func (d *desk) onEvent(m wire.Message, e wire.Event) {
	switch {
	case e.EventType == wire.EventTypeTyping && e.Typing != nil && e.Typing.Type == "On":
		dur := time.Duration(e.Typing.Duration) * time.Millisecond
		if dur <= 0 {
			dur = 5 * time.Second
		}
		d.AgentTyping.On(dur)
	case e.EventType == wire.EventTypePresence && e.Presence != nil && e.Presence.Type == wire.PresenceJoin:
		if m.Channel != nil && m.Channel.From != nil {
			d.join(m)
		}
	case e.EventType == wire.EventTypePresence && e.Presence != nil && e.Presence.Type == wire.PresenceDisconnect:
		d.over("")
	default:
		d.log.Info("genesys: ignored an unknown event", "event_type", e.EventType)
	}
}
