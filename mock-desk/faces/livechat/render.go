package livechatface

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// The desk's events as LiveChat pushes and events, and the history calls.

func agentUser(p *servicedesk.AgentProfile) map[string]any {
	u := map[string]any{"id": p.ID, "type": "agent", "name": p.Nickname, "present": true}
	if p.ProfilePictureURL != "" {
		u["avatar"] = p.ProfilePictureURL
	}
	return u
}

// pushes maps one desk event onto LiveChat pushes; inChat is the agent in
// the chat before it. It records the agents it sees for Agent.
func (f *Face) pushes(chatID, threadID, customerID string, e deskproto.Event, inChat *servicedesk.AgentProfile) []map[string]any {
	push := func(action string, payload map[string]any) []map[string]any {
		payload["chat_id"] = chatID
		if action != "events_marked_as_seen" {
			payload["thread_id"] = threadID
		}
		return []map[string]any{{"action": action, "type": "push", "payload": payload}}
	}
	agentID := func(p *servicedesk.AgentProfile) string {
		if p != nil {
			return p.ID
		}
		if inChat != nil {
			return inChat.ID
		}
		return ""
	}
	switch e.Type {
	case deskproto.EventQueueUpdate:
		q := map[string]any{}
		if e.Position != nil {
			q["position"] = *e.Position
		}
		if e.WaitMinutes != nil {
			q["wait_time"] = *e.WaitMinutes * 60
		}
		return push("queue_position_updated", map[string]any{"queue": q})
	case deskproto.EventAgentJoined:
		if e.Agent == nil {
			return nil
		}
		f.agents.Remember(e.Agent)
		return push("user_added_to_chat", map[string]any{"user": agentUser(e.Agent), "reason": "manual"})
	case deskproto.EventAgentLeft:
		if id := agentID(e.Agent); id != "" {
			return push("user_removed_from_chat", map[string]any{"user_id": id, "reason": "manual"})
		}
	case deskproto.EventTransferStarted:
		to := map[string]any{"group_ids": []int{0}}
		if e.Agent != nil {
			f.agents.Remember(e.Agent)
			to["agent_ids"] = []string{e.Agent.ID}
		}
		return push("chat_transferred", map[string]any{"transferred_to": to, "requester_id": agentID(nil)})
	case deskproto.EventAgentTyping:
		if id := agentID(e.Agent); id != "" && e.Typing != nil {
			return push("incoming_typing_indicator", map[string]any{"typing_indicator": map[string]any{
				"author_id": id, "recipients": "all", "timestamp": e.Time.Unix(), "is_typing": *e.Typing}})
		}
	case deskproto.EventAgentRead:
		if id := agentID(e.Agent); id != "" {
			return push("events_marked_as_seen", map[string]any{"user_id": id, "seen_up_to": wireTime(e.Time)})
		}
	case deskproto.EventAgentMessage:
		if ev := agentEvent(e, agentID(e.Agent)); ev != nil {
			return push("incoming_event", map[string]any{"event": ev})
		}
	case deskproto.EventChatEnded:
		p := map[string]any{}
		switch e.EndedBy {
		case mockdesk.EndedByAgent:
			if id := agentID(e.Agent); id != "" {
				p["user_id"] = id
			}
		case mockdesk.EndedByCustomer:
			p["user_id"] = customerID
		}
		return push("chat_deactivated", p)
	}
	return nil
}

// agentEvent is an agent message as a LiveChat event: a message when it
// is text only, else a rich message whose cards carry the text, images
// and link buttons.
func agentEvent(e deskproto.Event, author string) map[string]any {
	if e.Message == nil || author == "" {
		return nil
	}
	ev := map[string]any{"id": e.MessageID, "created_at": wireTime(e.Time), "author_id": author, "recipients": "all"}
	var texts []string
	var images []map[string]any
	var buttons []map[string]any
	for _, it := range e.Message.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseImage:
			images = append(images, map[string]any{"url": it.Source, "alternative_text": it.AltText, "content_type": "image/png"})
		case servicedesk.ResponseButton:
			buttons = append(buttons, map[string]any{"text": it.Label, "type": "url", "value": it.URL, "postback_id": "open_" + strconv.Itoa(len(buttons)), "user_ids": []string{}, "target": "new"})
		default:
			if t := servicedesk.NewResponse(it).PlainText(); t != "" {
				texts = append(texts, t)
			}
		}
	}
	if len(images) == 0 && len(buttons) == 0 {
		if len(texts) == 0 {
			return nil
		}
		ev["type"], ev["text"] = "message", strings.Join(texts, "\n\n")
		return ev
	}
	el := map[string]any{"title": strings.Join(texts, "\n\n"), "buttons": buttons}
	elements := []map[string]any{el}
	for i, img := range images {
		if i == 0 {
			el["image"] = img
			continue
		}
		elements = append(elements, map[string]any{"image": img})
	}
	ev["type"], ev["template_id"], ev["elements"] = "rich_message", "cards", elements
	return ev
}

// threadJSON is a thread as LiveChat returns it: the customer's events
// and the agents' messages, oldest first.
func (f *Face) threadJSON(ctx context.Context, th *thread) (map[string]any, []map[string]any, error) {
	events, err := facekit.History(ctx, th.cc)
	if err != nil {
		return nil, nil, err
	}
	th.mu.Lock()
	out := append([]map[string]any(nil), th.events...)
	th.mu.Unlock()
	in := facekit.NewInChat(nil)
	agents := map[string]map[string]any{}
	active := true
	for _, e := range events {
		if e.Agent != nil {
			agents[e.Agent.ID] = agentUser(e.Agent)
		}
		if e.Type == deskproto.EventAgentMessage {
			author := ""
			if e.Agent != nil {
				author = e.Agent.ID
			} else if a := in.Agent(); a != nil {
				author = a.ID
			}
			if ev := agentEvent(e, author); ev != nil {
				out = append(out, ev)
			}
		}
		if e.Type == deskproto.EventChatEnded {
			active = false
		}
		in.See(e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i]["created_at"].(string) < out[j]["created_at"].(string) })
	users := make([]map[string]any, 0, len(agents))
	for id, u := range agents {
		u["present"] = in.Agent() != nil && in.Agent().ID == id
		users = append(users, u)
	}
	return map[string]any{"id": th.id, "active": active, "events": out, "created_at": ""}, users, nil
}

// getChat is get_chat: the chat with its thread (the latest, or
// thread_id) and users.
func (cn *conn) getChat(ctx context.Context, req request) {
	var p struct {
		ChatID   string `json:"chat_id"`
		ThreadID string `json:"thread_id"`
	}
	if _, ok := cn.thread(req, &p, &p.ChatID); !ok {
		return
	}
	ch := cn.c.chat
	th := ch.current()
	for _, t := range ch.threads {
		if p.ThreadID != "" && t.id == p.ThreadID {
			th = t
		}
	}
	tj, agents, err := cn.f.threadJSON(ctx, th)
	if err != nil {
		cn.failErr(req, err)
		return
	}
	users := append([]map[string]any{{"id": cn.c.id, "type": "customer", "present": true}}, agents...)
	cn.ok(req, map[string]any{"id": ch.id, "thread": tj, "users": users, "access": map[string]any{"group_ids": []int{0}}})
}

// listThreads is list_threads: newest threads first (or oldest, with
// sort_order asc), limit per page (default 3, at most 100), page_id the
// offset of the next page.
func (cn *conn) listThreads(ctx context.Context, req request) {
	var p struct {
		ChatID    string `json:"chat_id"`
		SortOrder string `json:"sort_order"`
		Limit     int    `json:"limit"`
		PageID    string `json:"page_id"`
	}
	if _, ok := cn.thread(req, &p, &p.ChatID); !ok {
		return
	}
	var page struct {
		Order string `json:"o"`
		Limit int    `json:"l"`
		From  int    `json:"f"`
	}
	if p.PageID != "" {
		if json.Unmarshal([]byte(p.PageID), &page) != nil {
			cn.fail(req, "validation", "Wrong page_id.")
			return
		}
	} else {
		page.Order, page.Limit = p.SortOrder, p.Limit
	}
	if page.Limit <= 0 || page.Limit > 100 {
		page.Limit = 3
	}
	threads := append([]*thread(nil), cn.c.chat.threads...)
	if page.Order != "asc" {
		for i, j := 0, len(threads)-1; i < j; i, j = i+1, j-1 {
			threads[i], threads[j] = threads[j], threads[i]
		}
	}
	lo := min(page.From, len(threads))
	hi := min(lo+page.Limit, len(threads))
	out := []map[string]any{}
	for _, th := range threads[lo:hi] {
		tj, _, err := cn.f.threadJSON(ctx, th)
		if err != nil {
			cn.failErr(req, err)
			return
		}
		out = append(out, tj)
	}
	res := map[string]any{"threads": out, "found_threads": len(threads)}
	if hi < len(threads) {
		page.From = hi
		b, _ := json.Marshal(page)
		res["next_page_id"] = string(b)
	}
	cn.ok(req, res)
}
