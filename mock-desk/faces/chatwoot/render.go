package chatwootface

import (
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// renderer turns a chat's events, in order, into what Chatwoot shows the
// contact: messages, and the cable's events.
type renderer struct {
	f  *Face
	c  *conversation
	in *facekit.InChat
}

func newRenderer(f *Face, c *conversation, agent *servicedesk.AgentProfile) *renderer {
	return &renderer{f: f, c: c, in: facekit.NewInChat(agent)}
}

// person is a user's push_event_data (an agent bot's for a bot).
func (r *renderer) person(p servicedesk.AgentProfile) map[string]any {
	typ := "user"
	if p.UserType == servicedesk.UserBot {
		typ = "agent_bot"
	}
	return map[string]any{"id": r.f.user(p), "name": p.Nickname, "available_name": p.Nickname, "avatar_url": p.ProfilePictureURL,
		"thumbnail": p.ProfilePictureURL, "type": typ, "availability_status": "online"}
}

// message is an agent message event as a Chatwoot message (outgoing); its
// id grows with the event's seq.
func (r *renderer) message(e deskproto.Event) map[string]any {
	if e.Type != deskproto.EventAgentMessage || e.Message == nil {
		return nil
	}
	var texts []string
	var atts, actions []any
	for _, it := range e.Message.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseText:
			texts = append(texts, it.Text)
		case servicedesk.ResponseImage:
			atts = append(atts, map[string]any{"id": len(atts) + 1, "file_type": "image", "data_url": it.Source, "thumb_url": it.Source, "file_size": 0})
		case servicedesk.ResponseButton:
			if it.URL != "" {
				actions = append(actions, map[string]any{"type": "link", "text": it.Label, "uri": it.URL})
			} else {
				texts = append(texts, it.Label)
			}
		default:
			if t := strings.TrimSpace(servicedesk.NewResponse(it).PlainText()); t != "" {
				texts = append(texts, t)
			}
		}
	}
	ts := e.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	m := map[string]any{"id": r.c.msgID(e.Seq, 0), "content": strings.Join(texts, "\n\n"), "message_type": 1, "content_type": "text",
		"content_attributes": map[string]any{}, "created_at": ts.Unix(), "conversation_id": r.c.id}
	if len(atts) > 0 {
		m["attachments"] = atts
	}
	if len(actions) > 0 {
		// Link buttons as Chatwoot's interactive "cards" message.
		m["content_type"] = "cards"
		m["content_attributes"] = map[string]any{"items": []any{map[string]any{"title": "", "description": "", "actions": actions}}}
	}
	agent := e.Agent
	if agent == nil {
		agent = r.in.Agent()
	}
	if agent != nil {
		m["sender"] = r.person(*agent)
	}
	return m
}

// conv is a conversation's push_event_data with its assignee.
func (r *renderer) conv(status string, assignee *servicedesk.AgentProfile) map[string]any {
	var a any
	if assignee != nil {
		a = r.person(*assignee)
	}
	return map[string]any{"id": r.c.id, "inbox_id": 1, "status": status, "can_reply": true, "channel": "Channel::Api",
		"meta": map[string]any{"assignee": a, "sender": map[string]any{"id": r.c.contact.id, "name": r.c.contact.name, "type": "contact"}}}
}

// events renders one desk event as the cable's events (name, data).
func (r *renderer) events(e deskproto.Event) [][2]any {
	defer r.in.See(e)
	switch e.Type {
	case deskproto.EventAgentMessage:
		if m := r.message(e); m != nil {
			return [][2]any{{"message.created", m}}
		}
	case deskproto.EventAgentJoined:
		// An assignment: Chatwoot sends the contact conversation.updated
		// (assignee.changed goes to agents only).
		if e.Agent != nil {
			return [][2]any{{"conversation.updated", r.conv("open", e.Agent)}}
		}
	case deskproto.EventAgentLeft:
		return [][2]any{{"conversation.updated", r.conv("open", nil)}}
	case deskproto.EventAgentTyping:
		name := "conversation.typing_off"
		if e.Typing != nil && *e.Typing {
			name = "conversation.typing_on"
		}
		if a := r.in.Agent(); a != nil {
			return [][2]any{{name, map[string]any{"conversation": r.conv("open", a), "user": r.person(*a), "is_private": false}}}
		}
	case deskproto.EventAgentEnded, deskproto.EventChatEnded:
		if e.Type == deskproto.EventChatEnded && e.EndedBy == mockdesk.EndedByAgent {
			return nil // the agent's end came as agent_ended
		}
		return [][2]any{{"conversation.status_changed", r.conv("resolved", r.in.Agent())}}
	}
	return nil
}
