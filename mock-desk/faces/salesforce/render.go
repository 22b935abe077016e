package salesforceface

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// out is one conversation entry made of a desk event: its SSE event type,
// and whether the entries list holds it (typing and acknowledgements are
// live only).
type out struct {
	event, entryType, id string
	seq                  uint64
	ts                   int64
	sender               map[string]any
	name                 string
	payload              map[string]any
	related              []string
	listed               bool
}

func (o out) object() map[string]any {
	return map[string]any{"senderDisplayName": o.name, "identifier": o.id, "entryType": o.entryType, "entryPayload": o.payload,
		"sender": o.sender, "transcriptedTimestamp": o.ts, "relatedRecords": o.related, "clientTimestamp": o.ts}
}

// renderer turns a chat's events, in order, into entries; it keeps what
// later events need (the agent in the chat, a refusal's reason).
type renderer struct {
	f      *Face
	agent  *servicedesk.AgentProfile
	joined bool
	routed bool
	reason string
}

func newRenderer(f *Face) *renderer { return &renderer{f: f} }

func participant(p servicedesk.AgentProfile) map[string]any {
	role := "Agent"
	if p.UserType == servicedesk.UserBot {
		role = "Chatbot"
	}
	return map[string]any{"role": role, "appType": "agent", "subject": p.ID, "clientIdentifier": ""}
}

func (r *renderer) render(c *conversation, e deskproto.Event) []out {
	ts := e.Time.UnixMilli()
	if e.Time.IsZero() {
		ts = time.Now().UnixMilli()
	}
	base := out{seq: e.Seq, ts: ts, id: e.ID, sender: map[string]any{"role": "System", "appType": "conversation", "subject": ""}, name: "Automated Process"}
	change := func(op string, p servicedesk.AgentProfile) out {
		o := base
		o.event, o.entryType, o.listed, o.id = "CONVERSATION_PARTICIPANT_CHANGED", "ParticipantChanged", true, e.ID+"-"+op
		o.payload = map[string]any{"entryType": "ParticipantChanged", "id": e.ID, "entries": []any{map[string]any{"operation": op, "displayName": p.Nickname, "participant": participant(p), "menuMetadata": nil}}}
		return o
	}
	routing := func(typ, failure, reason string, wait *int) out {
		o := base
		o.event, o.entryType, o.listed = "CONVERSATION_ROUTING_RESULT", "RoutingResult", true
		o.sender = map[string]any{"role": "Router", "appType": "router", "subject": ""}
		ewt := map[string]any{"isEWTRequested": wait != nil, "estimatedWaitTimeInSeconds": nil}
		if wait != nil {
			ewt["estimatedWaitTimeInSeconds"] = *wait * 60
		}
		o.payload = map[string]any{"entryType": "RoutingResult", "id": e.ID, "routingType": typ, "failureType": failure, "failureReason": reason, "estimatedWaitTime": ewt, "isExternallyRouted": false}
		return o
	}
	agentSender := func(o out) out {
		if r.agent != nil {
			o.sender, o.name = participant(*r.agent), r.agent.Nickname
		}
		return o
	}
	switch e.Type {
	case deskproto.EventQueueUpdate:
		// The desk's first update is the chat's routing to a queue: the
		// initial routing result, without an estimate (a queue without
		// estimated wait time). Estimates the desk gives later come as
		// routing results with one.
		first := !r.routed
		r.routed = true
		if first {
			return []out{routing("Initial", "None", "", nil)}
		}
		if e.WaitMinutes != nil && *e.WaitMinutes >= 0 {
			return []out{routing("Initial", "None", "", e.WaitMinutes)}
		}
	case deskproto.EventAgentJoined:
		if e.Agent == nil {
			return nil
		}
		var outs []out
		if r.agent != nil && r.agent.ID != e.Agent.ID && r.joined {
			outs = append(outs, change("remove", *r.agent)) // the transfer's first agent goes
		}
		p := *e.Agent
		r.agent, r.joined = &p, true
		r.f.mu.Lock()
		r.f.agents[p.ID] = p
		r.f.mu.Unlock()
		return append(outs, change("add", p))
	case deskproto.EventAgentMessage:
		if e.Message == nil {
			return nil
		}
		o := agentSender(base)
		o.event, o.entryType, o.listed, o.id = "CONVERSATION_MESSAGE", "Message", true, e.MessageID
		o.payload = map[string]any{"entryType": "Message", "id": e.MessageID, "abstractMessage": abstract(e.MessageID, *e.Message), "messageReason": nil}
		return []out{o}
	case deskproto.EventAgentTyping:
		o := agentSender(base)
		o.event, o.entryType = "CONVERSATION_TYPING_STOPPED_INDICATOR", "TypingStoppedIndicator"
		if e.Typing != nil && *e.Typing {
			o.event, o.entryType = "CONVERSATION_TYPING_STARTED_INDICATOR", "TypingStartedIndicator"
		}
		o.payload = map[string]any{"entryType": o.entryType, "id": e.ID, "timestamp": ts}
		return []out{o}
	case deskproto.EventAgentRead:
		o := agentSender(base)
		o.event, o.entryType = "CONVERSATION_READ_ACKNOWLEDGEMENT", "ReadAcknowledgement"
		o.related = []string{e.ReadMessageID}
		o.payload = map[string]any{"entryType": "ReadAcknowledgement", "id": e.ID, "acknowledgementTimestamp": ts}
		return []out{o}
	case deskproto.EventTransferStarted:
		return []out{routing("Transfer", "None", "", nil)}
	case deskproto.EventAgentLeft:
		if r.agent != nil {
			o := change("remove", *r.agent)
			r.joined = false
			return []out{o}
		}
	case deskproto.EventError:
		r.reason = e.Reason
		if r.reason == "" {
			r.reason = e.Code
		}
	case deskproto.EventAgentEnded, deskproto.EventChatEnded:
		if e.Type == deskproto.EventChatEnded && r.agent == nil && e.EndedBy != mockdesk.EndedByCustomer {
			reason := r.reason
			if reason == "" {
				reason = e.Reason
			}
			return []out{routing("Initial", "RoutingError", reason, nil)}
		}
		o := base
		o.event, o.entryType = "CONVERSATION_CLOSE_CONVERSATION", "CloseConversation"
		o.payload = map[string]any{"entryType": "CloseConversation", "id": e.ID, "conversationIdentifier": c.id}
		return []out{o}
	}
	return nil
}

// abstract makes a StaticContentMessage of a desk message: a Text one,
// or, when it has images or link buttons, an Attachments one with the text
// beside them (a link travels as an attachment of type text/uri-list).
func abstract(id string, m servicedesk.MessageResponse) map[string]any {
	var texts []string
	var atts []any
	for _, it := range m.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseText:
			texts = append(texts, it.Text)
		case servicedesk.ResponseImage:
			atts = append(atts, map[string]any{"name": cmp.Or(it.AltText, it.Title), "id": id + "-" + strconv.Itoa(len(atts)), "mimeType": "image/png", "url": it.Source})
		case servicedesk.ResponseButton:
			if it.URL != "" {
				atts = append(atts, map[string]any{"name": it.Label, "id": id + "-" + strconv.Itoa(len(atts)), "mimeType": "text/uri-list", "url": it.URL})
			} else {
				texts = append(texts, it.Label)
			}
		default:
			if t := strings.TrimSpace(servicedesk.NewResponse(it).PlainText()); t != "" {
				texts = append(texts, t)
			}
		}
	}
	text := strings.Join(texts, "\n\n")
	if len(atts) > 0 {
		return map[string]any{"messageType": "StaticContentMessage", "id": id, "staticContent": map[string]any{"formatType": "Attachments", "text": text, "attachments": atts}}
	}
	return map[string]any{"messageType": "StaticContentMessage", "id": id, "staticContent": map[string]any{"formatType": "Text", "text": text}}
}

// sse serves GET /eventrouter/v1/sse: the subject's conversation events
// after Last-Event-Id (a sequence number), then as they come, with pings.
func (f *Face) sse(w http.ResponseWriter, r *http.Request) {
	subject, ok := f.subject(r)
	if !ok {
		fail(w, http.StatusUnauthorized, "Jwt is expired")
		return
	}
	if r.Header.Get("X-Org-Id") != f.opts.OrgID {
		fail(w, http.StatusBadRequest, "X-Org-Id is required")
		return
	}
	if f.faulted(w, r) {
		return
	}
	after, _ := strconv.ParseUint(r.Header.Get("Last-Event-Id"), 10, 64)
	fl, ok := w.(http.Flusher)
	if !ok {
		fail(w, http.StatusInternalServerError, "no streaming")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	opened := time.Now()
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	ctx := r.Context()
	faults := f.d.FrameFaults()
	write := func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return err
		}
		fl.Flush()
		return nil
	}
	ping := time.NewTicker(time.Duration(f.d.Options().PingInterval))
	defer ping.Stop()
	// The subject's conversation: the newest, once there is one.
	var c *conversation
	for c == nil {
		f.mu.Lock()
		if cs := f.bySub[subject]; len(cs) > 0 {
			c = cs[len(cs)-1]
		}
		f.mu.Unlock()
		if c != nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			_ = write([]byte("event: ping\ndata: {}\n\n"))
		case <-time.After(10 * time.Millisecond):
		}
	}
	rd := newRenderer(f)
	// Replay from the start through the renderer (it keeps state), sending
	// only what comes after Last-Event-Id.
	// A drop between the request and now cuts this stream too: it was the
	// customer's connection all along.
	fol, err := c.chat.FollowSince(ctx, 0, opened)
	if err != nil {
		return
	}
	type batch struct {
		evs []deskproto.Event
		err error
	}
	next := make(chan batch)
	go func() {
		for {
			evs, err := fol.Next(ctx)
			select {
			case next <- batch{evs, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			if write([]byte("event: ping\ndata: {}\n\n")) != nil {
				return
			}
		case b := <-next:
			if b.err != nil {
				if errors.Is(b.err, mockdesk.ErrChatEnded) {
					<-ctx.Done() // the stream stays open, quiet but for pings
				}
				return
			}
			for _, e := range b.evs {
				for _, o := range rd.render(c, e) {
					if o.seq <= after {
						continue
					}
					frame := frameOf(c, o)
					if err := faults.Write(ctx, frame, write); err != nil {
						return
					}
					if faults.Duplicate() && write(frame) != nil {
						return
					}
				}
			}
		}
	}
}

func frameOf(c *conversation, o out) []byte {
	obj := o.object()
	p, _ := json.Marshal(o.payload)
	obj["entryPayload"] = string(p) // a string on the stream
	data, _ := json.Marshal(map[string]any{"channelPlatformKey": "", "channelType": "embedded_messaging", "channelAddressIdentifier": "mock-channel",
		"conversationId": c.id, "conversationEntry": obj})
	return []byte("id: " + strconv.FormatUint(o.seq, 10) + "\nevent: " + o.event + "\ndata: " + string(data) + "\n\n")
}
