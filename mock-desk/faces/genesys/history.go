package genesysface

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// The desk's events as StructuredMessages, and the history call.

// messages maps one desk event onto outbound StructuredMessages; inChat
// is the agent in the chat, for typing. It records the agents it sees for
// Agent.
func (f *Face) messages(e deskproto.Event, inChat *servicedesk.AgentProfile) []message {
	from := func(p *servicedesk.AgentProfile) *channel {
		ch := &channel{Time: wireTime(e.Time), MessageID: e.ID}
		if p != nil {
			ch.From = &participant{Nickname: p.Nickname, Image: p.ProfilePictureURL}
		}
		return ch
	}
	event := func(ev map[string]any, p *servicedesk.AgentProfile) []message {
		return []message{{ID: e.ID, Type: "Event", Direction: "Outbound", Channel: from(p), Events: []map[string]any{ev}, OriginatingEntity: "Human"}}
	}
	switch e.Type {
	case deskproto.EventAgentJoined:
		f.agents.Remember(e.Agent)
		return event(map[string]any{"eventType": "Presence", "presence": map[string]string{"type": "Join"}}, e.Agent)
	case deskproto.EventAgentTyping:
		if e.Typing == nil || !*e.Typing {
			return nil
		}
		return event(map[string]any{"eventType": "Typing", "typing": map[string]any{"type": "On", "duration": 5000}}, inChat)
	case deskproto.EventChatEnded:
		return event(map[string]any{"eventType": "Presence", "presence": map[string]string{"type": "Disconnect"}}, nil)
	case deskproto.EventError:
		return []message{{ID: e.ID, Type: "Text", Text: e.Reason, Direction: "Outbound", Channel: from(nil), OriginatingEntity: "Bot"}}
	case deskproto.EventAgentMessage:
		return []message{agentMessage(e, from(e.Agent))}
	}
	return nil
}

// agentMessage is an agent message as a Text (or, with buttons,
// Structured) message: images as Attachment content, link buttons as a
// Card's Link actions.
func agentMessage(e deskproto.Event, from *channel) message {
	m := message{ID: e.MessageID, Type: "Text", Direction: "Outbound", Channel: from, OriginatingEntity: "Human"}
	var texts []string
	for _, it := range e.Message.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseImage:
			name := it.AltText
			if name == "" {
				name = "image"
			}
			m.Content = append(m.Content, map[string]any{"contentType": "Attachment", "attachment": map[string]any{
				"id": facekit.NewID("", 8), "url": it.Source, "filename": name, "mediaType": "Image"}})
		case servicedesk.ResponseButton:
			m.Type = "Structured"
			m.Content = append(m.Content, map[string]any{"contentType": "Card", "card": map[string]any{
				"title": it.Label, "actions": []map[string]string{{"type": "Link", "text": it.Label, "url": it.URL}}}})
		default:
			if t := servicedesk.NewResponse(it).PlainText(); t != "" {
				texts = append(texts, t)
			}
		}
	}
	m.Text = strings.Join(texts, "\n\n")
	return m
}

// history is GET /api/v2/webmessaging/messages: the conversation's
// messages, newest first, in pages (pageSize, pageNumber), for the JWT's
// session.
func (f *Face) history(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	sess := f.jwts[tok]
	f.mu.Unlock()
	if sess == nil {
		apiError(w, http.StatusUnauthorized, "authentication.required", "No authentication bearer token specified in authorization header.")
		return
	}
	sess.mu.Lock()
	err := f.reachable(r.Context(), sess)
	cc := sess.chat
	sess.mu.Unlock()
	if err != nil {
		apiError(w, http.StatusServiceUnavailable, "service.unavailable", "Service unavailable")
		return
	}
	if err := f.d.RequestFault(r.Context(), mockdesk.SiteREST); err != nil {
		var fe *mockdesk.FaultError
		switch {
		case errors.As(err, &fe) && errors.Is(err, mockdesk.ErrRateLimited):
			w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
			apiError(w, http.StatusTooManyRequests, "too.many.requests", "Rate limit exceeded")
		case errors.As(err, &fe):
			w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
			apiError(w, http.StatusServiceUnavailable, "service.unavailable", "Service unavailable")
		default:
			apiError(w, http.StatusServiceUnavailable, "service.unavailable", err.Error())
		}
		return
	}
	size, num := 25, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("pageSize")); err == nil && v > 0 && v <= 200 {
		size = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("pageNumber")); err == nil && v > 0 {
		num = v
	}
	var all []message
	if cc != nil {
		events, err := facekit.History(r.Context(), cc)
		if err != nil {
			apiError(w, http.StatusServiceUnavailable, "service.unavailable", "Service unavailable")
			return
		}
		for _, e := range events {
			for _, m := range f.messages(e, nil) {
				if len(m.Events) > 0 && m.Events[0]["eventType"] == "Typing" {
					continue
				}
				all = append(all, m)
			}
		}
	}
	// Newest first.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	lo := min((num-1)*size, len(all))
	page := all[lo:min(lo+size, len(all))]
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"entities": page, "pageSize": size, "pageNumber": num, "total": len(all), "pageCount": (len(all) + size - 1) / size})
}
