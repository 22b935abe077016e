package kustomerface

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// chatMessage is one message of a session.
type chatMessage struct {
	id, body, direction, externalID, by string
	at                                  time.Time
	files                               []map[string]any
}

// session is a chat session, its conversation and its mock-desk chat.
type session struct {
	id       string
	customer *customer
	created  time.Time
	updated  time.Time
	status   string   // open or done
	assigned []string // user ids
	msgs     []chatMessage
	chat     *mockdesk.CustomerChat
	hooks    *facekit.Outbox[[]byte]
}

func (m chatMessage) view(s *session) map[string]any {
	attrs := map[string]any{"body": m.body, "direction": m.direction, "channel": "chat", "createdAt": stamp(m.at), "preview": m.body}
	if m.externalID != "" {
		attrs["externalId"] = m.externalID
	}
	if len(m.files) > 0 {
		attrs["attachments"] = m.files
	}
	rel := map[string]any{"session": ref("chat_session", s.id), "conversation": ref("conversation", s.id), "customer": ref("customer", s.customer.ID)}
	if m.by != "" {
		rel["createdBy"] = ref("user", m.by)
	}
	return resource("chat_message", m.id, attrs, rel)
}

func (s *session) conversation() map[string]any {
	return resource("conversation", s.id, map[string]any{"status": s.status, "assignedUsers": slices.Clone(s.assigned), "channels": []string{"chat"},
		"messageCount": len(s.msgs), "createdAt": stamp(s.created), "updatedAt": stamp(s.updated)}, map[string]any{"customer": ref("customer", s.customer.ID)})
}

func (s *session) chatSession() map[string]any {
	return resource("chat_session", s.id, map[string]any{"active": s.status != "done", "createdAt": stamp(s.created), "conversationId": s.id},
		map[string]any{"customer": ref("customer", s.customer.ID), "conversation": ref("conversation", s.id)})
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, s *session)

// session finds the path's session; while DropConnections cuts its chat
// off, its calls answer 503.
func (f *Face) session(h sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		s := f.sessions[r.PathValue("id")]
		f.mu.Unlock()
		if s == nil {
			apiError(w, http.StatusNotFound, "not_found", "Chat session not found")
			return
		}
		if f.cutOff(r.Context(), s) {
			apiError(w, http.StatusServiceUnavailable, "unavailable", "Service Unavailable")
			return
		}
		h(w, r, s)
	}
}

// cutOff tells whether DropConnections cut the session's chat off.
func (f *Face) cutOff(ctx context.Context, s *session) bool {
	f.mu.Lock()
	chat := s.chat
	f.mu.Unlock()
	if chat == nil {
		return false
	}
	_, err := chat.Info(ctx)
	return errors.Is(err, mockdesk.ErrUnavailable)
}

// handoff creates a session with the imported messages and starts the
// desk's chat, the messages its summary.
func (f *Face) handoff(w http.ResponseWriter, r *http.Request) {
	var body struct {
		CustomerID string `json:"customerId"`
		From       string `json:"from"`
		ExternalID string `json:"externalId"`
		Active     *bool  `json:"active"`
		Messages   []struct {
			Direction string `json:"direction"`
			Body      string `json:"body"`
			Date      string `json:"date"`
		} `json:"messages"`
	}
	if !decode(w, r, &body) {
		return
	}
	in, out := 0, 0
	msgs := make([]chatMessage, 0, len(body.Messages))
	for i, m := range body.Messages {
		at, err := time.Parse(time.RFC3339Nano, m.Date)
		switch {
		case m.Direction == "in":
			in++
		case m.Direction == "out":
			out++
		default:
			apiError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("messages[%d].direction must be in or out", i))
			return
		}
		if err != nil || strings.TrimSpace(m.Body) == "" {
			apiError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("messages[%d] needs a body and an ISO 8601 date", i))
			return
		}
		by := ""
		if m.Direction == "out" {
			by = body.From
		}
		msgs = append(msgs, chatMessage{id: newID(), body: m.Body, direction: m.Direction, by: by, at: at})
	}
	switch {
	case body.CustomerID == "":
		apiError(w, http.StatusBadRequest, "invalid", "customerId is required")
		return
	case len(msgs) < 2 || len(msgs) > 100 || in == 0 || out == 0:
		apiError(w, http.StatusBadRequest, "invalid", "messages must hold 2 to 100 messages, at least one in and one out")
		return
	case out > 0 && body.From == "":
		apiError(w, http.StatusBadRequest, "invalid", "from is required for outbound messages")
		return
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].at.Before(msgs[j].at) })
	f.mu.Lock()
	c := f.customers[body.CustomerID]
	f.mu.Unlock()
	if c == nil {
		apiError(w, http.StatusNotFound, "not_found", "Customer not found")
		return
	}
	now := time.Now()
	s := &session{id: newID(), customer: c, created: now, updated: now, status: "open", msgs: msgs}
	s.hooks = facekit.NewOutbox(f.d, func(ctx context.Context, body []byte, lost bool) bool { return f.send(ctx, s, body, lost) })
	if body.Active != nil && !*body.Active {
		s.status = "done"
	} else {
		lines := make([]string, len(msgs))
		for i, m := range msgs {
			lines[i] = m.body
		}
		attrs := map[string]string{}
		if body.ExternalID != "" {
			attrs["externalId"] = body.ExternalID
		}
		chat, err := f.d.StartCustomerChat(r.Context(), mockdesk.ChatStart{Customer: deskproto.Customer{ID: c.ExternalID, Name: c.Name},
			Summary: strings.Join(lines, "\n"), Attributes: attrs})
		if err != nil {
			apiError(w, http.StatusUnprocessableEntity, "chat_refused", mockdesk.Reason(err))
			return
		}
		s.chat = chat
	}
	f.mu.Lock()
	f.sessions[s.id] = s
	view := s.chatSession()
	f.mu.Unlock()
	f.announce(s, "kustomer.conversation.create", nil)
	if s.chat != nil {
		f.d.Go(func(ctx context.Context) {
			facekit.FollowChat(ctx, s.chat, 50*time.Millisecond, func(ev deskproto.Event) { f.agentSide(s, ev) })
		})
	}
	facekit.WriteJSON(w, http.StatusCreated, map[string]any{"data": view})
}

// inboundMessage is a customer message: its files and text go to the
// desk, then into the session.
func (f *Face) inboundMessage(w http.ResponseWriter, r *http.Request) {
	var body struct {
		CustomerID  string `json:"customerId"`
		Session     string `json:"session"`
		Body        string `json:"body"`
		ExternalID  string `json:"externalId"`
		Attachments []struct {
			ID string `json:"_id"`
		} `json:"attachments"`
	}
	if !decode(w, r, &body) {
		return
	}
	f.mu.Lock()
	s := f.sessions[body.Session]
	f.mu.Unlock()
	switch {
	case s == nil:
		apiError(w, http.StatusNotFound, "not_found", "Chat session not found")
		return
	case s.customer.ID != body.CustomerID:
		apiError(w, http.StatusForbidden, "forbidden", "The session is not the customer's")
		return
	case body.Body == "" && len(body.Attachments) == 0:
		apiError(w, http.StatusBadRequest, "invalid", "Provide body or attachments")
		return
	case f.cutOff(r.Context(), s):
		apiError(w, http.StatusServiceUnavailable, "unavailable", "Service Unavailable")
		return
	}
	f.mu.Lock()
	if i := slices.IndexFunc(s.msgs, func(m chatMessage) bool { return body.ExternalID != "" && m.externalID == body.ExternalID }); i >= 0 {
		view := s.msgs[i].view(s)
		f.mu.Unlock()
		facekit.WriteJSON(w, http.StatusCreated, map[string]any{"data": view})
		return
	}
	ended, chat := s.status == "done", s.chat
	var files []*attachment
	for _, a := range body.Attachments {
		att := f.attachments[a.ID]
		if att == nil || !att.uploaded {
			f.mu.Unlock()
			apiError(w, http.StatusBadRequest, "invalid", "attachment "+a.ID+" was not uploaded")
			return
		}
		files = append(files, att)
	}
	f.mu.Unlock()
	if ended {
		apiError(w, http.StatusConflict, "session_ended", "The chat session has ended")
		return
	}
	m := chatMessage{id: newID(), body: body.Body, direction: "in", externalID: body.ExternalID, at: time.Now()}
	if status, code, title := f.toDesk(r.Context(), chat, m, files); status != 0 {
		apiError(w, status, code, title)
		return
	}
	for _, a := range files {
		m.files = append(m.files, map[string]any{"_id": a.id, "name": a.name, "contentType": a.ctype, "contentLength": a.length, "url": "http://" + r.Host + "/files/" + a.id})
	}
	f.mu.Lock()
	m.at = time.Now()
	s.msgs = append(s.msgs, m)
	view := m.view(s)
	f.mu.Unlock()
	s.hooks.Push(f.envelope("kustomer.message.create", view, nil))
	facekit.WriteJSON(w, http.StatusCreated, map[string]any{"data": view})
}

// toDesk gives the customer's files (checked by the desk) and text to the
// agent; a refusal answers 400 with the desk's reason.
func (f *Face) toDesk(ctx context.Context, chat *mockdesk.CustomerChat, m chatMessage, files []*attachment) (int, string, string) {
	key := m.externalID
	if key == "" {
		key = m.id
	}
	var ids []string
	refused := ""
	for _, a := range files {
		res, err := chat.Upload(ctx, mockdesk.Upload{FileID: a.id, MessageID: key, Name: a.name, Type: a.ctype, Content: a.content})
		if errors.Is(err, mockdesk.ErrUnavailable) {
			return http.StatusServiceUnavailable, "unavailable", "Service Unavailable"
		}
		if err != nil && refused == "" {
			refused = mockdesk.Reason(err)
		}
		ids = append(ids, res.FileID)
	}
	_, err := chat.Send(ctx, deskproto.Message{IdempotencyKey: key, Message: servicedesk.NewTextRequest(m.body), FileIDs: ids})
	switch {
	case errors.Is(err, mockdesk.ErrUnavailable):
		return http.StatusServiceUnavailable, "unavailable", "Service Unavailable"
	case err != nil:
		return http.StatusBadRequest, "rejected", mockdesk.Reason(err)
	case refused != "":
		return http.StatusBadRequest, "attachment_rejected", refused
	}
	return 0, "", ""
}

// listMessages pages the session's messages: oldest first, or newest
// first with sort=-createdAt.
func (f *Face) listMessages(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	size, err1 := strconv.Atoi(cmpStr(q.Get("pageSize"), "100"))
	page, err2 := strconv.Atoi(cmpStr(q.Get("page"), "1"))
	if err1 != nil || err2 != nil || size < 1 || size > 100 || page < 1 {
		apiError(w, http.StatusBadRequest, "invalid", "page and pageSize (1 to 100) must be positive numbers")
		return
	}
	f.mu.Lock()
	msgs := slices.Clone(s.msgs)
	if q.Get("sort") == "-createdAt" {
		slices.Reverse(msgs)
	}
	from := min((page-1)*size, len(msgs))
	to := min(from+size, len(msgs))
	data := make([]any, 0, to-from)
	for _, m := range msgs[from:to] {
		data = append(data, m.view(s))
	}
	f.mu.Unlock()
	self := r.URL.Path + "?" + q.Encode()
	links := map[string]any{"self": self, "next": nil, "prev": nil}
	if to < len(msgs) {
		q.Set("page", strconv.Itoa(page+1))
		links["next"] = r.URL.Path + "?" + q.Encode()
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"data": data, "links": links, "meta": map[string]any{"page": page, "pageSize": size}})
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (f *Face) getConversation(w http.ResponseWriter, _ *http.Request, s *session) {
	f.mu.Lock()
	view := s.conversation()
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"data": view})
}

// updateConversation changes the status: done ends the desk's chat as the
// customer (the one change a chat bridge makes).
func (f *Face) updateConversation(w http.ResponseWriter, r *http.Request, s *session) {
	var body struct {
		Status string `json:"status"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Status != "" && body.Status != "open" && body.Status != "done" && body.Status != "snoozed" {
		apiError(w, http.StatusBadRequest, "invalid", "status must be open, snoozed or done")
		return
	}
	f.mu.Lock()
	chat, was := s.chat, s.status
	f.mu.Unlock()
	if body.Status == "done" && was != "done" && chat != nil {
		if err := chat.End(r.Context()); errors.Is(err, mockdesk.ErrUnavailable) {
			apiError(w, http.StatusServiceUnavailable, "unavailable", "Service Unavailable")
			return
		}
	}
	if body.Status != "" && body.Status != was {
		f.change(s, func() { s.status = body.Status }, "status", was, body.Status)
	}
	f.getConversation(w, r, s)
}

// change applies one change of the conversation and announces it.
func (f *Face) change(s *session, apply func(), attr string, before, after any) {
	f.mu.Lock()
	apply()
	s.updated = time.Now()
	f.mu.Unlock()
	f.announce(s, "kustomer.conversation.update", map[string]any{"attributes": map[string]any{attr: map[string]any{"before": before, "after": after}}})
}

// announce sends the conversation's event.
func (f *Face) announce(s *session, name string, changes map[string]any) {
	f.mu.Lock()
	view := s.conversation()
	f.mu.Unlock()
	s.hooks.Push(f.envelope(name, view, changes))
}

// agentSide is what the agent's side of ev does to the conversation.
func (f *Face) agentSide(s *session, ev deskproto.Event) {
	f.mu.Lock()
	assigned := slices.Clone(s.assigned)
	f.mu.Unlock()
	switch ev.Type {
	case deskproto.EventAgentJoined:
		if ev.Agent == nil {
			return
		}
		f.mu.Lock()
		f.users[ev.Agent.ID] = *ev.Agent
		f.mu.Unlock()
		f.change(s, func() { s.assigned = []string{ev.Agent.ID} }, "assignedUsers", assigned, []string{ev.Agent.ID})
	case deskproto.EventAgentLeft, deskproto.EventTransferStarted:
		if len(assigned) > 0 && ev.Type == deskproto.EventAgentLeft {
			f.change(s, func() { s.assigned = nil }, "assignedUsers", assigned, []string{})
		}
	case deskproto.EventAgentMessage:
		if ev.Message == nil {
			return
		}
		by := ""
		if len(assigned) > 0 {
			by = assigned[0]
		}
		f.mu.Lock()
		m := chatMessage{id: newID(), body: markdownOf(*ev.Message), direction: "out", by: by, at: time.Now()}
		s.msgs = append(s.msgs, m)
		view := m.view(s)
		f.mu.Unlock()
		s.hooks.Push(f.envelope("kustomer.message.create", view, nil))
	case deskproto.EventChatEnded:
		f.mu.Lock()
		was := s.status
		f.mu.Unlock()
		if was != "done" {
			f.change(s, func() { s.status = "done" }, "status", was, "done")
		}
	}
}

// markdownOf writes an agent's message as a chat body, the way an agent
// types one in Kustomer: a paragraph an item, an image as ![alt](url), a
// link button as [label](url).
func markdownOf(m servicedesk.MessageResponse) string {
	var paras []string
	for _, it := range m.Output.Generic {
		p := ""
		switch it.ResponseType {
		case servicedesk.ResponseImage:
			p = "![" + it.AltText + "](" + it.Source + ")"
		case servicedesk.ResponseButton:
			if it.URL != "" {
				p = "[" + it.Label + "](" + it.URL + ")"
			} else {
				p = it.Label
			}
		default:
			p = servicedesk.NewResponse(it).PlainText()
		}
		if strings.TrimSpace(p) != "" {
			paras = append(paras, p)
		}
	}
	return strings.Join(paras, "\n\n")
}
