package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// HistoryItem is Carbon's HistoryItem: one message of the transcript, for
// messaging.customLoadHistory.
type HistoryItem struct {
	// Message is a MessageRequest (the user's) or a MessageResponse (the
	// agent's, or a status line such as "Ada joined").
	Message any `json:"message"`
	// Time is ISO 8601.
	Time string `json:"time"`
}

// History is what GET /v1/history answers.
type History struct {
	// LastSeq is the newest event the items account for: a client resumes
	// its socket from here, so nothing shows twice.
	LastSeq uint64        `json:"last_seq"`
	Items   []HistoryItem `json:"items"`
	// Complete is false when the oldest events are no longer kept.
	Complete bool `json:"complete"`
	// Active: an agent chat is running (the client should reconnect).
	Active bool       `json:"active"`
	State  flow.State `json:"state"`
}

// serveHistory answers the session's agent conversation (every chat the
// session had) as Carbon HistoryItems.
func (g *Gateway) serveHistory(w http.ResponseWriter, r *http.Request) {
	sid, ok := g.endpoint(w, r, http.MethodGet)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.opts.OpTimeout)
	defer cancel()
	var log EventLog
	s, err := g.engine.Session(ctx, sid)
	switch {
	case errors.Is(err, flow.ErrOwnedElsewhere) && g.fwd != nil:
		log = newStoredLog(ctx, g.engine.Store(), sid) // another instance owns it
	case err != nil:
		writeHTTPError(w, http.StatusServiceUnavailable, codeOf(err), err.Error())
		return
	default:
		log = s
	}
	g.touch(sid)
	h, err := BuildHistory(ctx, log)
	if err != nil {
		writeHTTPError(w, http.StatusServiceUnavailable, codeOf(err), err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, h)
}

// EventLog is what a transcript is read from: a *flow.Session, or the
// stored log of a session another instance owns.
type EventLog interface {
	LastSeq() uint64
	State() flow.State
	EventsSince(ctx context.Context, seq uint64, limit int) ([]flow.Event, error)
}

// BuildHistory reads a session's event log and returns its transcript.
func BuildHistory(ctx context.Context, s EventLog) (History, error) {
	last := s.LastSeq()
	h := History{Items: []HistoryItem{}, Complete: true, LastSeq: last}
	var evs []flow.Event
	var err error
	for _, back := range []uint64{0, 4096, 1024, 256, 64} {
		from := uint64(0)
		if back > 0 {
			if last <= back {
				continue
			}
			from = last - back
			h.Complete = false
		}
		evs, err = s.EventsSince(ctx, from, 0)
		if err == nil {
			break
		}
		if !errors.Is(err, flow.ErrEventsTrimmed) {
			return h, err
		}
	}
	if err != nil {
		evs = nil
	}
	for i := range evs {
		ev := &evs[i]
		if ev.Seq > h.LastSeq {
			h.LastSeq = ev.Seq
		}
		if it, ok := historyItem(ev); ok {
			h.Items = append(h.Items, it)
		}
	}
	h.State = s.State()
	h.Active = h.State.Active()
	return h, nil
}

func isoTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// historyItem turns one event into a transcript line, if it is one.
func historyItem(ev *flow.Event) (HistoryItem, bool) {
	t := isoTime(ev.Time)
	switch ev.Type {
	case flow.EventUserMessage:
		if ev.UserMessage == nil {
			return HistoryItem{}, false
		}
		m := *ev.UserMessage
		if m.ID == "" {
			m.ID = ev.MessageID
		}
		return HistoryItem{Message: m, Time: t}, true
	case flow.EventAgentMessage:
		if ev.Message == nil {
			return HistoryItem{}, false
		}
		m := *ev.Message
		if m.ID == "" {
			m.ID = ev.MessageID
		}
		return HistoryItem{Message: m, Time: t}, true
	case flow.EventAgentJoined, flow.EventAgentLeft, flow.EventTransfer, flow.EventChatEnded, flow.EventDisconnected, flow.EventReconnected:
		if ev.Text == "" {
			return HistoryItem{}, false
		}
		it := servicedesk.TextItem(ev.Text)
		it.AgentMessageType = ev.Kind
		m := servicedesk.NewResponse(it)
		m.ID = "status-" + jsonSeq(ev.Seq)
		if ev.Profile != nil {
			p := carbonProfile(*ev.Profile)
			m.MessageOptions = &servicedesk.ResponseOptions{ResponseUserProfile: &p}
		}
		return HistoryItem{Message: m, Time: t}, true
	}
	return HistoryItem{}, false
}

func jsonSeq(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}
