package livechatface

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// request is an RTM request frame.
type request struct {
	RequestID string          `json:"request_id"`
	Action    string          `json:"action"`
	Payload   json.RawMessage `json:"payload"`
}

// conn is one RTM connection: its customer once logged in, and the thread
// it streams.
type conn struct {
	f        *Face
	s        *facekit.Socket
	c        *customer
	token    string
	streamed bool
}

// websocket is the RTM socket: login within LoginTimeout, then requests
// answered in order, and the customer's current thread pushed.
func (f *Face) websocket(w http.ResponseWriter, r *http.Request) {
	if org := r.URL.Query().Get("organization_id"); org == "" || (f.opts.OrganizationID != "" && org != f.opts.OrganizationID) {
		http.Error(w, "organization_id is required", http.StatusBadRequest)
		return
	}
	s, ok := facekit.Accept(f.d, w, r)
	if !ok {
		return
	}
	defer s.Close()
	cn := &conn{f: f, s: s}
	login := time.AfterFunc(f.opts.LoginTimeout, s.Close)
	defer login.Stop()
	ctx := r.Context()
	for {
		b, err := s.Read()
		if err != nil {
			return
		}
		var req request
		if err := json.Unmarshal(b, &req); err != nil || req.Action == "" {
			cn.fail(request{Action: "unknown"}, "validation", "Wrong format of request.")
			continue
		}
		if req.Action == "ping" {
			cn.ok(req, map[string]any{})
			continue
		}
		if req.Action == "login" {
			if cn.login(ctx, req) {
				login.Stop()
			}
			continue
		}
		if cn.c == nil {
			cn.fail(req, "authentication", "Not logged in.")
			continue
		}
		if _, expired := f.customerOf(cn.token); expired {
			// LiveChat disconnects a customer whose token expired.
			cn.push("customer_disconnected", map[string]any{"reason": "access_token_expired"})
			time.Sleep(50 * time.Millisecond)
			return
		}
		cn.serve(ctx, req)
	}
}

func (cn *conn) answer(req request, success bool, payload any) {
	cn.s.Send(mustJSON(map[string]any{"request_id": req.RequestID, "action": req.Action, "type": "response", "success": success, "payload": payload}))
}

func (cn *conn) ok(req request, payload any) { cn.answer(req, true, payload) }

func (cn *conn) fail(req request, typ, msg string) { cn.answer(req, false, errorBody(typ, msg)) }

func (cn *conn) push(action string, payload any) {
	cn.s.Send(mustJSON(map[string]any{"action": action, "type": "push", "payload": payload}))
}

// failErr answers req with the desk error's LiveChat type and reason.
func (cn *conn) failErr(req request, err error) {
	switch {
	case errors.Is(err, mockdesk.ErrUnavailable):
		cn.fail(req, "service_unavailable", "Service unavailable.")
	case errors.Is(err, mockdesk.ErrRateLimited):
		cn.fail(req, "too_many_requests", "Too many requests.")
	case errors.Is(err, mockdesk.ErrChatEnded):
		cn.fail(req, "chat_inactive", "Chat is inactive.")
	case errors.Is(err, mockdesk.ErrChatNotFound):
		cn.fail(req, "not_found", "Not found.")
	default:
		cn.fail(req, "validation", mockdesk.Reason(err))
	}
}

// login checks the token and answers the customer's state; a connection
// of a customer with an active thread streams it from now on.
func (cn *conn) login(ctx context.Context, req request) bool {
	var p struct {
		Token    string `json:"token"`
		Customer struct {
			Name          string              `json:"name"`
			SessionFields []map[string]string `json:"session_fields"`
		} `json:"customer"`
	}
	if err := json.Unmarshal(req.Payload, &p); err != nil || p.Token == "" {
		cn.fail(req, "validation", "token is required.")
		return false
	}
	c, expired := cn.f.customerOf(p.Token)
	if c == nil {
		msg := "Invalid access token."
		if expired {
			msg = "Access token expired."
		}
		cn.fail(req, "authentication", msg)
		// LiveChat drops a connection that failed to log in.
		time.AfterFunc(50*time.Millisecond, cn.s.Close)
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.Customer.Name != "" {
		c.name = p.Customer.Name
	}
	if len(p.Customer.SessionFields) > 0 {
		c.fields = map[string]string{}
		for _, kv := range p.Customer.SessionFields {
			for k, v := range kv {
				c.fields[k] = v
			}
		}
	}
	cn.c, cn.token = c, p.Token
	var chats []map[string]any
	active := false
	if c.chat != nil {
		chats = append(chats, map[string]any{"chat_id": c.chat.id, "has_unread_events": false})
		if info, err := c.chat.current().cc.Info(ctx); err == nil && info.State != mockdesk.StateEnded {
			active = true
		}
	}
	cn.ok(req, map[string]any{"customer": map[string]any{"id": c.id, "name": c.name}, "has_active_thread": active, "chats": chats})
	if active {
		cn.stream(ctx, c.chat, false)
	}
	return true
}

// stream pushes the thread's events on this connection: from its start
// when the thread began on it, from now on otherwise (LiveChat replays
// nothing). One thread per connection.
func (cn *conn) stream(ctx context.Context, ch *lcChat, fromStart bool) {
	if cn.streamed {
		return
	}
	th := ch.current()
	from, inChat := uint64(0), facekit.NewInChat(nil)
	if !fromStart {
		from = mockdesk.Latest
	}
	follow, err := cn.s.Follow(ctx, th.cc, from)
	if err != nil {
		return
	}
	// Who is in the chat is asked after the follower starts: an agent who
	// joins in between is then both in the answer and pushed, never in
	// neither.
	if !fromStart {
		if info, err := th.cc.Info(ctx); err == nil {
			inChat = facekit.NewInChat(info.Agent)
		}
	}
	cn.streamed = true
	custID := cn.c.id
	cn.s.Stream(follow, func(evs []deskproto.Event) [][]byte {
		var out [][]byte
		for _, e := range evs {
			for _, p := range cn.f.pushes(ch.id, th.id, custID, e, inChat.Agent()) {
				out = append(out, mustJSON(p))
			}
			inChat.See(e)
		}
		return out
	})
}

// serve runs one request of a logged-in customer, one at a time per
// customer.
func (cn *conn) serve(ctx context.Context, req request) {
	c := cn.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := cn.f.d.RequestFault(ctx, mockdesk.SiteWSAction); err != nil {
		var fe *mockdesk.FaultError
		if errors.As(err, &fe) && errors.Is(err, mockdesk.ErrRateLimited) {
			cn.fail(req, "too_many_requests", "Too many requests.")
		} else {
			cn.fail(req, "service_unavailable", "Service unavailable.")
		}
		return
	}
	switch req.Action {
	case "start_chat", "resume_chat":
		cn.start(ctx, req)
	case "send_event":
		cn.sendEvent(ctx, req)
	case "send_sneak_peek":
		var p struct {
			ChatID string `json:"chat_id"`
			Text   string `json:"sneak_peek_text"`
		}
		th, ok := cn.thread(req, &p, &p.ChatID)
		if !ok {
			return
		}
		if err := th.cc.Typing(ctx, p.Text != ""); err != nil {
			cn.failErr(req, err)
			return
		}
		cn.ok(req, map[string]any{})
	case "mark_events_as_seen":
		var p struct {
			ChatID   string `json:"chat_id"`
			SeenUpTo string `json:"seen_up_to"`
		}
		th, ok := cn.thread(req, &p, &p.ChatID)
		if !ok {
			return
		}
		cn.markSeen(ctx, req, th, p.SeenUpTo)
	case "deactivate_chat":
		var p struct {
			ID string `json:"id"`
		}
		th, ok := cn.thread(req, &p, &p.ID)
		if !ok {
			return
		}
		if err := th.cc.End(ctx); err != nil {
			cn.failErr(req, err)
			return
		}
		cn.ok(req, map[string]any{})
	case "get_chat":
		cn.getChat(ctx, req)
	case "list_threads":
		cn.listThreads(ctx, req)
	case "list_group_statuses":
		var p groupStatusesRequest
		_ = json.Unmarshal(req.Payload, &p)
		out, err := cn.f.groupStatuses(ctx, p)
		if err != nil {
			cn.failErr(req, err)
			return
		}
		cn.ok(req, out)
	default:
		cn.fail(req, "validation", "Unsupported action "+strconv.Quote(req.Action)+".")
	}
}

// thread decodes req's payload into p and finds the customer's chat
// *chatID names, answering req when it cannot.
func (cn *conn) thread(req request, p any, chatID *string) (*thread, bool) {
	if err := json.Unmarshal(req.Payload, p); err != nil {
		cn.fail(req, "validation", "Wrong format of request.")
		return nil, false
	}
	ch := cn.c.chat
	if ch == nil || *chatID != ch.id {
		cn.fail(req, "not_found", "Chat not found.")
		return nil, false
	}
	return ch.current(), true
}

// start is start_chat (a customer's first chat) and resume_chat (a new
// thread of it): a new desk chat whose summary is the opening events'
// text and whose attributes are the session fields.
func (cn *conn) start(ctx context.Context, req request) {
	var p struct {
		Chat struct {
			ID     string `json:"id"`
			Thread struct {
				Events []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"events"`
			} `json:"thread"`
		} `json:"chat"`
	}
	if err := json.Unmarshal(req.Payload, &p); err != nil {
		cn.fail(req, "validation", "Wrong format of request.")
		return
	}
	c := cn.c
	resume := req.Action == "resume_chat"
	switch {
	case resume && (c.chat == nil || p.Chat.ID != c.chat.id):
		cn.fail(req, "not_found", "Chat not found.")
		return
	case !resume && c.chat != nil:
		cn.fail(req, "validation", "Chat already exists; resume it.")
		return
	}
	if c.chat != nil {
		if info, err := c.chat.current().cc.Info(ctx); err == nil && info.State != mockdesk.StateEnded {
			cn.fail(req, "validation", "Chat is already active.")
			return
		}
	}
	var summary string
	for _, e := range p.Chat.Thread.Events {
		if e.Type == "message" && e.Text != "" {
			if summary != "" {
				summary += "\n\n"
			}
			summary += e.Text
		}
	}
	name := c.name
	if name == "" {
		name = "Customer"
	}
	cc, err := cn.f.d.StartCustomerChat(ctx, mockdesk.ChatStart{Customer: deskproto.Customer{ID: c.id, Name: name}, Summary: summary, Attributes: c.fields})
	if err != nil {
		cn.failErr(req, err)
		return
	}
	// A refused chat ends at once, with the desk's reason first.
	if page, err := cc.Events(ctx, 0, 0); err == nil {
		for _, e := range page.Events {
			if e.Type == deskproto.EventError {
				cn.fail(req, "groups_offline", e.Reason)
				return
			}
		}
	}
	th := &thread{id: cc.ID(), cc: cc}
	cn.f.mu.Lock()
	if c.chat == nil {
		c.chat = &lcChat{id: facekit.NewID("", 5)}
		cn.f.chats[c.chat.id] = c.chat
	}
	c.chat.threads = append(c.chat.threads, th)
	cn.f.mu.Unlock()
	if resume {
		cn.ok(req, map[string]any{"thread_id": th.id})
	} else {
		cn.ok(req, map[string]any{"chat_id": c.chat.id, "thread_id": th.id})
	}
	cn.stream(ctx, c.chat, true)
}

// sendEvent is send_event: a message, or a file event whose URL
// upload_file gave. LiveChat does not deduplicate: each request is a new
// event, whatever its custom_id.
func (cn *conn) sendEvent(ctx context.Context, req request) {
	var p struct {
		ChatID string `json:"chat_id"`
		Event  struct {
			Type     string `json:"type"`
			Text     string `json:"text"`
			CustomID string `json:"custom_id"`
			URL      string `json:"url"`
		} `json:"event"`
	}
	th, ok := cn.thread(req, &p, &p.ChatID)
	if !ok {
		return
	}
	ev := map[string]any{"type": p.Event.Type, "author_id": cn.c.id, "recipients": "all"}
	if p.Event.CustomID != "" {
		ev["custom_id"] = p.Event.CustomID
	}
	var m deskproto.Message
	switch p.Event.Type {
	case "message":
		if p.Event.Text == "" {
			cn.fail(req, "validation", "event.text is required.")
			return
		}
		m = deskMessage(p.Event.CustomID, p.Event.Text, nil)
		ev["text"] = p.Event.Text
	case "file":
		cn.f.mu.Lock()
		u := cn.f.uploads[p.Event.URL]
		cn.f.mu.Unlock()
		if u == nil || u.c != cn.c {
			cn.fail(req, "validation", "event.url must be a URL upload_file returned.")
			return
		}
		m = deskMessage(p.Event.CustomID, "", []string{u.id})
		ev["url"], ev["name"], ev["content_type"] = p.Event.URL, u.name, u.ctype
	default:
		cn.fail(req, "validation", "Unsupported event type "+strconv.Quote(p.Event.Type)+".")
		return
	}
	res, err := th.cc.Send(ctx, m)
	if err != nil {
		cn.failErr(req, err)
		return
	}
	ev["id"], ev["created_at"] = res.MessageID, wireTime(res.CreatedAt)
	th.mu.Lock()
	th.events = append(th.events, ev)
	th.mu.Unlock()
	cn.ok(req, map[string]any{"event_id": res.MessageID})
	cn.push("incoming_event", map[string]any{"chat_id": cn.c.chat.id, "thread_id": th.id, "event": ev})
}

func deskMessage(id, text string, fileIDs []string) deskproto.Message {
	msg := servicedesk.NewTextRequest(text)
	msg.ID = id
	return deskproto.Message{Message: msg, FileIDs: fileIDs}
}

// markSeen is mark_events_as_seen: the agent's messages up to seen_up_to
// are read.
func (cn *conn) markSeen(ctx context.Context, req request, th *thread, upTo string) {
	t, err := time.Parse(time.RFC3339Nano, upTo)
	if err != nil {
		cn.fail(req, "validation", "seen_up_to must be an RFC 3339 date-time.")
		return
	}
	events, err := facekit.History(ctx, th.cc)
	if err != nil {
		cn.failErr(req, err)
		return
	}
	last := ""
	for _, e := range events {
		if e.Type == deskproto.EventAgentMessage && !e.Time.Truncate(time.Microsecond).After(t) {
			last = e.MessageID
		}
	}
	if last != "" {
		if err := th.cc.Read(ctx, last); err != nil {
			cn.failErr(req, err)
			return
		}
	}
	cn.ok(req, map[string]any{})
}

func wireTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
