package livechat

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/livechat/internal/wire"
)

// typingFor is how long an agent's typing shows without a renewal (the
// indicator push has no "stopped" when the agent just goes quiet).
const typingFor = 10 * time.Second

// onPush maps one push onto the callbacks. Pushes of another chat (the
// customer's earlier ones) and pushes the kit does not follow are logged
// and ignored. Duplicates change nothing twice.
func (d *desk) onPush(f wire.Frame) {
	if d.holdEarly(f) {
		return
	}
	chat := d.state().ChatID
	mine := func(id string) bool { return id != "" && id == chat }
	bad := func(err error) {
		d.log.Warn("livechat: ignored a push that does not decode", "action", f.Action, "err", err)
	}
	switch f.Action {
	case wire.PushIncomingEvent:
		var p wire.IncomingEvent
		if err := json.Unmarshal(f.Payload, &p); err != nil || p.Event.ID == "" {
			bad(fmt.Errorf("event: %v", err))
			return
		}
		if mine(p.ChatID) {
			d.gap.Live(p.Event)
		}
	case wire.PushTypingIndicator:
		var p wire.TypingIndicator
		if err := json.Unmarshal(f.Payload, &p); err != nil {
			bad(err)
			return
		}
		if mine(p.ChatID) && d.isAgent(p.TypingIndicator.AuthorID) {
			if p.TypingIndicator.IsTyping {
				d.AgentTyping.On(typingFor)
			} else {
				d.AgentTyping.Off()
			}
		}
	case wire.PushUserAdded:
		var p wire.UserAdded
		if err := json.Unmarshal(f.Payload, &p); err != nil {
			bad(err)
			return
		}
		if mine(p.ChatID) && p.User.Type == wire.UserAgent && p.User.Present {
			d.agentJoined(p.User)
		}
	case wire.PushUserRemoved:
		var p wire.UserRemoved
		if err := json.Unmarshal(f.Payload, &p); err != nil {
			bad(err)
			return
		}
		if mine(p.ChatID) {
			d.agentRemoved(p.UserID)
		}
	case wire.PushChatTransferred:
		var p wire.ChatTransferred
		if err := json.Unmarshal(f.Payload, &p); err != nil {
			bad(err)
			return
		}
		if mine(p.ChatID) {
			d.transferred(p)
		}
	case wire.PushEventsSeen:
		var p wire.EventsSeen
		if err := json.Unmarshal(f.Payload, &p); err != nil {
			bad(err)
			return
		}
		if mine(p.ChatID) && d.isAgent(p.UserID) {
			d.Callback.AgentReadMessages()
		}
	case wire.PushQueuePosition:
		var p wire.QueuePosition
		if err := json.Unmarshal(f.Payload, &p); err != nil {
			bad(err)
			return
		}
		if mine(p.ChatID) {
			d.queued(p.Queue)
		}
	case wire.PushChatDeactivated:
		var p wire.ChatDeactivated
		if err := json.Unmarshal(f.Payload, &p); err != nil {
			bad(err)
			return
		}
		if mine(p.ChatID) && (p.ThreadID == "" || p.ThreadID == d.state().ThreadID) {
			d.over("The chat was closed.")
		}
	case wire.PushDisconnected:
		var p wire.Disconnected
		if err := json.Unmarshal(f.Payload, &p); err != nil {
			bad(err)
			return
		}
		d.disconnected(p.Reason)
	default:
		d.log.Debug("livechat: ignored a push", "action", f.Action)
	}
}

// disconnected follows LiveChat's advice for the reason: reconnect (the
// socket does, with a new token when the old one expired or was revoked),
// or not: the chat cannot go on.
func (d *desk) disconnected(reason string) {
	again, newToken := wire.Reconnect(reason)
	d.log.Info("livechat: customer disconnected", "reason", reason, "reconnect", again)
	if newToken {
		d.mu.Lock()
		d.staleToken = true
		d.mu.Unlock()
	}
	if !again {
		d.over("LiveChat closed the connection: " + strings.ReplaceAll(reason, "_", " ") + ".")
	}
}

func (d *desk) isAgent(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.agents[id]
	return ok || (id != "" && id != d.st.EntityID)
}

func profileOf(u wire.User) servicedesk.AgentProfile {
	return servicedesk.AgentProfile{ID: u.ID, Nickname: u.Name, UserType: servicedesk.UserHuman, ProfilePictureURL: u.Avatar}
}

// agentJoined: an agent came into the chat (the first, the next after one
// left, or the target of a transfer). The same agent again is nothing new.
func (d *desk) agentJoined(u wire.User) {
	d.mu.Lock()
	d.agents[u.ID] = u
	same := d.st.AgentID == u.ID && !d.transferring
	d.transferring = false
	d.mu.Unlock()
	if same {
		return
	}
	d.Join()
	d.save(func(s *saved) { s.Joined, s.AgentID = true, u.ID })
	d.Callback.AgentJoined(profileOf(u))
}

// agentRemoved: the chat's agent left (not a transfer's previous agent).
func (d *desk) agentRemoved(id string) {
	d.mu.Lock()
	current := d.st.AgentID == id && !d.transferring
	d.mu.Unlock()
	if !current {
		return
	}
	d.AgentTyping.Off()
	d.save(func(s *saved) { s.AgentID = "" })
	d.Callback.AgentLeftChat()
}

func (d *desk) transferred(p wire.ChatTransferred) {
	d.mu.Lock()
	if d.transferring {
		d.mu.Unlock()
		return
	}
	d.transferring = true
	var to *servicedesk.AgentProfile
	for _, id := range p.TransferredTo.AgentIDs {
		if u, ok := d.agents[id]; ok {
			pr := profileOf(u)
			to = &pr
		}
	}
	d.mu.Unlock()
	d.AgentTyping.Off()
	d.Callback.BeginTransferToAnotherAgent(to)
	if p.Queue != nil {
		d.queued(*p.Queue)
	}
}

// queued reports the queue: wait_time is in seconds, Carbon's estimate in
// minutes (rounded up: "about a minute" rather than none).
func (d *desk) queued(q wire.Queue) {
	var a servicedesk.AgentAvailability
	if q.Position != nil {
		a.PositionInQueue = servicedesk.Number(q.Position)
	}
	if q.WaitTime != nil {
		m := int(math.Ceil(float64(*q.WaitTime) / 60))
		a.EstimatedWaitTime = servicedesk.Number(&m)
	}
	if a.PositionInQueue != nil || a.EstimatedWaitTime != nil {
		d.Callback.UpdateAgentAvailability(a)
	}
}

// deliver shows one new chat event, in order, once: the agent's messages,
// files and rich messages; the customer's own come back too and are only
// recorded as seen.
func (d *desk) deliver(e wire.Event) {
	if e.Type == endMark {
		d.over("The chat was closed.")
		return
	}
	d.save(func(s *saved) { s.LastEventID = e.ID })
	if !d.isAgent(e.AuthorID) {
		return
	}
	d.mu.Lock()
	if e.CreatedAt > d.seenUpTo {
		d.seenUpTo = e.CreatedAt
	}
	d.mu.Unlock()
	msg, ok := messageOf(e)
	if !ok {
		d.log.Debug("livechat: ignored an event", "type", e.Type, "id", e.ID)
		return
	}
	d.AgentTyping.Off()
	d.Callback.SendMessageToUser(msg, e.AuthorID)
}

// messageOf is a LiveChat event as Carbon shows it: a message's text
// (markdown), a file as an image (or a link to it), a rich message's cards
// as their text, image and link buttons.
func messageOf(e wire.Event) (servicedesk.MessageResponse, bool) {
	var items []servicedesk.GenericItem
	file := func(url, name, ctype, alt string) {
		if strings.HasPrefix(ctype, "image/") {
			items = append(items, servicedesk.ImageItem(url, cmpOr(alt, name)))
			return
		}
		items = append(items, servicedesk.LinkButtonItem(cmpOr(name, "file"), url))
	}
	switch e.Type {
	case wire.EventMessage:
		if e.Text == "" {
			return servicedesk.MessageResponse{}, false
		}
		items = append(items, servicedesk.TextItem(e.Text))
	case wire.EventFile:
		if e.URL == "" {
			return servicedesk.MessageResponse{}, false
		}
		file(e.URL, e.Name, e.ContentType, e.AlternativeText)
	case wire.EventRichMessage:
		for _, el := range e.Elements {
			for _, t := range []string{el.Title, el.Subtitle} {
				if t != "" {
					items = append(items, servicedesk.TextItem(t))
				}
			}
			if el.Image != nil && el.Image.URL != "" {
				items = append(items, servicedesk.ImageItem(el.Image.URL, cmpOr(el.Image.AlternativeText, el.Image.Name)))
			}
			for _, b := range el.Buttons {
				if b.Type == "url" && b.Value != "" {
					items = append(items, servicedesk.LinkButtonItem(b.Text, b.Value))
				} else if b.Text != "" {
					items = append(items, servicedesk.TextItem(b.Text))
				}
			}
		}
	default:
		return servicedesk.MessageResponse{}, false
	}
	if len(items) == 0 {
		return servicedesk.MessageResponse{}, false
	}
	return servicedesk.NewResponse(items...), true
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// missed reads the chat's events after the last one delivered, oldest
// first, from list_threads (newest threads first, page by page, until the
// thread holding that event).
func (d *desk) missed(ctx context.Context) ([]wire.Event, error) {
	d.mu.Lock()
	st, fresh := d.st, d.fresh && d.opened == 1
	d.mu.Unlock()
	if st.ChatID == "" || fresh {
		return nil, nil // the chat began on this connection: it missed nothing
	}
	var threads []wire.Thread
	payload := map[string]any{"chat_id": st.ChatID, "sort_order": "desc", "limit": 3}
	for range 20 {
		raw, err := d.request(ctx, "list_threads", payload)
		if err != nil {
			return nil, err
		}
		var lt wire.ListThreads
		if err := decode(raw, &lt); err != nil {
			return nil, fmt.Errorf("livechat: list_threads: %w", err)
		}
		threads = append(threads, lt.Threads...)
		if lt.NextPageID == "" || slices.ContainsFunc(lt.Threads, func(t wire.Thread) bool {
			return st.LastEventID == "" || slices.ContainsFunc(t.Events, func(e wire.Event) bool { return e.ID == st.LastEventID })
		}) {
			break
		}
		payload = map[string]any{"chat_id": st.ChatID, "page_id": lt.NextPageID}
	}
	var events []wire.Event
	for i := len(threads) - 1; i >= 0; i-- {
		events = append(events, threads[i].Events...)
	}
	if i := slices.IndexFunc(events, func(e wire.Event) bool { return e.ID == st.LastEventID }); i >= 0 {
		events = events[i+1:]
	} else if st.LastEventID != "" {
		d.log.Warn("livechat: the last event delivered is not in the chat's threads; filling from what they hold", "event", st.LastEventID)
	}
	active, err := d.reconcile(ctx, st)
	if err == nil && !active {
		events = append(events, wire.Event{ID: endMark + ":" + st.ThreadID, Type: endMark})
	}
	return events, err
}

// reconcile catches up, after an outage, with what threads do not hold:
// who is in the chat (an agent who joined or left meanwhile), whether the
// thread is still active, and the queue.
func (d *desk) reconcile(ctx context.Context, st saved) (active bool, err error) {
	raw, err := d.request(ctx, "get_chat", map[string]any{"chat_id": st.ChatID})
	if err != nil {
		return false, err
	}
	var gc wire.GetChat
	if err := decode(raw, &gc); err != nil {
		return false, fmt.Errorf("livechat: get_chat: %w", err)
	}
	if gc.Thread == nil || (st.ThreadID != "" && gc.Thread.ID != st.ThreadID) {
		return false, nil // a later thread: this one is closed
	}
	if !gc.Thread.Active {
		return false, nil
	}
	var present []wire.User
	for _, u := range gc.Users {
		if u.Type == wire.UserAgent && u.Present {
			present = append(present, u)
		}
	}
	cur := d.state().AgentID
	if cur != "" && !slices.ContainsFunc(present, func(u wire.User) bool { return u.ID == cur }) {
		d.agentRemoved(cur)
	}
	if len(present) > 0 && !slices.ContainsFunc(present, func(u wire.User) bool { return u.ID == cur }) {
		d.agentJoined(present[len(present)-1])
	}
	if gc.Thread.Queue != nil && len(present) == 0 {
		d.queued(*gc.Thread.Queue)
	}
	return true, nil
}

// endMark is the type of the item a fill ends with when the thread was
// closed during the outage: the end comes after the events before it.
const endMark = "deskbridge:thread_closed"
