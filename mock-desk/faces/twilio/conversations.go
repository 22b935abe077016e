package twilioface

import (
	"encoding/json"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

const base = "https://conversations.twilio.com/v1"

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func (c *conversation) json() map[string]any {
	return map[string]any{"sid": c.sid, "account_sid": "AC00000000000000000000000000000000", "chat_service_sid": c.service,
		"messaging_service_sid": nil, "friendly_name": c.friendly, "unique_name": c.unique, "attributes": c.attrs,
		"date_created": iso(time.Now()), "date_updated": iso(time.Now()), "state": c.state, "timers": map[string]any{}, "bindings": map[string]any{},
		"url": base + "/Conversations/" + c.sid, "links": map[string]any{"participants": base + "/Conversations/" + c.sid + "/Participants",
			"messages": base + "/Conversations/" + c.sid + "/Messages", "webhooks": base + "/Conversations/" + c.sid + "/Webhooks"}}
}

func (c *conversation) partJSON(p *participant) map[string]any {
	return map[string]any{"account_sid": "AC00000000000000000000000000000000", "conversation_sid": c.sid, "sid": p.sid, "identity": p.identity,
		"attributes": p.attrs, "messaging_binding": nil, "role_sid": nil, "last_read_message_index": p.read, "last_read_timestamp": nil,
		"url": base + "/Conversations/" + c.sid + "/Participants/" + p.sid}
}

func (c *conversation) msgJSON(m *message) map[string]any {
	var media any
	if len(m.media) > 0 {
		var list []map[string]any
		for _, x := range m.media {
			list = append(list, map[string]any{"sid": x.sid, "size": len(x.content), "content_type": x.ctype, "filename": x.name, "category": "media"})
		}
		media = list
	}
	return map[string]any{"sid": m.sid, "account_sid": "AC00000000000000000000000000000000", "conversation_sid": c.sid, "body": m.body,
		"media": media, "author": m.author, "participant_sid": m.participant, "attributes": m.attrs, "date_created": iso(m.created),
		"date_updated": iso(m.created), "index": m.index, "url": base + "/Conversations/" + c.sid + "/Messages/" + m.sid,
		"delivery": nil, "content_sid": nil, "links": map[string]any{}}
}

// conversations serves /v1/Conversations and below.
func (f *Face) conversations(w http.ResponseWriter, r *http.Request, seg []string) {
	if len(seg) == 0 {
		if r.Method != http.MethodPost {
			twilioError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
			return
		}
		f.createConversation(w, r)
		return
	}
	f.mu.Lock()
	c := f.convs[seg[0]]
	f.mu.Unlock()
	if c == nil {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource /Conversations/"+seg[0]+" was not found")
		return
	}
	_ = r.ParseForm()
	switch {
	case len(seg) == 1 && r.Method == http.MethodGet:
		f.mu.Lock()
		defer f.mu.Unlock()
		facekit.WriteJSON(w, http.StatusOK, c.json())
	case len(seg) == 1 && r.Method == http.MethodPost:
		if r.PostForm.Get("State") == "closed" {
			f.closeChat(r, c)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		facekit.WriteJSON(w, http.StatusOK, c.json())
	case len(seg) == 2 && seg[1] == "Participants":
		f.participants(w, r, c)
	case len(seg) == 3 && seg[1] == "Participants" && r.Method == http.MethodPost:
		f.updateParticipant(w, r, c, seg[2])
	case len(seg) == 2 && seg[1] == "Messages" && r.Method == http.MethodGet:
		f.listMessages(w, r, c)
	case len(seg) == 2 && seg[1] == "Messages" && r.Method == http.MethodPost:
		f.createMessage(w, r, c)
	case len(seg) == 2 && seg[1] == "Webhooks":
		f.webhooks(w, r, c)
	default:
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	}
}

func (f *Face) createConversation(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	unique := r.PostForm.Get("UniqueName")
	if unique != "" && f.convs[unique] != nil {
		twilioError(w, http.StatusConflict, 50353, "Conversation with provided unique name already exists")
		return
	}
	c := &conversation{sid: f.sid("CH"), unique: unique, friendly: r.PostForm.Get("FriendlyName"), attrs: cmpOr(r.PostForm.Get("Attributes"), "{}"),
		state: "active", service: "IS00000000000000000000000000000001"}
	f.convs[c.sid] = c
	if unique != "" {
		f.convs[unique] = c
	}
	facekit.WriteJSON(w, http.StatusCreated, c.json())
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (f *Face) participants(w http.ResponseWriter, r *http.Request, c *conversation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodGet {
		var list []map[string]any
		for _, p := range c.parts {
			list = append(list, c.partJSON(p))
		}
		facekit.WriteJSON(w, http.StatusOK, map[string]any{"participants": list, "meta": map[string]any{"page": 0, "page_size": 100, "next_page_url": nil, "key": "participants"}})
		return
	}
	id := r.PostForm.Get("Identity")
	for _, p := range c.parts {
		if id != "" && p.identity == id {
			twilioError(w, http.StatusConflict, 50433, "Participant already exists")
			return
		}
	}
	p := &participant{sid: f.sid("MB"), identity: id, attrs: cmpOr(r.PostForm.Get("Attributes"), "{}")}
	c.parts = append(c.parts, p)
	if c.customer == "" {
		c.customer = id
	}
	facekit.WriteJSON(w, http.StatusCreated, c.partJSON(p))
}

// updateParticipant moves the customer's read horizon: the agent's
// messages up to it are read.
func (f *Face) updateParticipant(w http.ResponseWriter, r *http.Request, c *conversation, sid string) {
	f.mu.Lock()
	var p *participant
	for _, q := range c.parts {
		if q.sid == sid {
			p = q
		}
	}
	if p == nil {
		f.mu.Unlock()
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	readID := ""
	s := r.PostForm.Get("LastReadMessageIndex")
	idx, err := strconv.Atoi(s)
	if s != "" && err == nil {
		p.read = &idx
		for _, m := range c.msgs {
			if m.index <= idx && m.deskID != "" {
				readID = m.deskID
			}
		}
	}
	chat := c.chat
	out := c.partJSON(p)
	f.mu.Unlock()
	if chat != nil && readID != "" {
		if err := chat.Read(r.Context(), readID); err != nil {
			deskError(w, err)
			return
		}
	}
	facekit.WriteJSON(w, http.StatusOK, out)
}

// listMessages pages the messages, Order asc or desc, by PageSize and
// PageToken (the next index to read).
func (f *Face) listMessages(w http.ResponseWriter, r *http.Request, c *conversation) {
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("PageSize"))
	if size <= 0 || size > 100 {
		size = 50
	}
	desc := strings.EqualFold(q.Get("Order"), "desc")
	f.mu.Lock()
	defer f.mu.Unlock()
	msgs := append([]*message(nil), c.msgs...)
	if desc {
		sort.Slice(msgs, func(i, j int) bool { return msgs[i].index > msgs[j].index })
	}
	start, _ := strconv.Atoi(q.Get("PageToken"))
	if start < 0 || start > len(msgs) {
		start = len(msgs)
	}
	end := min(start+size, len(msgs))
	list := []map[string]any{}
	for _, m := range msgs[start:end] {
		list = append(list, c.msgJSON(m))
	}
	var next any
	if end < len(msgs) {
		v := url.Values{"Order": {cmpOr(q.Get("Order"), "asc")}, "PageSize": {strconv.Itoa(size)}, "PageToken": {strconv.Itoa(end)}}
		next = base + "/Conversations/" + c.sid + "/Messages?" + v.Encode()
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"messages": list, "meta": map[string]any{"page": start / size, "page_size": size, "next_page_url": next, "key": "messages"}})
}

// createMessage posts a message. Before the hand-off it is only the
// conversation's; after it, the customer's messages go to the desk (their
// media as files), and what the desk refuses is refused here.
func (f *Face) createMessage(w http.ResponseWriter, r *http.Request, c *conversation) {
	form := r.PostForm
	f.mu.Lock()
	if c.state == "closed" {
		f.mu.Unlock()
		twilioError(w, http.StatusBadRequest, 50407, "Conversation is closed")
		return
	}
	m := &message{author: cmpOr(form.Get("Author"), "system"), body: form.Get("Body"), attrs: cmpOr(form.Get("Attributes"), "{}"), created: time.Now()}
	if t, err := time.Parse(time.RFC3339, form.Get("DateCreated")); err == nil {
		m.created = t
	}
	if sid := form.Get("MediaSid"); sid != "" {
		md := f.media[sid]
		if md == nil {
			f.mu.Unlock()
			twilioError(w, http.StatusBadRequest, 50502, "Media not found")
			return
		}
		m.media = append(m.media, md)
	}
	for _, p := range c.parts {
		if p.identity == m.author {
			m.participant = p.sid
		}
	}
	chat, toDesk := c.chat, c.chat != nil && m.author == c.customer
	f.mu.Unlock()
	if toDesk {
		var attrs map[string]any
		_ = json.Unmarshal([]byte(m.attrs), &attrs)
		key, _ := attrs[f.opts.IDAttribute].(string)
		if part, ok := attrs["deskbridge_part"].(float64); ok && part > 0 && key != "" {
			key += "/" + strconv.Itoa(int(part))
		}
		var fileIDs []string
		refused := ""
		for _, md := range m.media {
			res, err := chat.Upload(r.Context(), mockdesk.Upload{FileID: md.sid, MessageID: key, Name: md.name, Type: md.ctype, Content: md.content})
			if err != nil && res.Reason == "" {
				deskError(w, err)
				return
			}
			if res.Reason != "" {
				refused = res.Reason
			}
			fileIDs = append(fileIDs, md.sid)
		}
		msg := deskproto.Message{IdempotencyKey: key, FileIDs: fileIDs}
		msg.Message.Input.Text = m.body
		if _, err := chat.Send(r.Context(), msg); err != nil {
			deskError(w, err)
			return
		}
		if refused != "" {
			twilioError(w, http.StatusBadRequest, 50511, refused)
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m.sid, m.index = f.sid("IM"), len(c.msgs)
	c.msgs = append(c.msgs, m)
	facekit.WriteJSON(w, http.StatusCreated, c.msgJSON(m))
	f.emit(c, f.messageForm(c, m))
}

// messageForm is onMessageAdded's parameters for m.
func (f *Face) messageForm(c *conversation, m *message) url.Values {
	form := url.Values{"EventType": {"onMessageAdded"}, "ConversationSid": {c.sid}, "ChatServiceSid": {c.service}, "MessageSid": {m.sid},
		"Index": {strconv.Itoa(m.index)}, "Author": {m.author}, "Body": {m.body}, "Attributes": {m.attrs}, "DateCreated": {iso(m.created)}}
	if m.participant != "" {
		form.Set("ParticipantSid", m.participant)
	}
	if len(m.media) > 0 {
		var list []map[string]any
		for _, x := range m.media {
			list = append(list, map[string]any{"Sid": x.sid, "Filename": x.name, "ContentType": x.ctype, "Size": len(x.content), "Category": "media"})
		}
		b, _ := json.Marshal(list)
		form.Set("Media", string(b))
	}
	return form
}

func (f *Face) webhooks(w http.ResponseWriter, r *http.Request, c *conversation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	js := func(h hook) map[string]any {
		return map[string]any{"sid": h.sid, "account_sid": "AC00000000000000000000000000000000", "conversation_sid": c.sid, "target": "webhook",
			"configuration": map[string]any{"url": h.url, "method": "POST", "filters": h.filters}, "url": base + "/Conversations/" + c.sid + "/Webhooks/" + h.sid}
	}
	if r.Method == http.MethodGet {
		list := []map[string]any{}
		for _, h := range c.hooks {
			list = append(list, js(h))
		}
		facekit.WriteJSON(w, http.StatusOK, map[string]any{"webhooks": list, "meta": map[string]any{"page": 0, "page_size": 50, "next_page_url": nil, "key": "webhooks"}})
		return
	}
	form := r.PostForm
	if form.Get("Target") != "webhook" || form.Get("Configuration.Url") == "" {
		twilioError(w, http.StatusBadRequest, 20001, "Target and Configuration.Url are required")
		return
	}
	if len(c.hooks) >= 5 {
		twilioError(w, http.StatusBadRequest, 50355, "A conversation has five scoped webhooks at most")
		return
	}
	h := hook{sid: f.sid("WH"), url: form.Get("Configuration.Url"), filters: form["Configuration.Filters"]}
	c.hooks = append(c.hooks, h)
	facekit.WriteJSON(w, http.StatusCreated, js(h))
}
