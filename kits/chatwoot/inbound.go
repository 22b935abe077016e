package chatwoot

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/chatwoot/internal/wire"
)

// maxFillPages bounds one gap fill's backward paging of the messages list.
const maxFillPages = 50

// onCable takes one RoomChannel message, on the cable's read goroutine.
func (d *desk) onCable(raw json.RawMessage) {
	it, ok := decodeItem(raw)
	if !ok {
		d.log.Info("chatwoot: ignored a cable message")
		return
	}
	if it.msg != nil {
		d.sawEcho(*it.msg)
	}
	if it.name != "" {
		d.gap.Live(it)
	}
}

// decodeItem reads a RoomChannel message into an item; ok is false when
// it does not decode. Events the kit does not follow give an empty item.
func decodeItem(raw []byte) (item, bool) {
	ev, err := wire.DecodeEvent(raw)
	if err != nil {
		return item{}, false
	}
	switch ev.Event {
	case wire.EventMessageCreated:
		m, err := wire.Decode[wire.Message](ev.Data)
		return item{name: ev.Event, msg: &m}, err == nil
	case wire.EventStatusChanged, wire.EventConversationUpd, wire.EventAssigneeChanged, wire.EventConversationOpen, wire.EventConversationResol:
		c, err := wire.Decode[wire.Conversation](ev.Data)
		return item{name: ev.Event, conv: &c}, err == nil
	case wire.EventTypingOn, wire.EventTypingOff:
		t, err := wire.Decode[wire.Typing](ev.Data)
		return item{name: ev.Event, typing: &t}, err == nil
	}
	return item{}, true // presence, message.updated, ...: nothing for the chat
}

// sawEcho records the echo of a message the kit posted: Chatwoot stored it.
func (d *desk) sawEcho(m wire.Message) {
	if m.EchoID == "" || m.MessageType != wire.Incoming {
		return
	}
	d.mu.Lock()
	d.echoes[m.EchoID] = struct{}{}
	d.mine[m.ID.Int()] = true
	d.mu.Unlock()
}

func (d *desk) echoed(echo string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.echoes[echo]
	return ok
}

// seen tells the gap filler that a message at or before the last one
// delivered before a restart is old. Within a desk's life the filler's
// dedupe decides: Chatwoot's broadcasts are jobs, and a message can reach
// the cable after one with a greater id.
func (d *desk) seen(it item) bool {
	if it.msg == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return it.msg.ID.Int() <= d.floor
}

// fetch reads what the cable may have missed: the list's pages, newest
// first, walked back with before until one reaches the last message
// delivered (that page too: a message may have come out of id order), in
// id order, then the conversation's status when it was resolved.
func (d *desk) fetch(ctx context.Context) ([]item, error) {
	st := d.state()
	if st.ConversationID == 0 {
		return nil, nil
	}
	if d.Ended() {
		return nil, errEnded
	}
	path := d.conversationPath() + "/messages"
	var all []wire.Message
	before := int64(0)
	for range maxFillPages {
		q := path
		if before > 0 {
			q += "?before=" + strconv.FormatInt(before, 10)
		}
		var page []wire.Message
		if err := d.k.call(ctx, "list messages", http.MethodGet, q, nil, &page); err != nil {
			return nil, err
		}
		oldest := int64(0)
		for _, m := range page {
			if id := m.ID.Int(); oldest == 0 || id < oldest {
				oldest = id
			}
		}
		all = append(all, page...)
		if len(page) == 0 || oldest <= st.LastMessageID || (before > 0 && oldest >= before) {
			break
		}
		before = oldest
	}
	items := make([]item, 0, len(all)+1)
	d.mu.Lock()
	floor := d.floor
	d.mu.Unlock()
	for _, m := range sortMessages(all) {
		if m.ID.Int() > floor {
			items = append(items, item{name: wire.EventMessageCreated, msg: &m})
		}
	}
	var conv wire.Conversation
	if err := d.k.call(ctx, "show conversation", http.MethodGet, d.conversationPath(), nil, &conv); err != nil {
		return nil, err
	}
	if conv.Status == wire.StatusResolved {
		items = append(items, item{name: wire.EventStatusChanged, conv: &conv})
	}
	return items, nil
}

// sortMessages orders messages by id, once each.
func sortMessages(ms []wire.Message) []wire.Message {
	byID := map[int64]wire.Message{}
	ids := []int64{}
	for _, m := range ms {
		id := m.ID.Int()
		if _, ok := byID[id]; !ok {
			ids = append(ids, id)
		}
		byID[id] = m
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	out := make([]wire.Message, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out
}

// deliver acts on one item, in order, once.
func (d *desk) deliver(it item) {
	if it.msg != nil {
		d.sawEcho(*it.msg)
		if id := it.msg.ID.Int(); id > 0 {
			d.mu.Lock()
			later := id > d.st.LastMessageID
			if later {
				d.st.LastMessageID = id
			}
			d.mu.Unlock()
			if later {
				d.Persist(map[string]any{"last_message_id": id}, d.log)
			}
		}
	}
	if d.Ended() {
		return
	}
	switch {
	case it.msg != nil:
		d.onMessage(*it.msg)
	case it.conv != nil:
		d.onConversation(it.name, *it.conv)
	case it.typing != nil:
		t := it.typing
		if t.IsPrivate || t.User == nil || t.User.Type == wire.SenderContact {
			return
		}
		if it.name == wire.EventTypingOn {
			d.AgentTyping.On(10 * time.Second) // an agent who went away without typing_off
		} else {
			d.AgentTyping.Off()
		}
	}
}

func (d *desk) onMessage(m wire.Message) {
	if m.Private || m.MessageType == wire.Incoming || m.MessageType == wire.Activity {
		return // the contact's own (the echo of ours), notes, activity lines
	}
	resp := toResponse(m)
	s := m.Sender
	if s == nil || s.Type != wire.SenderUser {
		// The inbox's bot or an automation: before an agent it is what the
		// user waits with.
		if !d.Joined() {
			d.Callback.UpdateAgentAvailability(servicedesk.AgentAvailability{Message: resp.PlainText()})
			return
		}
		d.Callback.SendMessageToUser(resp, "")
		return
	}
	p := d.profile(*s)
	d.AgentTyping.Off()
	// An agent who answers before the assignment shows, or after one the
	// cable missed (a gap fill has messages, not assignments).
	switch cur := d.state().Agent; {
	case cur == "":
		d.join(p)
	case cur != p.ID:
		d.Callback.BeginTransferToAnotherAgent(nil)
		d.join(p)
	}
	d.Callback.SendMessageToUser(resp, p.ID)
}

func (d *desk) onConversation(name string, c wire.Conversation) {
	if c.Status == wire.StatusResolved {
		d.over()
		return
	}
	if c.Meta != nil && name != wire.EventConversationOpen {
		d.onAssignee(c.Meta.Assignee)
	}
}

// onAssignee follows the conversation's assignee: the first one joins, a
// new one is a transfer, none is the agent leaving.
func (d *desk) onAssignee(a *wire.Person) {
	cur := d.state().Agent
	if a == nil || a.ID == "" {
		if cur != "" {
			d.setAgent("")
			d.AgentTyping.Off()
			d.Callback.AgentLeftChat()
		}
		return
	}
	p := d.profile(*a)
	if p.ID == cur {
		return
	}
	if cur != "" {
		d.Callback.BeginTransferToAnotherAgent(nil)
	}
	d.join(p)
}

func (d *desk) setAgent(id string) {
	d.mu.Lock()
	d.st.Agent = id
	d.mu.Unlock()
	d.Persist(map[string]any{"agent": id}, d.log)
}

func (d *desk) join(p servicedesk.AgentProfile) {
	d.setAgent(p.ID)
	d.Join()
	d.Callback.AgentJoined(p)
}

func (d *desk) profile(a wire.Person) servicedesk.AgentProfile {
	p := servicedesk.AgentProfile{ID: string(a.ID), Nickname: cmp.Or(a.AvailableName, a.Name), UserType: servicedesk.UserHuman,
		ProfilePictureURL: cmp.Or(a.AvatarURL, a.Thumbnail)}
	if a.Type == wire.SenderAgentBot {
		p.UserType = servicedesk.UserBot
	}
	if fn := d.k.cfg.AgentProfile; fn != nil {
		p = fn(d.Life.Context(), p)
	}
	return p
}

// toResponse turns a message into a Carbon message: its text, image
// attachments as images and other files as links.
func toResponse(m wire.Message) servicedesk.MessageResponse {
	var items []servicedesk.GenericItem
	if t := m.Text(); strings.TrimSpace(t) != "" {
		items = append(items, servicedesk.TextItem(t))
	}
	for _, a := range m.Attachments {
		name := cmp.Or(a.Name, path.Base(a.DataURL))
		if a.FileType == "image" {
			items = append(items, servicedesk.ImageItem(a.DataURL, name))
		} else if a.DataURL != "" {
			items = append(items, servicedesk.LinkButtonItem(name, a.DataURL))
		}
	}
	// Cards: their link actions as link buttons (a media_url as an image).
	for _, it := range m.Attributes.Items {
		if it.MediaURL != "" {
			items = append(items, servicedesk.ImageItem(it.MediaURL, it.Title))
		}
		for _, a := range it.Actions {
			if a.Type == "link" && a.URI != "" {
				items = append(items, servicedesk.LinkButtonItem(a.Text, a.URI))
			}
		}
	}
	if len(items) == 0 {
		items = append(items, servicedesk.TextItem(""))
	}
	return servicedesk.NewResponse(items...)
}
