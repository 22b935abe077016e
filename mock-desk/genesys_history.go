package mockdesk

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// messages maps one desk event onto outbound StructuredMessages.
func (f *GenesysFace) messages(c *chat, e deskproto.Event) []genesysMessage {
	from := func(p *servicedesk.AgentProfile) *genesysChannel {
		ch := &genesysChannel{Time: genesysTime(e.Time), MessageID: e.ID}
		if p != nil {
			ch.From = &genesysParticipant{Nickname: p.Nickname, Image: p.ProfilePictureURL}
		}
		return ch
	}
	event := func(ev map[string]any, p *servicedesk.AgentProfile) []genesysMessage {
		return []genesysMessage{{ID: e.ID, Type: "Event", Direction: "Outbound", Channel: from(p), Events: []map[string]any{ev}, OriginatingEntity: "Human"}}
	}
	switch e.Type {
	case deskproto.EventAgentJoined:
		f.rememberAgent(e.Agent)
		return event(map[string]any{"eventType": "Presence", "presence": map[string]string{"type": "Join"}}, e.Agent)
	case deskproto.EventAgentTyping:
		if e.Typing == nil || !*e.Typing {
			return nil
		}
		return event(map[string]any{"eventType": "Typing", "typing": map[string]any{"type": "On", "duration": 5000}}, c.profile)
	case deskproto.EventChatEnded:
		return event(map[string]any{"eventType": "Presence", "presence": map[string]string{"type": "Disconnect"}}, nil)
	case deskproto.EventError:
		return []genesysMessage{{ID: e.ID, Type: "Text", Text: e.Reason, Direction: "Outbound", Channel: from(nil), OriginatingEntity: "Bot"}}
	case deskproto.EventAgentMessage:
		m := genesysMessage{ID: e.MessageID, Type: "Text", Direction: "Outbound", Channel: from(e.Agent), OriginatingEntity: "Human"}
		var texts []string
		for _, it := range e.Message.Output.Generic {
			switch it.ResponseType {
			case servicedesk.ResponseImage:
				m.Content = append(m.Content, map[string]any{"contentType": "Attachment", "attachment": map[string]any{
					"id": newID("", 8), "url": it.Source, "filename": strOr(it.AltText, "image"), "mediaType": "Image"}})
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
		return []genesysMessage{m}
	}
	return nil
}

func (f *GenesysFace) rememberAgent(p *servicedesk.AgentProfile) {
	if p == nil {
		return
	}
	f.agents.remember(p.Nickname, *p)
}

// frames renders one event as StructuredMessage frames.
func (f *GenesysFace) frames(c *chat, e deskproto.Event) [][]byte {
	var out [][]byte
	for _, m := range f.messages(c, e) {
		out = append(out, mustJSON(genesysEnvelope{Type: "message", Class: "StructuredMessage", Code: 200, Body: m}))
	}
	return out
}

// history is GET /api/v2/webmessaging/messages: the conversation's
// messages, newest first, in pages (pageSize, pageNumber), for the JWT's
// session.
func (f *GenesysFace) history(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	sess := f.jwts[tok]
	f.mu.Unlock()
	writeErr := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"message": msg, "code": code, "status": status})
	}
	if sess == nil {
		writeErr(http.StatusUnauthorized, "authentication.required", "No authentication bearer token specified in authorization header.")
		return
	}
	sess.mu.Lock()
	err := f.reachable(sess)
	chatID := sess.chatID
	sess.mu.Unlock()
	if err != nil {
		writeErr(http.StatusServiceUnavailable, "service.unavailable", "Service unavailable")
		return
	}
	if !f.d.injectHTTP(w, r, SiteREST) {
		return
	}
	size, num := 25, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("pageSize")); err == nil && v > 0 && v <= 200 {
		size = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("pageNumber")); err == nil && v > 0 {
		num = v
	}
	var all []genesysMessage
	f.d.mu.Lock()
	if c := f.d.chats[chatID]; c != nil {
		for _, e := range c.events {
			for _, m := range f.messages(c, e) {
				if len(m.Events) > 0 && m.Events[0]["eventType"] == "Typing" {
					continue
				}
				all = append(all, m)
			}
		}
	}
	f.d.mu.Unlock()
	// Newest first.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	lo := min((num-1)*size, len(all))
	page := all[lo:min(lo+size, len(all))]
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"entities": page, "pageSize": size, "pageNumber": num, "total": len(all), "pageCount": (len(all) + size - 1) / size})
}
