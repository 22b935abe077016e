package nice

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/sse"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/nice/internal/wire"
)

// typingFor is how long an agent's typing shows without its end (CXone
// sends SenderTypingEnded; this bounds a lost one).
const typingFor = 30 * time.Second

// item is one thing to show, in the desk's order, once: a push, a
// message (live or recovered; its id is the message's, so the two are one),
// or what a recovery found changed (the assignee, the contact closed).
type item struct {
	id       string
	push     *wire.Frame
	msg      *wire.Message
	assignee *wire.User  // recovered: an agent now assigned
	left     bool        // recovered: no agent assigned any more
	end      bool        // recovered: the contact closed
	current  func() bool // a push's: whether its socket is the chat's
}

// onPush queues one push for delivery (off the socket's read goroutine: a
// streamed message is read from its source before the next is shown).
func (d *desk) onPush(f wire.Frame, current func() bool) {
	it := item{id: "e:" + f.EventID, push: &f}
	if f.EventType == wire.MessageCreated {
		var m wire.MessageEvent
		if err := json.Unmarshal(f.Data, &m); err != nil || m.Message.ID == "" {
			d.log.Warn("nice: ignored a MessageCreated that does not decode", "err", err)
			return
		}
		it = item{id: "m:" + string(m.Message.ID), msg: &m.Message}
	}
	if f.EventID == "" && it.msg == nil {
		it.id = "e:" + vendorkit.NewUUID()
	}
	it.current = current
	d.inbox.Push(it)
}

// delivering offers the queued pushes to the gap filler, in order: held
// while a recovery runs, deduplicated by event id (a message by its id).
// A push of a socket stopped meanwhile (the chat's end) is dropped.
func (d *desk) delivering() {
	ctx := d.Life.Context()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.inbox.Ready():
		}
		for it, ok := d.inbox.Pop(); ok; it, ok = d.inbox.Pop() {
			if it.current == nil || it.current() {
				d.gap.Live(it)
			}
		}
	}
}

// deliver shows one item; it runs on one goroutine at a time, in order.
func (d *desk) deliver(it item) {
	switch {
	case it.end:
		d.over("The chat was closed.")
	case it.msg != nil:
		d.deliverMessage(*it.msg)
	case it.assignee != nil:
		d.assigneeChanged(nil, it.assignee)
	case it.left:
		d.assigneeChanged(nil, nil)
	case it.push != nil:
		d.deliverPush(*it.push)
	}
}

// deliverPush maps a push onto the callbacks; unknown ones are logged
// and ignored.
func (d *desk) deliverPush(f wire.Frame) {
	var e wire.Push
	if err := json.Unmarshal(f.Data, &e); err != nil {
		d.log.Warn("nice: ignored a push that does not decode", "event", f.EventType, "err", err)
		return
	}
	switch f.EventType {
	case wire.AssigneeChanged, wire.AssignedAgentChanged:
		d.assigneeChanged(e.PreviousInboxAssignee, e.InboxAssignee)
	case wire.CaseStatusChanged, wire.ContactStatusChanged:
		if e.Case.Closed() {
			d.over("The chat was closed.")
		}
	case wire.TypingStarted, wire.AgentTypingStarted:
		if e.Direction != wire.DirectionInbound { // not the customer's own
			d.AgentTyping.On(typingFor)
		}
	case wire.TypingEnded, wire.AgentTypingEnded:
		if e.Direction != wire.DirectionInbound {
			d.AgentTyping.Off()
		}
	case wire.MessageSeenChanged, wire.MessageReadChanged:
		if e.Message.Direction != wire.DirectionOutbound { // the agent saw the customer's
			d.Callback.AgentReadMessages()
		}
	case wire.SetPositionInQueue:
		if e.PositionInQueue != nil {
			d.Callback.UpdateAgentAvailability(servicedesk.AgentAvailability{PositionInQueue: servicedesk.Number(e.PositionInQueue)})
		}
	default:
		d.log.Debug("nice: ignored a push", "event", f.EventType)
	}
}

// assigneeChanged follows who is assigned: the first agent or the next
// after one left joins; another while one is assigned is a transfer to
// them; none after one is the agent leaving. The same agent again is
// nothing new.
func (d *desk) assigneeChanged(prev, now *wire.User) {
	d.mu.Lock()
	cur := d.agentID
	d.mu.Unlock()
	switch {
	case now == nil:
		if cur == "" || (prev != nil && string(prev.ID) != cur) {
			return
		}
		d.AgentTyping.Off()
		d.setAgent("")
		d.Callback.AgentLeftChat()
	case string(now.ID) == cur:
	case cur != "":
		p := d.profile(*now)
		d.AgentTyping.Off()
		d.Callback.BeginTransferToAnotherAgent(&p)
		d.setAgent(string(now.ID))
		d.JoinAgent(p, d.log)
	default:
		d.setAgent(string(now.ID))
		d.JoinAgent(d.profile(*now), d.log)
	}
}

func (d *desk) setAgent(id string) {
	d.mu.Lock()
	d.agentID = id
	d.mu.Unlock()
	d.st.Merge(func(s *saved) map[string]any {
		s.AgentID = id
		return map[string]any{"agent_id": id}
	})
}

// profile is a CXone user as Carbon shows an agent.
func (d *desk) profile(u wire.User) servicedesk.AgentProfile {
	p := servicedesk.AgentProfile{ID: string(u.ID), Nickname: u.Name(), ProfilePictureURL: u.PublicImageURL, UserType: servicedesk.UserHuman}
	if u.IsBotUser {
		p.UserType = servicedesk.UserBot
	}
	if f := d.k.cfg.AgentProfile; f != nil {
		p = f(d.Life.Context(), p)
	}
	return p
}

// deliverMessage shows an agent's message (the customer's own come back
// too, and are not shown); a streamed one is read from its source first,
// and shown whole.
func (d *desk) deliverMessage(m wire.Message) {
	if m.Direction == wire.DirectionInbound {
		return
	}
	if m.Content.Type == wire.ContentStreamed {
		m.Content.Payload.Text = d.streamed(m)
	}
	msg, ok := messageOf(m)
	d.st.Merge(func(s *saved) map[string]any {
		s.LastID, s.LastAt = string(m.ID), m.CreatedAt
		return map[string]any{"last_id": s.LastID, "last_at": s.LastAt}
	})
	if !ok {
		d.log.Debug("nice: ignored an empty message", "id", m.ID)
		return
	}
	author := ""
	if m.AuthorUser != nil {
		author = d.profile(*m.AuthorUser).ID
	}
	d.AgentTyping.Off()
	d.Callback.SendMessageToUser(msg, author)
}

// messageOf is a CXone message as Carbon shows it: its text, its
// attachments (an image as an image, another file as a link to it), and
// its link buttons.
func messageOf(m wire.Message) (servicedesk.MessageResponse, bool) {
	var items []servicedesk.GenericItem
	if t := m.Content.Payload.Text; t != "" {
		items = append(items, servicedesk.TextItem(t))
	}
	for _, a := range m.Attachments {
		if a.URL == "" {
			continue
		}
		if strings.HasPrefix(a.MimeType, "image/") {
			items = append(items, servicedesk.ImageItem(a.URL, a.FriendlyName))
		} else {
			items = append(items, servicedesk.LinkButtonItem(cmp.Or(a.FriendlyName, "file"), a.URL))
		}
	}
	for _, e := range m.Content.Payload.Elements {
		if e.URL != "" {
			items = append(items, servicedesk.LinkButtonItem(e.Text, e.URL))
		} else if e.Text != "" {
			items = append(items, servicedesk.TextItem(e.Text))
		}
	}
	if len(items) == 0 {
		return servicedesk.MessageResponse{}, false
	}
	return servicedesk.NewResponse(items...), true
}

// streamed reads a STREAMED message's SSE source: its "delta" events'
// pieces, until the one with finish_reason "stop" (the SDK's
// StreamedMessageStarted, Delta and Completed, assembled here into one
// message). A source that fails is read again from its start; after the
// last try what came is shown, or nothing.
func (d *desk) streamed(m wire.Message) string {
	src := m.Content.Payload.SourceURL
	if src == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(d.Life.Context(), d.k.cfg.StreamTimeout)
	defer cancel()
	var text string
	err := retry.Policy{Backoff: d.k.cfg.Backoff, Retries: 3, Retryable: func(error) bool { return true }}.Do(ctx, func(int) error {
		var err error
		text, err = d.readStream(ctx, src)
		return err
	})
	if err != nil {
		d.log.Warn("nice: streamed message incomplete", "id", m.ID, "err", err)
	}
	return text
}

func (d *desk) readStream(ctx context.Context, src string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := d.k.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("nice: streamed message source: status %d", resp.StatusCode)
	}
	return assemble(resp.Body)
}

// assemble reads a streamed message's SSE events: the text of its deltas,
// complete once one says finish_reason "stop".
func assemble(body io.Reader) (string, error) {
	r := sse.NewReader(body)
	var b strings.Builder
	for {
		ev, err := r.Next()
		if err != nil {
			return b.String(), fmt.Errorf("nice: streamed message source ended before its stop: %w", err)
		}
		var dl wire.Delta
		if json.Unmarshal([]byte(ev.Data), &dl) != nil {
			continue
		}
		b.WriteString(dl.Delta.Content)
		if dl.Delta.FinishReason == wire.FinishStop {
			return b.String(), nil
		}
	}
}

// recover asks for the thread (RecoverLivechat): its contact, assignee
// and messages, and its pushes on this connection from now on.
func (d *desk) recover(ctx context.Context) (wire.Recovered, error) {
	thread := d.st.State().ThreadID
	f, err := d.request(ctx, wire.RecoverLivechat, map[string]any{"thread": wire.Ref{IDOnExternalPlatform: thread}})
	if err != nil {
		return wire.Recovered{}, err
	}
	var rec wire.Recovered
	if err := json.Unmarshal(f.Data, &rec); err != nil {
		return wire.Recovered{}, fmt.Errorf("nice: LivechatRecovered: %w: %w", servicedesk.ErrUnavailable, err)
	}
	return rec, nil
}

// missed is the gap fill after a connection: the recovered thread's
// messages after the last one delivered, oldest first, and what changed
// meanwhile (an agent assigned before them, the agent gone and the
// contact closed after them).
func (d *desk) missed(ctx context.Context) ([]item, error) {
	d.mu.Lock()
	fresh := d.fresh && d.opened == 1
	cur := d.agentID
	d.mu.Unlock()
	st := d.st.State()
	if st.ThreadID == "" || fresh {
		return nil, nil // the chat began on this connection: it missed nothing
	}
	rec, err := d.recover(ctx)
	if err != nil {
		if servicedesk.CodeOf(err) == servicedesk.CodeNotFound {
			return nil, nil // the thread's first message is not in yet
		}
		return nil, err
	}
	msgs := slices.Clone(rec.Messages)
	slices.Reverse(msgs)
	if i := slices.IndexFunc(msgs, func(m wire.Message) bool { return string(m.ID) == st.LastID }); i >= 0 {
		msgs = msgs[i+1:]
	} else if st.LastAt != "" {
		msgs = slices.DeleteFunc(msgs, func(m wire.Message) bool { return m.CreatedAt <= st.LastAt })
	}
	var items []item
	if a := rec.InboxAssignee; a != nil && string(a.ID) != cur {
		items = append(items, item{id: "a:" + vendorkit.NewUUID(), assignee: a})
	}
	for i := range msgs {
		items = append(items, item{id: "m:" + string(msgs[i].ID), msg: &msgs[i]})
	}
	if rec.InboxAssignee == nil && cur != "" {
		items = append(items, item{id: "l:" + vendorkit.NewUUID(), left: true})
	}
	if rec.Contact.Closed() {
		items = append(items, item{id: "end:" + st.ThreadID, end: true})
	}
	return items, nil
}
