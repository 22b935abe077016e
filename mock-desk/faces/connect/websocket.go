package connectface

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// websocket is the participant's WebSocket: subscribe, heartbeats, and the
// chat's items as aws/chat frames.
func (f *Face) websocket(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("AuthToken")
	f.mu.Lock()
	g, ok := f.grants[tok]
	delete(f.grants, tok)
	f.mu.Unlock()
	if !ok || time.Now().After(g.expiry) {
		connectError(w, http.StatusForbidden, "AccessDeniedException", "The WebSocket URL is not valid or has expired.")
		return
	}
	info, err := g.p.chat.Info(r.Context())
	if err != nil {
		errorOf(w, err)
		return
	}
	s, ok := facekit.Accept(f.d, w, r)
	if !ok {
		return
	}
	defer s.Close()
	// Connect replays nothing: a reconnection starts at the present.
	from, inChat := mockdesk.Latest, facekit.NewInChat(info.Agent)
	f.mu.Lock()
	if !g.p.connected {
		from, inChat = 0, facekit.NewInChat(nil)
		g.p.connected = true
	}
	f.mu.Unlock()
	follow, err := s.Follow(r.Context(), g.p.chat, from)
	if err != nil {
		return
	}
	contact := g.p.chat.ID()
	render := func(evs []deskproto.Event) [][]byte {
		var out [][]byte
		for _, e := range evs {
			out = append(out, f.frames(contact, e, inChat)...)
			inChat.See(e)
		}
		return out
	}
	for {
		b, err := s.Read()
		if err != nil {
			return
		}
		var fr struct {
			Topic   string `json:"topic"`
			Content struct {
				Topics []string `json:"topics"`
			} `json:"content"`
		}
		if json.Unmarshal(b, &fr) != nil {
			continue
		}
		switch fr.Topic {
		case "aws/subscribe":
			s.Send([]byte(`{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}`))
			s.Stream(follow, render)
		case "aws/heartbeat":
			s.Send([]byte(`{"topic":"aws/heartbeat"}`))
		}
	}
}

// frames renders one event as aws/chat frames: each item, stringified, as
// the content.
func (f *Face) frames(contact string, e deskproto.Event, inChat *facekit.InChat) [][]byte {
	var out [][]byte
	for _, it := range f.items(contact, e, inChat.Agent()) {
		inner, _ := json.Marshal(it)
		fr, _ := json.Marshal(map[string]string{"topic": "aws/chat", "contentType": "application/json", "content": string(inner)})
		out = append(out, fr)
	}
	return out
}
