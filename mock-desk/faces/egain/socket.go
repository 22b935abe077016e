package egainface

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// The relay's strings (the starter kit's).
const (
	endMessage       = "End conversation"
	agentEndText     = "agent.end.conversation"
	statusEnded      = "Conversation ended"
	statusBadSession = "Invalid session"
	statusConnected  = "connected"
)

// clientFrame is what the customer sends on the WebSocket: the opening
// frame (no message) or an action.
type clientFrame struct {
	UserID        string `json:"userId,omitempty"`
	SessionID     string `json:"sessionId"`
	CustomerID    string `json:"CustomerId,omitempty"`
	SessionToken  string `json:"sessionToken"`
	LastMessageID string `json:"lastMessageId,omitempty"`
	Message       string `json:"message,omitempty"`
	Type          string `json:"type,omitempty"`
	MessageID     string `json:"messageId,omitempty"`
}

// pushFrame is what the relay pushes.
type pushFrame struct {
	Authorization string     `json:"authorization"`
	EGainMessage  string     `json:"eGainMessage,omitempty"`
	Status        string     `json:"status,omitempty"`
	MessageID     string     `json:"messageId,omitempty"`
	Error         *errorBody `json:"error,omitempty"`
}

// hubMessage is a Conversation Hub message inside eGainMessage.
type hubMessage struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// websocket is a session's WebSocket: the opening frame names the
// session; the chat's messages after lastMessageId follow.
func (f *Face) websocket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sess, ok := f.lookup(q.Get("sessionId"), q.Get("userId"), q.Get("sessionToken"))
	if !ok {
		http.Error(w, "unknown session", http.StatusUnauthorized)
		return
	}
	if _, err := sess.chat.Info(r.Context()); errors.Is(err, mockdesk.ErrUnavailable) {
		// Cut off (DropConnections): the relay is out of reach.
		w.Header().Set("Retry-After", "1")
		http.Error(w, "relay unavailable", http.StatusServiceUnavailable)
		return
	}
	s, ok := facekit.Accept(f.d, w, r)
	if !ok {
		return
	}
	defer s.Close()
	opened := false
	for {
		b, err := s.Read()
		if err != nil {
			return
		}
		var fr clientFrame
		if err := json.Unmarshal(b, &fr); err != nil || fr.SessionID != sess.id || fr.SessionToken != sess.token {
			s.Send(mustJSON(pushFrame{Authorization: sess.token, Status: statusBadSession}))
			return
		}
		if !opened {
			opened = true
			switch err := f.stream(r.Context(), s, sess, fr.LastMessageID); {
			case errors.Is(err, errNoSuchMessage):
				s.Send(mustJSON(pushFrame{Authorization: sess.token, Status: statusBadSession}))
				return
			case err != nil:
				return // cut off: the connection goes
			}
			if fr.Message == "" && fr.Type == "" {
				continue
			}
		}
		if ack, reply := f.act(r.Context(), sess, fr); reply {
			s.Send(mustJSON(ack))
		}
	}
}

// errNoSuchMessage: an opening frame's lastMessageId is no message of
// the conversation.
var errNoSuchMessage = errors.New("egainface: no such message")

// stream starts pushing the chat's messages after the one with id after
// (all when empty), then a "connected" status once those the chat had
// are written. It fails with errNoSuchMessage, or the desk's error.
func (f *Face) stream(ctx context.Context, s *facekit.Socket, sess *session, after string) error {
	evs, err := facekit.History(ctx, sess.chat)
	if err != nil {
		return err
	}
	var from uint64
	inChat := facekit.NewInChat(nil)
	if after != "" {
		found := false
		for _, e := range evs {
			inChat.See(e)
			if e.ID == after {
				from, found = e.Seq, true
				break
			}
		}
		if !found {
			return errNoSuchMessage
		}
	}
	var replayed uint64 // the last event the chat had at the opening
	if len(evs) > 0 {
		replayed = evs[len(evs)-1].Seq
	}
	follow, err := s.Follow(ctx, sess.chat, from)
	if err != nil {
		return err
	}
	connected := mustJSON(pushFrame{Authorization: sess.token, Status: statusConnected})
	if replayed <= from {
		s.Send(connected)
	}
	s.Stream(follow, func(evs []deskproto.Event) [][]byte {
		var out [][]byte
		for _, e := range evs {
			out = append(out, f.render(sess, e, inChat.Agent())...)
			inChat.See(e)
			if e.Seq == replayed && replayed > from {
				out = append(out, connected)
			}
		}
		return out
	})
	return nil
}

// render writes one desk event as the relay's frames (none for events
// eGain's customers do not see).
func (f *Face) render(sess *session, e deskproto.Event, agent *servicedesk.AgentProfile) [][]byte {
	msg := func(typ, value string) [][]byte {
		inner := mustJSON(hubMessage{ID: e.ID, Type: typ, Value: value})
		return [][]byte{mustJSON(pushFrame{Authorization: sess.token, EGainMessage: string(inner)})}
	}
	named := func(p *servicedesk.AgentProfile) string {
		if p == nil {
			return "{}"
		}
		f.agents.Remember(p)
		return string(mustJSON(map[string]string{"agentName": agentName(*p)}))
	}
	switch e.Type {
	case deskproto.EventAgentJoined:
		return msg("agent.join", named(e.Agent))
	case deskproto.EventAgentMessage:
		if e.Message == nil {
			return nil
		}
		return msg("text", htmlBody(*e.Message))
	case deskproto.EventAgentTyping:
		if e.Typing != nil && *e.Typing {
			return msg("typing.start", "")
		}
		return msg("typing.end", "")
	case deskproto.EventTransferStarted:
		return msg("agent.transfer", named(e.Agent))
	case deskproto.EventAgentLeft:
		return msg("queue.transfer", named(agent))
	case deskproto.EventAgentEnded:
		return msg("text", agentEndText)
	case deskproto.EventError:
		if agent == nil {
			return msg("agent.unavailable", e.Reason)
		}
	case deskproto.EventChatEnded:
		// The status frame carries no id: a replay from before it sends it
		// again, which a client takes as the same end.
		return [][]byte{mustJSON(pushFrame{Authorization: sess.token, Status: statusEnded})}
	}
	return nil
}

// htmlBody writes an agent message as an eGain agent's HTML: text items
// as they are, images as <img>, link buttons as <a>, paragraphs apart.
func htmlBody(m servicedesk.MessageResponse) string {
	var parts []string
	for _, it := range m.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseImage:
			parts = append(parts, `<img src="`+html.EscapeString(it.Source)+`" alt="`+html.EscapeString(it.AltText)+`">`)
		case servicedesk.ResponseButton:
			parts = append(parts, `<a href="`+html.EscapeString(it.URL)+`" target="_blank">`+html.EscapeString(it.Label)+`</a>`)
		default:
			if it.Text != "" {
				parts = append(parts, it.Text)
			}
		}
	}
	return strings.Join(parts, "\n\n")
}

// act runs one customer action; it answers (reply) when the frame asked
// for an answer with a messageId.
func (f *Face) act(ctx context.Context, sess *session, fr clientFrame) (pushFrame, bool) {
	ack := pushFrame{Authorization: sess.token, MessageID: fr.MessageID}
	reply := fr.MessageID != ""
	var fe *mockdesk.FaultError
	if err := f.d.RequestFault(ctx, mockdesk.SiteWSAction); errors.As(err, &fe) {
		code := "503"
		if errors.Is(fe, mockdesk.ErrRateLimited) {
			code = "429"
		}
		ack.Error = &errorBody{Code: code, Message: fe.Error(), RetryAfter: int(max(fe.RetryAfter, time.Second) / time.Second)}
		return ack, reply
	}
	var err error
	switch {
	case fr.Type == "conversation.end" || (fr.Type == "" && fr.Message == endMessage):
		err = sess.chat.End(ctx)
		if errors.Is(err, mockdesk.ErrChatEnded) {
			err = nil
		}
	case fr.Type == "typing.start" || fr.Type == "typing.end":
		err = sess.chat.Typing(ctx, fr.Type == "typing.start")
	case fr.Type == "" || fr.Type == "text":
		_, err = sess.chat.Send(ctx, deskproto.Message{IdempotencyKey: fr.MessageID, Message: servicedesk.NewTextRequest(fr.Message)})
	default:
		err = mockdesk.ErrBadRequest
	}
	if err != nil {
		ack.Error = errorOf(err)
		return ack, reply
	}
	ack.Status = "accepted"
	return ack, reply
}

// errorOf is a desk error as the relay's error answer.
func errorOf(err error) *errorBody {
	switch {
	case errors.Is(err, mockdesk.ErrUnavailable), errors.Is(err, mockdesk.ErrClosed):
		return &errorBody{Code: "503", Message: err.Error(), RetryAfter: 1}
	case errors.Is(err, mockdesk.ErrRateLimited):
		return &errorBody{Code: "429", Message: err.Error(), RetryAfter: 1}
	case errors.Is(err, mockdesk.ErrChatEnded):
		return &errorBody{Code: "409", Message: statusEnded}
	case errors.Is(err, mockdesk.ErrMessageRejected):
		return &errorBody{Code: "422", Message: mockdesk.Reason(err)}
	}
	return &errorBody{Code: "400", Message: err.Error()}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
