package niceface

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// The desk's events as CXone push events and messages, and the thread's
// recovery.

type timedMessage struct {
	at  time.Time
	msg map[string]any
}

func (th *thread) caseJSON(status string, assignee map[string]any) map[string]any {
	return map[string]any{"id": th.contact, "contactId": th.contact, "status": status, "threadIdOnExternalPlatform": th.id, "inboxAssigneeUser": assignee}
}

// customerMessage records and returns the customer's message as CXone
// returns it (inbound).
func (th *thread) customerMessage(d eventData, files []*upload, at time.Time) map[string]any {
	atts := []map[string]any{}
	for _, u := range files {
		atts = append(atts, map[string]any{"id": u.id, "friendlyName": u.name, "mimeType": u.mime, "url": "https://app-eu1.brandembassy.com/file/" + u.id})
	}
	m := map[string]any{"id": facekit.NewID("", 8), "idOnExternalPlatform": d.MessageID, "direction": "inbound", "createdAt": wireTime(at),
		"threadIdOnExternalPlatform": th.id, "attachments": atts, "authorUser": nil,
		"authorEndUserIdentity": map[string]any{"idOnExternalPlatform": th.owner},
		"messageContent":        map[string]any{"type": "TEXT", "payload": map[string]any{"text": d.MessageContent.Payload.Text}}}
	th.mu.Lock()
	th.mine = append(th.mine, timedMessage{at: at, msg: m})
	th.mu.Unlock()
	return m
}

func (th *thread) messageEvent(msg map[string]any, status string) map[string]any {
	return map[string]any{"case": th.caseJSON(status, nil), "thread": map[string]any{"idOnExternalPlatform": th.id}, "message": msg}
}

// agentMessage is an agent's message: its text as a TEXT message, images
// as attachments and link buttons as payload.elements of type BUTTON;
// streamed, text alone is a STREAMED message whose source streams it.
func (f *Face) agentMessage(e deskproto.Event, th *thread, author *servicedesk.AgentProfile, streamBase string) map[string]any {
	if e.Message == nil || author == nil {
		return nil
	}
	var texts []string
	atts, buttons := []map[string]any{}, []map[string]any{}
	for _, it := range e.Message.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseImage:
			atts = append(atts, map[string]any{"id": facekit.NewID("", 6), "friendlyName": it.AltText, "url": it.Source, "mimeType": "image/png", "isInline": true})
		case servicedesk.ResponseButton:
			buttons = append(buttons, map[string]any{"type": "BUTTON", "text": it.Label, "url": it.URL})
		default:
			if t := servicedesk.NewResponse(it).PlainText(); t != "" {
				texts = append(texts, t)
			}
		}
	}
	if len(texts) == 0 && len(atts) == 0 && len(buttons) == 0 {
		return nil
	}
	text := strings.Join(texts, "\n\n")
	payload := map[string]any{"text": text}
	if len(buttons) > 0 {
		payload["elements"] = buttons
	}
	content := map[string]any{"type": "TEXT", "payload": payload}
	if streamBase != "" && len(atts) == 0 && len(buttons) == 0 {
		f.mu.Lock()
		f.streams[e.MessageID] = text
		f.mu.Unlock()
		content = map[string]any{"type": "STREAMED", "payload": map[string]any{"protocol": "sse", "sourceUrl": streamBase + "/stream/" + e.MessageID}}
	}
	return map[string]any{"id": e.MessageID, "idOnExternalPlatform": e.MessageID, "direction": "outbound", "createdAt": wireTime(e.Time),
		"threadIdOnExternalPlatform": th.id, "authorUser": f.user(author), "attachments": atts, "messageContent": content}
}

// renderer turns one thread's desk events into pushes, following who is
// assigned: a transfer keeps the assignee until the next one joins, so
// the push names both (CXone reassigns; it has no transfer event).
type renderer struct {
	f          *Face
	th         *thread
	assignee   *servicedesk.AgentProfile
	streamBase string // the face's URL, when agent text is streamed
}

func (r *renderer) push(e deskproto.Event) map[string]any {
	th, f := r.th, r.f
	ev := func(object, typ string, data map[string]any) map[string]any {
		data["brand"] = map[string]any{"id": f.opts.BrandID}
		data["channel"] = map[string]any{"id": f.opts.ChannelID}
		out := map[string]any{"eventId": facekit.NewID("", 12), "eventType": typ, "createdAt": wireTime(e.Time), "data": data}
		if object != "" {
			out["eventObject"] = object
		}
		return out
	}
	status := "new"
	if r.assignee != nil {
		status = "open"
	}
	switch e.Type {
	case deskproto.EventQueueUpdate:
		if e.Position == nil {
			return nil
		}
		return ev("", "SetPositionInQueue", map[string]any{"consumerContact": map[string]any{"id": th.contact},
			"positionInQueue": *e.Position, "routingQueue": map[string]any{}, "isAnyAgentOnlineForQueue": true})
	case deskproto.EventAgentJoined:
		prev := r.assignee
		r.assignee = e.Agent
		return ev("Case", "CaseInboxAssigneeChanged", map[string]any{"case": th.caseJSON("open", f.user(e.Agent)),
			"inboxAssignee": f.user(e.Agent), "previousInboxAssignee": f.user(prev)})
	case deskproto.EventAgentLeft:
		prev := r.assignee
		if prev == nil {
			prev = e.Agent
		}
		r.assignee = nil
		if prev == nil {
			return nil
		}
		return ev("Case", "CaseInboxAssigneeChanged", map[string]any{"case": th.caseJSON("open", nil),
			"inboxAssignee": nil, "previousInboxAssignee": f.user(prev)})
	case deskproto.EventAgentTyping:
		who := cmpAgent(e.Agent, r.assignee)
		if e.Typing == nil || who == nil {
			return nil
		}
		typ := "SenderTypingEnded"
		if *e.Typing {
			typ = "SenderTypingStarted"
		}
		return ev("SenderAction", typ, map[string]any{"thread": map[string]any{"idOnExternalPlatform": th.id}, "user": f.user(who), "direction": "outbound"})
	case deskproto.EventAgentRead:
		th.mu.Lock()
		var last map[string]any
		if n := len(th.mine); n > 0 {
			last = th.mine[n-1].msg
		}
		th.mu.Unlock()
		if last == nil {
			return nil
		}
		return ev("Message", "MessageSeenChanged", map[string]any{"contact": th.caseJSON(status, nil), "message": last,
			"agentContact": map[string]any{"id": facekit.NewID("", 6), "user": f.user(cmpAgent(e.Agent, r.assignee))}})
	case deskproto.EventAgentMessage:
		m := f.agentMessage(e, th, cmpAgent(e.Agent, r.assignee), r.streamBase)
		if m == nil {
			return nil
		}
		return ev("Message", "MessageCreated", map[string]any{"case": th.caseJSON(status, nil), "thread": map[string]any{"idOnExternalPlatform": th.id}, "message": m})
	case deskproto.EventChatEnded:
		r.assignee = nil
		return ev("Case", "CaseStatusChanged", map[string]any{"case": th.caseJSON("closed", nil)})
	}
	return nil
}

func cmpAgent(a, b *servicedesk.AgentProfile) *servicedesk.AgentProfile {
	if a != nil {
		return a
	}
	return b
}

// recover is RecoverLivechat: the thread's contact, its assignee and its
// messages, newest first; from now on the thread is pushed on this
// connection (the follower starts before the history is read, so nothing
// falls between the two).
func (cn *conn) recover(ctx context.Context, req request, th *thread) {
	cn.follow(ctx, th, mockdesk.Latest)
	info, err := th.cc.Info(ctx)
	if err != nil {
		cn.failErr(req, err)
		return
	}
	events, err := facekit.History(ctx, th.cc)
	if err != nil {
		cn.failErr(req, err)
		return
	}
	th.mu.Lock()
	msgs := slices.Clone(th.mine)
	th.mu.Unlock()
	var in *servicedesk.AgentProfile
	for _, e := range events {
		switch e.Type {
		case deskproto.EventAgentJoined:
			in = e.Agent
		case deskproto.EventAgentLeft, deskproto.EventChatEnded:
			in = nil
		case deskproto.EventAgentMessage:
			if m := cn.f.agentMessage(e, th, cmpAgent(e.Agent, in), ""); m != nil {
				msgs = append(msgs, timedMessage{at: e.Time, msg: m})
			}
		}
	}
	slices.SortStableFunc(msgs, func(a, b timedMessage) int { return b.at.Compare(a.at) })
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		out[i] = m.msg
	}
	status := "new"
	switch {
	case info.State == mockdesk.StateEnded:
		status = "closed"
	case info.Agent != nil:
		status = "open"
	}
	assignee := cn.f.user(info.Agent)
	cn.answer(req, "LivechatRecovered", map[string]any{
		"thread":  map[string]any{"id": th.id, "idOnExternalPlatform": th.id, "threadName": ""},
		"contact": th.caseJSON(status, assignee), "inboxAssignee": assignee, "ownerAssignee": nil,
		"messages": out, "messagesScrollToken": "", "contactHistory": []any{}, "customer": map[string]any{}})
}
