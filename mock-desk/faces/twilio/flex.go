package twilioface

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// interactions serves POST /v1/Interactions (the hand-off) and POST
// /v1/Interactions/{KD}/Channels/{UO} (Status=closed: the customer's end).
func (f *Face) interactions(w http.ResponseWriter, r *http.Request, seg []string) {
	if r.Method != http.MethodPost {
		twilioError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	_ = r.ParseForm()
	if len(seg) == 3 && seg[1] == "Channels" {
		f.mu.Lock()
		c := f.inters[seg[0]]
		f.mu.Unlock()
		if c == nil || c.channel != seg[2] {
			twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
			return
		}
		if s := r.PostForm.Get("Status"); s != "closed" && s != "inactive" {
			twilioError(w, http.StatusBadRequest, 20001, "Status must be closed or inactive")
			return
		}
		f.closeChat(r, c)
		facekit.WriteJSON(w, http.StatusOK, map[string]any{"sid": c.channel, "interaction_sid": c.interaction, "type": "web", "status": "closed", "error_code": nil, "error_message": nil})
		return
	}
	if len(seg) != 0 {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	var channel struct {
		Type        string `json:"type"`
		InitiatedBy string `json:"initiated_by"`
		Properties  struct {
			MediaChannelSID string `json:"media_channel_sid"`
		} `json:"properties"`
	}
	var routing struct {
		Properties struct {
			WorkspaceSID string         `json:"workspace_sid"`
			WorkflowSID  string         `json:"workflow_sid"`
			TaskChannel  string         `json:"task_channel_unique_name"`
			Attributes   map[string]any `json:"attributes"`
		} `json:"properties"`
	}
	if json.Unmarshal([]byte(r.PostForm.Get("Channel")), &channel) != nil || json.Unmarshal([]byte(r.PostForm.Get("Routing")), &routing) != nil {
		twilioError(w, http.StatusBadRequest, 20001, "Channel and Routing must be JSON")
		return
	}
	f.mu.Lock()
	c := f.convs[channel.Properties.MediaChannelSID]
	f.mu.Unlock()
	if c == nil || routing.Properties.WorkspaceSID == "" {
		twilioError(w, http.StatusBadRequest, 20001, "properties.media_channel_sid must name a conversation, and routing a workspace_sid")
		return
	}
	attrs := map[string]string{}
	for k, v := range routing.Properties.Attributes {
		if s, ok := v.(string); ok {
			attrs[k] = s
		} else {
			b, _ := json.Marshal(v)
			attrs[k] = string(b)
		}
	}
	name := attrs["customerName"]
	if name == "" {
		name = attrs["from"]
	}
	chat, err := f.d.StartCustomerChat(r.Context(), mockdesk.ChatStart{Customer: deskproto.Customer{ID: c.customer, Name: name},
		Summary: attrs[f.opts.SummaryAttribute], Attributes: attrs})
	if err != nil {
		deskError(w, err)
		return
	}
	f.mu.Lock()
	c.chat, c.interaction, c.channel = chat, f.sid("KD"), f.sid("UO")
	f.inters[c.interaction] = c
	sid, ch := c.interaction, c.channel
	f.mu.Unlock()
	f.d.Go(func(ctx context.Context) { f.follow(ctx, c, chat) })
	b, _ := json.Marshal(attrs)
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"sid": sid, "channel": map[string]any{"type": channel.Type, "sid": ch},
		"routing": map[string]any{"reservation": nil, "properties": map[string]any{"workspace_sid": routing.Properties.WorkspaceSID,
			"task_channel_unique_name": routing.Properties.TaskChannel, "assignment_status": "pending", "attributes": string(b)}},
		"interaction_context_sid": nil, "webhook_ttid": "flex_interactionwebhook_" + strings.ToLower(sid[2:28]),
		"url": "https://flex-api.twilio.com/v1/Interactions/" + sid, "links": map[string]any{"channels": "https://flex-api.twilio.com/v1/Interactions/" + sid + "/Channels"}})
}

// closeChat ends c's chat as its customer and closes the conversation.
func (f *Face) closeChat(r *http.Request, c *conversation) {
	f.mu.Lock()
	chat := c.chat
	was := c.state
	c.state = "closed"
	f.mu.Unlock()
	if chat != nil && was != "closed" {
		_ = chat.End(r.Context())
	}
}

// follow turns the chat's events into the conversation's changes and
// webhooks. A dropped connection loses the webhooks of what happens until
// the chat can be followed again; the conversation still changes.
func (f *Face) follow(ctx context.Context, c *conversation, chat *mockdesk.CustomerChat) {
	var after uint64
	quiet := false
	for {
		fl, err := chat.Follow(ctx, after)
		if err != nil {
			if errors.Is(err, mockdesk.ErrUnavailable) {
				quiet = true
				select {
				case <-time.After(50 * time.Millisecond):
					continue
				case <-ctx.Done():
					return
				}
			}
			return
		}
		for {
			evs, err := fl.Next(ctx)
			if err != nil {
				if errors.Is(err, mockdesk.ErrUnavailable) {
					quiet = true
					break
				}
				return
			}
			for _, e := range evs {
				f.apply(c, e, !quiet)
			}
			quiet = false
			after = fl.Seq()
		}
		after = fl.Seq()
	}
}

// apply makes one chat event the conversation's, with its webhook when
// loud.
func (f *Face) apply(c *conversation, e deskproto.Event, loud bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	send := func(form url.Values) {
		if loud {
			f.emit(c, form)
		}
	}
	switch e.Type {
	case deskproto.EventAgentJoined:
		if e.Agent == nil {
			return
		}
		f.agents[e.Agent.ID] = *e.Agent
		p := &participant{sid: f.sid("MB"), identity: e.Agent.ID, attrs: `{"member_type":"agent"}`}
		c.parts = append(c.parts, p)
		c.agentPart, c.joined = p.sid, true
		send(url.Values{"EventType": {"onParticipantAdded"}, "ConversationSid": {c.sid}, "ParticipantSid": {p.sid}, "Identity": {p.identity},
			"Attributes": {p.attrs}, "DateCreated": {iso(time.Now())}})
	case deskproto.EventAgentMessage:
		if e.Message == nil {
			return
		}
		author := "system"
		if e.Agent != nil {
			author = e.Agent.ID
		}
		m := &message{sid: f.sid("IM"), index: len(c.msgs), author: author, body: markdown(*e.Message), attrs: "{}", created: time.Now(),
			participant: c.agentPart, deskID: e.MessageID}
		c.msgs = append(c.msgs, m)
		send(f.messageForm(c, m))
	case deskproto.EventAgentRead:
		p := c.part(c.agentPart)
		if p == nil {
			return
		}
		idx := len(c.msgs) - 1
		p.read = &idx
		send(url.Values{"EventType": {"onParticipantUpdated"}, "ConversationSid": {c.sid}, "ParticipantSid": {p.sid}, "Identity": {p.identity},
			"LastReadMessageIndex": {strconv.Itoa(idx)}, "LastReadTimestamp": {iso(time.Now())}, "DateUpdated": {time.Now().UTC().Format(time.RFC3339Nano)}})
	case deskproto.EventAgentLeft:
		p := c.part(c.agentPart)
		if p == nil {
			return
		}
		c.remove(p.sid)
		c.agentPart = ""
		send(url.Values{"EventType": {"onParticipantRemoved"}, "ConversationSid": {c.sid}, "ParticipantSid": {p.sid}, "Identity": {p.identity}})
	case deskproto.EventChatEnded:
		if c.state == "closed" {
			return // the customer's end: closed already
		}
		c.state = "closed"
		if !c.joined {
			// The task never reached an agent: TaskRouter cancels it.
			reason := e.Reason
			for _, prev := range c.errors {
				reason = prev
			}
			attrs, _ := json.Marshal(map[string]string{"conversationSid": c.sid, "flexInteractionSid": c.interaction, "flexInteractionChannelSid": c.channel})
			send(url.Values{"EventType": {"task.canceled"}, "Sid": {f.sid("EV")}, "WorkspaceSid": {"WS00000000000000000000000000000000"},
				"ResourceType": {"task"}, "TaskSid": {f.sid("WT")}, "TaskAttributes": {string(attrs)}, "TaskCanceledReason": {reason},
				"Timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}})
		}
		send(url.Values{"EventType": {"onConversationStateUpdated"}, "ConversationSid": {c.sid}, "StateFrom": {"active"}, "StateTo": {"closed"},
			"Reason": {"API"}, "DateUpdated": {iso(time.Now())}})
	case deskproto.EventError:
		c.errors = append(c.errors, e.Reason)
	}
}

func (c *conversation) part(sid string) *participant {
	for _, p := range c.parts {
		if p.sid == sid {
			return p
		}
	}
	return nil
}

func (c *conversation) remove(sid string) {
	for i, p := range c.parts {
		if p.sid == sid {
			c.parts = append(c.parts[:i], c.parts[i+1:]...)
			return
		}
	}
}

// markdown writes an agent message as a Twilio body, as a Flex agent
// would type it: the items' paragraphs one after another, an image as
// "![alt](source)" and a link button as "[label](url)".
func markdown(m servicedesk.MessageResponse) string {
	var b strings.Builder
	for _, it := range m.Output.Generic {
		para := paragraph(it)
		if para == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(para)
	}
	return b.String()
}

func paragraph(it servicedesk.GenericItem) string {
	if it.ResponseType == servicedesk.ResponseImage {
		return fmt.Sprintf("![%s](%s)", it.AltText, it.Source)
	}
	if it.ResponseType == servicedesk.ResponseButton {
		return fmt.Sprintf("[%s](%s)", it.Label, it.URL)
	}
	return servicedesk.NewResponse(it).PlainText()
}

// mediaService serves the Media Content Service: POST
// /v1/Services/{IS}/Media?Filename=… with the raw bytes, GET of a media
// and of its content.
func (f *Face) mediaService(w http.ResponseWriter, r *http.Request, service string, seg []string) {
	host := "http://" + r.Host
	js := func(m *media) map[string]any {
		link := m.link
		if link == "" {
			link = host + "/v1/Services/" + m.service + "/Media/" + m.sid + "/Content"
		}
		return map[string]any{"sid": m.sid, "service_sid": m.service, "size": len(m.content), "content_type": m.ctype, "filename": m.name,
			"date_created": iso(time.Now()), "links": map[string]any{"content": "/v1/Services/" + m.service + "/Media/" + m.sid + "/Content",
				"content_direct_temporary": link}, "url": "/v1/Services/" + m.service + "/Media/" + m.sid}
	}
	switch {
	case len(seg) == 0 && r.Method == http.MethodPost:
		limit := f.d.Options().MaxBodyBytes
		if limit <= 0 {
			limit = 32 << 20
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			twilioError(w, http.StatusRequestEntityTooLarge, 20413, "Media exceeds the size limit")
			return
		}
		f.mu.Lock()
		m := &media{sid: f.sid("ME"), service: service, name: r.URL.Query().Get("Filename"), ctype: r.Header.Get("Content-Type"), content: b}
		f.media[m.sid] = m
		f.mu.Unlock()
		facekit.WriteJSON(w, http.StatusCreated, js(m))
	case len(seg) >= 1 && r.Method == http.MethodGet:
		f.mu.Lock()
		m := f.media[seg[0]]
		f.mu.Unlock()
		if m == nil {
			twilioError(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource /Services/%s/Media/%s was not found", service, seg[0]))
			return
		}
		if len(seg) == 2 && seg[1] == "Content" {
			w.Header().Set("Content-Type", m.ctype)
			_, _ = w.Write(m.content)
			return
		}
		facekit.WriteJSON(w, http.StatusOK, js(m))
	default:
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	}
}
