package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// carbonHistoryItem is Carbon's HistoryItem: one message of the transcript, for
// messaging.customLoadHistory.
type carbonHistoryItem struct {
	// Message is a MessageRequest (the user's) or a MessageResponse (the
	// agent's, or a status line such as "Ada joined").
	Message any `json:"message"`
	// Time is ISO 8601.
	Time string `json:"time"`
}

// historyAnswer is what GET /v1/history answers.
type historyAnswer struct {
	// LastSeq is the newest event the items account for: a client resumes
	// its socket from here, so nothing shows twice.
	LastSeq uint64              `json:"last_seq"`
	Items   []carbonHistoryItem `json:"items"`
	// Complete is false when older events are left out: no longer kept,
	// or past the answer's bounds (then Before pages on).
	Complete bool `json:"complete"`
	// Before, when set, asks for the page before this one:
	// GET /v1/history?before=<Before>.
	Before uint64 `json:"before,omitempty"`
	// Active: an agent chat is running (the client should reconnect).
	Active bool       `json:"active"`
	State  flow.State `json:"state"`
}

// serveHistory answers the session's agent conversation as Carbon
// HistoryItems: that of its current chat, while it runs and for
// EndedChatHistory after it ended (chatView).
func (g *Gateway) serveHistory(w http.ResponseWriter, r *http.Request) {
	sid, ok := g.endpoint(w, r, http.MethodGet)
	if !ok {
		return
	}
	page := historyPage{MaxBytes: g.opts.MaxHistoryBytes, MaxItems: g.opts.MaxHistoryItems, View: g.chatView()}
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			writeHTTPError(w, http.StatusBadRequest, codeBadArgs, "before must be a positive event seq")
			return
		}
		page.Before = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), g.opts.OpTimeout)
	defer cancel()
	var log eventLog
	s, err := g.engine.Session(ctx, sid)
	switch {
	case errors.Is(err, flow.ErrOwnedElsewhere) && g.fwd != nil:
		log = newStoredLog(ctx, g.engine.Store(), sid) // another instance owns it
	case err != nil:
		g.log.Warn("gateway: history: open the session", "session", sid, "err", err)
		writeHTTPError(w, http.StatusServiceUnavailable, codeOf(err), "the history cannot be read now; try again")
		return
	default:
		log = s
	}
	g.touch(sid)
	h, err := buildHistory(ctx, log, page)
	if err != nil {
		g.log.Warn("gateway: history: read the events", "session", sid, "err", err)
		writeHTTPError(w, http.StatusServiceUnavailable, codeOf(err), "the history cannot be read now; try again")
		return
	}
	if h.Before != 0 {
		g.limited(limitHistoryBytes, "session", sid)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, h)
}

// eventLog is what a transcript is read from: a *flow.Session, or the
// stored log of a session another instance owns.
type eventLog interface {
	LastSeq() uint64
	State() flow.State
	EventsSince(ctx context.Context, seq uint64, limit int) ([]flow.Event, error)
}

// historyPage bounds one history answer. The zero value is the whole of
// the session's current chat.
type historyPage struct {
	// Before: only events older than this seq (0: up to the newest).
	Before uint64
	// MaxBytes bounds the encoded events read; MaxItems the items (0: no
	// bound). The newest are kept.
	MaxBytes int64
	MaxItems int
	// View says how long an ended chat stays readable.
	View readView
}

// readView is what a session's token may read of the session's events:
// those of its current chat (the chat of the newest event), never an
// earlier chat's, and, once the current chat ended, only for Grace after
// its chat_ended event.
type readView struct {
	// Grace is how long an ended chat's events stay readable: 0 for
	// always, negative for not at all.
	Grace time.Duration
	// Now is when it is (zero: time.Now()).
	Now time.Time
}

// cut returns the index in evs (in seq order) after the last event of
// another chat than chat, the session's current one: where what the token
// may read begins.
func (readView) cut(evs []flow.Event, chat uint64) int {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Chat != chat {
			return i + 1
		}
	}
	return 0
}

// over reports whether evs (in seq order, the session's newest last) show
// that chat ended more than Grace ago.
func (v readView) over(evs []flow.Event, chat uint64) bool {
	for i := len(evs) - 1; i >= 0 && evs[i].Chat == chat; i-- {
		if evs[i].Type != flow.EventChatEnded {
			continue
		}
		now := v.Now
		if now.IsZero() {
			now = time.Now()
		}
		return v.Grace < 0 || (v.Grace > 0 && now.Sub(time.UnixMilli(evs[i].Time)) > v.Grace)
	}
	return false
}

// skip returns the seq up to which a replay of evs (the events after the
// client's last seq, up to the newest) must leave events out, as not the
// token's to read; 0 when none.
func (v readView) skip(evs []flow.Event, snap flow.Snapshot) uint64 {
	if len(evs) == 0 {
		return 0
	}
	chat := evs[len(evs)-1].Chat
	if !snap.State.Active() && v.over(evs, chat) {
		return evs[len(evs)-1].Seq
	}
	if cut := v.cut(evs, chat); cut > 0 {
		return evs[cut-1].Seq
	}
	return 0
}

// chatView is the gateway's readView now.
func (g *Gateway) chatView() readView {
	return readView{Grace: g.opts.EndedChatHistory, Now: g.opts.Now()}
}

// buildHistory reads a session's event log and returns its transcript,
// the newest part of it within page's bounds, of the chat page.View lets
// the token read.
func buildHistory(ctx context.Context, s eventLog, page historyPage) (historyAnswer, error) {
	last := s.LastSeq()
	h := historyAnswer{Items: []carbonHistoryItem{}, Complete: true, LastSeq: last}
	upto := last
	if page.Before > 0 && page.Before-1 < upto {
		upto = page.Before - 1
	}
	evs, complete, err := tailEvents(ctx, s, 0, upto, page.MaxBytes)
	if err != nil {
		return h, err
	}
	h.Complete = complete
	// The chat is the newest event's, and whether it ended long ago is
	// told by the newest events: an older page reads them apart.
	newest := evs
	if upto < last {
		if newest, _, err = tailEvents(ctx, s, 0, last, 64<<10); err != nil {
			return h, err
		}
	}
	h.State = s.State()
	h.Active = h.State.Active()
	if len(newest) > 0 {
		chat := newest[len(newest)-1].Chat
		cut := page.View.cut(evs, chat)
		if !h.Active && page.View.over(newest, chat) {
			cut = len(evs)
		}
		if cut > 0 {
			evs, h.Complete = evs[cut:], true // what is before is not the token's
		}
	}
	var items []carbonHistoryItem
	var seqs []uint64
	for i := range evs {
		ev := &evs[i]
		if ev.Seq > h.LastSeq {
			h.LastSeq = ev.Seq
		}
		if it, ok := historyItem(ev); ok {
			items = append(items, it)
			seqs = append(seqs, ev.Seq)
		}
	}
	oldest := uint64(0)
	if len(evs) > 0 {
		oldest = evs[0].Seq
	}
	if page.MaxItems > 0 && len(items) > page.MaxItems {
		cut := len(items) - page.MaxItems
		oldest = seqs[cut]
		items = items[cut:]
		h.Complete = false
	}
	if !h.Complete && oldest > 1 && len(evs) > 0 {
		h.Before = oldest
	}
	h.Items = append(h.Items, items...)
	return h, nil
}

// tailEvents reads the events after from up to upto, newest pages first,
// until maxBytes of encoded events (0: no bound), and returns them in
// order, with whether they reach back to from (nothing kept was left out).
// The newest event is always read, whatever its size.
func tailEvents(ctx context.Context, s eventLog, from, upto uint64, maxBytes int64) ([]flow.Event, bool, error) {
	const pageSize = 64
	var pages [][]flow.Event
	var used int64
	complete := true
	hi := upto
	for hi > from {
		lo := hi - min(hi-from, pageSize)
		evs, err := s.EventsSince(ctx, lo, int(hi-lo))
		if errors.Is(err, flow.ErrEventsTrimmed) {
			if hi-lo > 1 { // part of the page may be kept: a smaller one
				from = lo + (hi-lo)/2
				complete = false
				continue
			}
			complete = false
			break
		}
		if err != nil {
			return nil, false, err
		}
		// Newest first within the page, within the budget.
		keep := len(evs)
		for i := len(evs) - 1; i >= 0; i-- {
			b, _ := json.Marshal(&evs[i])
			if maxBytes > 0 && used+int64(len(b)) > maxBytes && (used > 0 || i < len(evs)-1) {
				keep = len(evs) - 1 - i
				complete = false
				break
			}
			used += int64(len(b))
		}
		pages = append(pages, evs[len(evs)-keep:])
		if keep < len(evs) {
			break
		}
		hi = lo
	}
	var out []flow.Event
	for i := len(pages) - 1; i >= 0; i-- {
		out = append(out, pages[i]...)
	}
	return out, complete, nil
}

func isoTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// historyItem turns one event into a transcript line, if it is one.
func historyItem(ev *flow.Event) (carbonHistoryItem, bool) {
	t := isoTime(ev.Time)
	switch ev.Type {
	case flow.EventUserMessage:
		if ev.UserMessage == nil {
			return carbonHistoryItem{}, false
		}
		m := *ev.UserMessage
		if m.ID == "" {
			m.ID = ev.MessageID
		}
		return carbonHistoryItem{Message: m, Time: t}, true
	case flow.EventAgentMessage:
		if ev.Message == nil {
			return carbonHistoryItem{}, false
		}
		m := *ev.Message
		if m.ID == "" {
			m.ID = ev.MessageID
		}
		return carbonHistoryItem{Message: m, Time: t}, true
	case flow.EventAgentJoined, flow.EventAgentLeft, flow.EventTransfer, flow.EventChatEnded, flow.EventDisconnected, flow.EventReconnected:
		if ev.Text == "" {
			return carbonHistoryItem{}, false
		}
		it := servicedesk.TextItem(ev.Text)
		it.AgentMessageType = ev.Kind
		m := servicedesk.NewResponse(it)
		m.ID = "status-" + jsonSeq(ev.Seq)
		if ev.Profile != nil {
			p := carbonProfile(*ev.Profile)
			m.MessageOptions = &servicedesk.ResponseOptions{ResponseUserProfile: &p}
		}
		return carbonHistoryItem{Message: m, Time: t}, true
	}
	return carbonHistoryItem{}, false
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
