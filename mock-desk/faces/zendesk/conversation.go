package zendeskface

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

type switchboardIntegration struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	IntegrationID   string `json:"integrationId,omitempty"`
	IntegrationType string `json:"integrationType"`
}

type author struct {
	Type        string `json:"type"`
	UserID      string `json:"userId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	AvatarURL   string `json:"avatarUrl,omitempty"`
}

type action struct {
	Type string `json:"type"`
	Text string `json:"text"`
	URI  string `json:"uri,omitempty"`
}

type content struct {
	Type      string   `json:"type"`
	Text      string   `json:"text,omitempty"`
	MediaURL  string   `json:"mediaUrl,omitempty"`
	MediaType string   `json:"mediaType,omitempty"`
	MediaSize int      `json:"mediaSize,omitempty"`
	AltText   string   `json:"altText,omitempty"`
	Actions   []action `json:"actions,omitempty"`
}

type message struct {
	ID       string         `json:"id"`
	Received string         `json:"received"`
	Author   author         `json:"author"`
	Content  content        `json:"content"`
	Source   map[string]any `json:"source"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// conversation is one conversation and, while the Agent Workspace has
// control, its mock-desk chat.
type conversation struct {
	id       string
	user     *user
	metadata map[string]any
	created  string
	msgs     []message
	byKey    map[string]int // message index by the integration's id
	active   *switchboardIntegration
	chat     *mockdesk.CustomerChat
	agent    author
	out      *facekit.Outbox[map[string]any]
}

func (c *conversation) view() map[string]any {
	v := map[string]any{"id": c.id, "type": "personal", "isDefault": false, "createdAt": c.created, "lastUpdatedAt": c.created}
	if len(c.metadata) > 0 {
		v["metadata"] = c.metadata
	}
	if c.active != nil {
		v["activeSwitchboardIntegration"] = *c.active
	}
	return v
}

type convHandler func(w http.ResponseWriter, r *http.Request, c *conversation)

// conv finds the path's conversation; while DropConnections cuts its chat
// off, the conversation's calls answer 503.
func (f *Face) conv(h convHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		c := f.convs[r.PathValue("conv")]
		var chat *mockdesk.CustomerChat
		if c != nil {
			chat = c.chat
		}
		f.mu.Unlock()
		if c == nil {
			apiError(w, http.StatusNotFound, "conversation_not_found", "Conversation not found")
			return
		}
		if chat != nil {
			if _, err := chat.Info(r.Context()); errors.Is(err, mockdesk.ErrUnavailable) {
				apiError(w, http.StatusServiceUnavailable, "service_unavailable", "Service unavailable")
				return
			}
		}
		h(w, r, c)
	}
}

func (f *Face) createConversation(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Type         string `json:"type"`
		Participants []struct {
			UserID         string `json:"userId"`
			UserExternalID string `json:"userExternalId"`
		} `json:"participants"`
		Metadata map[string]any `json:"metadata"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Type != "personal" || len(body.Participants) != 1 {
		apiError(w, http.StatusBadRequest, "bad_request", "A personal conversation has exactly one participant")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := body.Participants[0]
	u := f.users[p.UserID]
	if p.UserExternalID != "" {
		u = f.external[p.UserExternalID]
	}
	if u == nil {
		apiError(w, http.StatusNotFound, "user_not_found", "User not found")
		return
	}
	bot := integration
	c := &conversation{id: newID(), user: u, metadata: body.Metadata, created: now(), byKey: map[string]int{}, active: &bot}
	id := c.id
	c.out = facekit.NewOutbox(f.d, func(ctx context.Context, ev map[string]any, firstFails bool) bool {
		return f.deliver(ctx, id, ev, firstFails)
	})
	f.convs[c.id] = c
	facekit.WriteJSON(w, http.StatusCreated, map[string]any{"conversation": c.view()})
}

func (f *Face) getConversation(w http.ResponseWriter, _ *http.Request, c *conversation) {
	f.mu.Lock()
	v := c.view()
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"conversation": v})
}

// listMessages pages backwards: the last 100 by default, or the 100
// before page[before].
func (f *Face) listMessages(w http.ResponseWriter, r *http.Request, c *conversation) {
	f.mu.Lock()
	msgs := c.msgs
	if before := r.URL.Query().Get("page[before]"); before != "" {
		if i := slices.IndexFunc(msgs, func(m message) bool { return m.ID == before }); i >= 0 {
			msgs = msgs[:i]
		}
	}
	meta := map[string]any{"hasMore": false}
	if len(msgs) > 100 {
		msgs = msgs[len(msgs)-100:]
		meta = map[string]any{"hasMore": true, "beforeCursor": msgs[0].ID}
	}
	msgs = slices.Clone(msgs)
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"messages": msgs, "meta": meta})
}

// store appends m to the conversation and announces it by webhook.
func (f *Face) store(c *conversation, m message, key string) message {
	f.mu.Lock()
	m.ID, m.Received = newID(), now()
	if m.Source == nil {
		m.Source = map[string]any{"type": "api:conversations"}
	}
	c.msgs = append(c.msgs, m)
	if key != "" {
		c.byKey[key] = len(c.msgs) - 1
	}
	ev := f.event("conversation:message", c, map[string]any{"message": m})
	f.mu.Unlock()
	c.out.Push(ev)
	return m
}

func (f *Face) postMessage(w http.ResponseWriter, r *http.Request, c *conversation) {
	var body struct {
		Author   author         `json:"author"`
		Content  content        `json:"content"`
		Metadata map[string]any `json:"metadata"`
	}
	if !decode(w, r, &body) {
		return
	}
	a, ct := body.Author, body.Content
	switch {
	case a.Type != "user" && a.Type != "business":
		apiError(w, http.StatusBadRequest, "bad_request", "author.type must be user or business")
		return
	case ct.Type != "text" && ct.Type != "image" && ct.Type != "file":
		apiError(w, http.StatusBadRequest, "bad_request", "Unsupported content type")
		return
	case ct.Type == "text" && ct.Text == "" || len([]rune(ct.Text)) > 4096:
		apiError(w, http.StatusBadRequest, "bad_request", "text is required and at most 4096 characters")
		return
	case ct.Type != "text" && f.attachmentOf(ct.MediaURL) == nil:
		apiError(w, http.StatusBadRequest, "bad_request", "mediaUrl is not an uploaded attachment")
		return
	}
	key, _ := body.Metadata[f.opts.MessageIDKey].(string)
	f.mu.Lock()
	if i, ok := c.byKey[key]; ok && key != "" {
		m := c.msgs[i]
		f.mu.Unlock()
		facekit.WriteJSON(w, http.StatusCreated, map[string]any{"messages": []message{m}})
		return
	}
	chat := c.chat
	if a.Type == "user" {
		a.UserID = c.user.ID
	}
	f.mu.Unlock()
	m := message{Author: a, Content: ct, Metadata: body.Metadata}
	if a.Type == "user" && chat != nil {
		if status, code, title := f.toDesk(r.Context(), chat, &m, key); status != 0 {
			apiError(w, status, code, title)
			return
		}
	}
	m = f.store(c, m, key)
	facekit.WriteJSON(w, http.StatusCreated, map[string]any{"messages": []message{m}})
}

// toDesk gives the customer's message to the agent: its file checked by
// the desk (Zendesk's file validation), then the message. A refusal
// answers 400 with the desk's reason; the desk still records it.
func (f *Face) toDesk(ctx context.Context, chat *mockdesk.CustomerChat, m *message, key string) (int, string, string) {
	msgID := key
	if msgID == "" {
		msgID = newID()
	}
	var fileIDs []string
	refused := ""
	if m.Content.Type != "text" {
		a := f.attachmentOf(m.Content.MediaURL)
		res, err := chat.Upload(ctx, mockdesk.Upload{FileID: a.id, MessageID: msgID, Name: a.name, Type: a.mediaType, Content: a.content})
		if errors.Is(err, mockdesk.ErrUnavailable) {
			return http.StatusServiceUnavailable, "service_unavailable", "Service unavailable"
		}
		if err != nil {
			refused = mockdesk.Reason(err)
		}
		fileIDs = append(fileIDs, res.FileID)
		m.Content.MediaType, m.Content.MediaSize = a.mediaType, len(a.content)
	}
	_, err := chat.Send(ctx, deskproto.Message{IdempotencyKey: msgID, Message: servicedesk.NewTextRequest(m.Content.Text), FileIDs: fileIDs})
	switch {
	case errors.Is(err, mockdesk.ErrUnavailable):
		return http.StatusServiceUnavailable, "service_unavailable", "Service unavailable"
	case err != nil:
		return http.StatusBadRequest, "bad_request", mockdesk.Reason(err)
	case refused != "":
		return http.StatusBadRequest, "bad_request", refused
	}
	return 0, "", ""
}

func (f *Face) postActivity(w http.ResponseWriter, r *http.Request, c *conversation) {
	var body struct {
		Author author `json:"author"`
		Type   string `json:"type"`
	}
	if !decode(w, r, &body) {
		return
	}
	switch {
	case body.Type != "conversation:read" && body.Type != "typing:start" && body.Type != "typing:stop":
		apiError(w, http.StatusBadRequest, "bad_request", "Unsupported activity type")
		return
	case body.Author.Type == "user" && body.Type != "conversation:read":
		apiError(w, http.StatusBadRequest, "bad_request", "If the author type is user, only conversation:read is supported")
		return
	}
	f.mu.Lock()
	chat := c.chat
	f.mu.Unlock()
	if chat != nil && body.Author.Type == "user" {
		if err := chat.Read(r.Context(), ""); errors.Is(err, mockdesk.ErrUnavailable) {
			apiError(w, http.StatusServiceUnavailable, "service_unavailable", "Service unavailable")
			return
		}
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{})
}

// target resolves a switchboardIntegration reference: id, name or
// integration type, or next (the other one).
func target(ref string, active *switchboardIntegration) (switchboardIntegration, bool) {
	for _, si := range []switchboardIntegration{integration, agentWorkspace} {
		if ref == si.ID || ref == si.Name || ref == si.IntegrationType {
			return si, true
		}
	}
	if ref == "next" {
		if active != nil && active.ID == agentWorkspace.ID {
			return integration, true
		}
		return agentWorkspace, true
	}
	return switchboardIntegration{}, false
}

func (f *Face) passControl(w http.ResponseWriter, r *http.Request, c *conversation) {
	var body struct {
		SwitchboardIntegration string         `json:"switchboardIntegration"`
		Metadata               map[string]any `json:"metadata"`
	}
	if !decode(w, r, &body) {
		return
	}
	f.mu.Lock()
	to, ok := target(body.SwitchboardIntegration, c.active)
	active, chat := c.active, c.chat
	f.mu.Unlock()
	switch {
	case !ok:
		apiError(w, http.StatusBadRequest, "bad_request", "Switchboard integration not found")
		return
	case active != nil && active.ID == to.ID: // idempotent
	case to.ID == agentWorkspace.ID:
		f.toAgentWorkspace(r.Context(), c, body.Metadata)
	default:
		if chat != nil {
			if err := chat.End(r.Context()); errors.Is(err, mockdesk.ErrUnavailable) {
				apiError(w, http.StatusServiceUnavailable, "service_unavailable", "Service unavailable")
				return
			}
		}
		f.setActive(c, &to, "switchboard:passControl", map[string]any{"metadata": body.Metadata})
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{})
}

func (f *Face) releaseControl(w http.ResponseWriter, r *http.Request, c *conversation) {
	f.mu.Lock()
	chat := c.chat
	f.mu.Unlock()
	if chat != nil {
		if err := chat.End(r.Context()); errors.Is(err, mockdesk.ErrUnavailable) {
			apiError(w, http.StatusServiceUnavailable, "service_unavailable", "Service unavailable")
			return
		}
	}
	f.setActive(c, nil, "switchboard:releaseControl", map[string]any{})
	facekit.WriteJSON(w, http.StatusOK, map[string]any{})
}

// setActive changes the active integration (the chat with the desk is
// over unless it is the Agent Workspace) and announces it.
func (f *Face) setActive(c *conversation, si *switchboardIntegration, typ string, payload map[string]any) {
	f.mu.Lock()
	c.active = si
	if si == nil || si.ID != agentWorkspace.ID {
		c.chat = nil
	}
	ev := f.event(typ, c, payload)
	f.mu.Unlock()
	c.out.Push(ev)
}

// toAgentWorkspace starts the desk's chat: the agent reads the
// conversation from first_message_id (all of it without), the requester
// and the metadata.
func (f *Face) toAgentWorkspace(ctx context.Context, c *conversation, md map[string]any) {
	f.mu.Lock()
	first, _ := md["first_message_id"].(string)
	var lines []string
	from := slices.IndexFunc(c.msgs, func(m message) bool { return m.ID == first })
	for _, m := range c.msgs[max(from, 0):] {
		lines = append(lines, m.Content.Text)
	}
	attrs := map[string]string{}
	for _, src := range []map[string]any{c.metadata, md} {
		for k, v := range src {
			if s, ok := v.(string); ok && k != "first_message_id" {
				attrs[k] = s
			}
		}
	}
	cust := deskproto.Customer{ID: c.user.ExternalID}
	if name, ok := md["dataCapture.systemField.requester.name"].(string); ok {
		cust.Name = name
	} else if name, ok := c.user.Profile["givenName"].(string); ok {
		cust.Name = name
	}
	f.mu.Unlock()
	chat, err := f.d.StartCustomerChat(ctx, mockdesk.ChatStart{Customer: cust, Summary: strings.Join(lines, "\n"), Attributes: attrs})
	if err != nil {
		f.mu.Lock()
		ev := f.event("switchboard:passControl:failure", c, map[string]any{"error": map[string]string{"code": "handoff_failed", "message": mockdesk.Reason(err)}})
		f.mu.Unlock()
		c.out.Push(ev)
		return
	}
	aw := agentWorkspace
	f.mu.Lock()
	c.chat = chat
	f.mu.Unlock()
	f.setActive(c, &aw, "switchboard:passControl", map[string]any{"metadata": md})
	f.d.Go(func(ctx context.Context) { f.follow(ctx, c, chat) })
}

// follow turns the desk's chat events into webhook events, following
// again after DropConnections cut it off, until the chat ends.
func (f *Face) follow(ctx context.Context, c *conversation, chat *mockdesk.CustomerChat) {
	var seq uint64
	for ctx.Err() == nil {
		fl, err := chat.Follow(ctx, seq)
		if err != nil {
			if errors.Is(err, mockdesk.ErrChatNotFound) {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		for {
			evs, err := fl.Next(ctx)
			for _, ev := range evs {
				f.agentSide(c, chat, ev)
			}
			seq = fl.Seq()
			if errors.Is(err, mockdesk.ErrChatEnded) || errors.Is(err, mockdesk.ErrClosed) {
				return
			}
			if err != nil {
				break
			}
		}
	}
}

// agentSide is what the Agent Workspace's side of ev looks like to the
// integration.
func (f *Face) agentSide(c *conversation, chat *mockdesk.CustomerChat, ev deskproto.Event) {
	switch ev.Type {
	case deskproto.EventAgentJoined:
		if ev.Agent == nil {
			return
		}
		f.mu.Lock()
		f.agents[ev.Agent.Nickname] = *ev.Agent
		c.agent = author{Type: "business", DisplayName: ev.Agent.Nickname, AvatarURL: ev.Agent.ProfilePictureURL}
		f.mu.Unlock()
		// Zendesk says nothing when an agent accepts the ticket: their first
		// sign is their typing.
		f.typing(c, true)
		f.typing(c, false)
	case deskproto.EventAgentTyping:
		if ev.Typing != nil {
			f.typing(c, *ev.Typing)
		}
	case deskproto.EventAgentMessage:
		if ev.Message == nil {
			return
		}
		f.mu.Lock()
		a := c.agent
		f.mu.Unlock()
		if a.Type == "" {
			a = author{Type: "business"}
		}
		f.store(c, message{Author: a, Content: contentOf(*ev.Message), Source: map[string]any{"type": "zd:agentWorkspace"}}, "")
	case deskproto.EventChatEnded:
		f.mu.Lock()
		ours := c.chat == chat
		f.mu.Unlock()
		if ours && ev.EndedBy != "customer" {
			bot := integration
			f.setActive(c, &bot, "switchboard:passControl", map[string]any{"reason": "ticketClosed"})
		}
	}
}

func (f *Face) typing(c *conversation, on bool) {
	typ := "typing:stop"
	if on {
		typ = "typing:start"
	}
	f.mu.Lock()
	ev := f.event("conversation:typing", c, map[string]any{"activity": map[string]any{"type": typ, "author": c.agent,
		"source": map[string]any{"type": "zd:agentWorkspace"}}})
	f.mu.Unlock()
	c.out.Push(ev)
}

// contentOf writes an agent's message as one Sunshine Conversations
// message: its texts, its first image as an image message, its link
// buttons as link actions.
func contentOf(m servicedesk.MessageResponse) content {
	ct := content{Type: "text"}
	var texts []string
	for _, it := range m.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseImage, servicedesk.ResponseVideo:
			if ct.Type == "text" && it.Source != "" {
				ct.Type, ct.MediaURL, ct.AltText = "image", it.Source, cmpStr(it.AltText, it.Title)
				continue
			}
			ct.Actions = append(ct.Actions, action{Type: "link", Text: cmpStr(it.Title, it.AltText, it.Source), URI: it.Source})
		case servicedesk.ResponseButton:
			if it.URL != "" {
				ct.Actions = append(ct.Actions, action{Type: "link", Text: it.Label, URI: it.URL})
			} else if it.Label != "" {
				texts = append(texts, it.Label)
			}
		default:
			if it.Text != "" {
				texts = append(texts, it.Text)
			}
		}
	}
	ct.Text = strings.Join(texts, "\n\n")
	if ct.Type == "text" && ct.Text == "" {
		ct.Text = " "
	}
	return ct
}

func cmpStr(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
