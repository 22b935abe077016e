package twilio

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/twilio/internal/wire"
)

// onEvent queues a webhook's event for the desk's worker (its Reader),
// which applies the conversation's events one at a time, in the order
// messages have in the conversation.
func (d *desk) onEvent(ev wire.Event) {
	d.reader.Do(func(ctx context.Context) { d.handle(ctx, ev) })
}

// handle applies one event of the current conversation.
func (d *desk) handle(ctx context.Context, ev wire.Event) {
	st := d.State()
	if ev.ConversationSID != st.Conversation || st.Conversation == "" || d.Ended() {
		return
	}
	switch ev.Type {
	case wire.OnMessageAdded, evOwnMessage:
		d.onMessage(ctx, wire.Message{SID: ev.MessageSID, ConversationSID: ev.ConversationSID, Index: ev.Index,
			Author: ev.Author, Body: ev.Body, Media: ev.Media, Attributes: ev.Attributes})
	case wire.OnParticipantAdded:
		d.agentAdded(ctx, ev.ParticipantSID, ev.Identity)
	case wire.OnParticipantRemoved:
		d.participantRemoved(ev.ParticipantSID)
	case wire.OnParticipantUpdated:
		d.readHorizon(ev.ParticipantSID, ev.LastReadMessageIndex)
	case wire.OnConversationStateUpdated:
		if ev.StateTo == "closed" {
			d.over("")
		}
	case wire.OnConversationRemoved:
		d.over("")
	case wire.TaskCanceled, wire.TaskCompleted, wire.TaskDeleted, wire.TaskSystemDeleted:
		// The Flex task is over: so is the chat (before an agent took it,
		// the task's reason is what the customer reads).
		d.over(ev.Reason)
	default:
		d.log.Debug("twilio: ignored a webhook", "event_type", ev.Type)
	}
}

// onMessage delivers m in index order: an index past the next expected
// one may hide messages whose webhooks are late or lost (indexes may also
// skip), so the messages after the last one handled, m among them, are
// read and delivered in order (read again after a backoff until that
// succeeds: what follows waits).
func (d *desk) onMessage(ctx context.Context, m wire.Message) {
	switch next := d.State().Next; {
	case m.Index < next:
		// a duplicate, or delivered by a fill
	case m.Index == next:
		d.deliver(ctx, m)
	default:
		d.reader.Retry(ctx, d.fill)
	}
}

// fill reads the conversation's messages after the last one handled and
// delivers them oldest first.
func (d *desk) fill(ctx context.Context) error {
	next := d.State().Next
	newer, err := vendorkit.ReadBack(ctx, 50, d.messagePage,
		func(m wire.Message) bool { return m.Index < next }, func(m wire.Message) string { return m.SID })
	if err != nil {
		return err
	}
	for _, m := range newer {
		if m.Index >= d.State().Next {
			d.deliver(ctx, m)
		}
	}
	return nil
}

// messagePage reads one page of the conversation's messages, newest first
// from Twilio, returned oldest first (vendorkit.ReadBack's order); before
// is the URL of the page, "" the latest.
func (d *desk) messagePage(ctx context.Context, before string) ([]wire.Message, string, error) {
	u := cmp.Or(before, d.k.cfg.ConversationsURL+"/v1/Conversations/"+d.State().Conversation+"/Messages?Order=desc&PageSize=50")
	var p wire.MessagePage
	if err := d.k.send(ctx, httpjson.Call{Op: "list messages", Method: http.MethodGet, Path: u, Out: &p}, nil); err != nil {
		return nil, "", err
	}
	slices.Reverse(p.Messages)
	if len(p.Messages) == 0 {
		return nil, "", nil
	}
	return p.Messages, d.nextPage(p.Meta.NextPageURL), nil
}

// nextPage keeps a next page on the configured host (Twilio gives
// absolute URLs; a proxy or test server stands in for its host).
func (d *desk) nextPage(next string) string {
	if next == "" {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil {
		return ""
	}
	return d.k.cfg.ConversationsURL + u.Path + "?" + u.RawQuery
}

// deliver acts on message m, the next one of the conversation.
func (d *desk) deliver(ctx context.Context, m wire.Message) {
	st := d.Merge(func(s *saved) map[string]any { s.Next = m.Index + 1; return map[string]any{"next": s.Next} })
	if m.Author == st.Identity || m.Author == d.k.cfg.BotAuthor || d.Ended() {
		return
	}
	if m.Author == "system" && !d.Joined() {
		d.Callback.UpdateAgentAvailability(servicedesk.AgentAvailability{Message: m.Body})
		return
	}
	p := d.profileOf(ctx, m.Author)
	if !d.Joined() {
		// An agent who speaks before their participant's webhook came.
		d.JoinAgent(p, d.log)
	}
	d.Callback.SendMessageToUser(d.toResponse(ctx, m), p.ID)
}

// profileOf is the profile of the agent with identity: the Conversations
// User's friendly name, completed by Config.AgentProfile.
func (d *desk) profileOf(ctx context.Context, identity string) servicedesk.AgentProfile {
	return d.profiles.Of(ctx, identity, servicedesk.AgentProfile{ID: identity, Nickname: identity, UserType: servicedesk.UserHuman})
}

// readUser reads an agent's Conversations User for their friendly name.
func (d *desk) readUser(ctx context.Context, identity string, p *servicedesk.AgentProfile) error {
	var u wire.User
	err := d.k.send(ctx, httpjson.Call{Op: "fetch user", Method: http.MethodGet, Path: d.k.cfg.ConversationsURL + "/v1/Users/" + url.PathEscape(identity), Out: &u}, nil)
	p.Nickname = cmp.Or(u.FriendlyName, p.Nickname)
	return err
}

// agentAdded acts on a participant that joined: an agent, unless it is
// the customer or has no identity (an SMS or WhatsApp address).
func (d *desk) agentAdded(ctx context.Context, sid, identity string) {
	st := d.State()
	if identity == "" || identity == st.Identity || sid == st.Participant {
		return
	}
	d.mu.Lock()
	_, known := d.agents[sid]
	d.mu.Unlock()
	if known {
		return
	}
	p := d.profileOf(ctx, identity)
	d.mu.Lock()
	d.agents[sid] = p
	d.mu.Unlock()
	d.JoinAgent(p, d.log)
}

// participantRemoved: the customer removed ends the chat; the last agent
// gone is an agent who left.
func (d *desk) participantRemoved(sid string) {
	st := d.State()
	if sid == st.Participant {
		d.over("")
		return
	}
	d.mu.Lock()
	_, known := d.agents[sid]
	delete(d.agents, sid)
	left := known && len(d.agents) == 0
	d.mu.Unlock()
	if left && !d.Ended() {
		d.Callback.AgentLeftChat()
	}
}

// readHorizon tells the customer that an agent read up to a later
// message.
func (d *desk) readHorizon(sid string, idx *int) {
	if idx == nil {
		return
	}
	d.mu.Lock()
	_, agent := d.agents[sid]
	later := agent && *idx > d.readIdx
	if later {
		d.readIdx = *idx
	}
	d.mu.Unlock()
	if later {
		d.Callback.AgentReadMessages()
	}
}

// reconcile compares the desk with the conversation: its state, its
// participants, and its messages after the last one handled.
func (d *desk) reconcile(ctx context.Context) error {
	st := d.State()
	if st.Conversation == "" || d.Ended() {
		return nil
	}
	open, err := d.isOpen(ctx, st.Conversation)
	if err != nil {
		return err
	}
	if err := d.fill(ctx); err != nil {
		return err
	}
	if !open {
		d.over("")
		return nil
	}
	parts, err := d.listParticipants(ctx, st.Conversation)
	if err != nil {
		return err
	}
	now := map[string]bool{}
	for _, p := range parts {
		now[p.SID] = true
		d.agentAdded(ctx, p.SID, p.Identity)
		d.readHorizon(p.SID, p.LastReadMessageIndex)
	}
	d.mu.Lock()
	gone := slices.DeleteFunc(slices.Collect(maps.Keys(d.agents)), func(sid string) bool { return now[sid] })
	d.mu.Unlock()
	for _, sid := range gone {
		d.participantRemoved(sid)
	}
	if st.Participant != "" && !now[st.Participant] && len(parts) > 0 {
		d.over("")
	}
	return nil
}

// isOpen reports whether conversation sid goes on: false once it is
// closed or gone.
func (d *desk) isOpen(ctx context.Context, sid string) (bool, error) {
	var conv wire.Conversation
	err := d.k.send(ctx, httpjson.Call{Op: "fetch conversation", Method: http.MethodGet, Path: d.k.cfg.ConversationsURL + "/v1/Conversations/" + sid, Out: &conv}, nil)
	if errors.Is(err, servicedesk.ErrChatNotFound) {
		return false, nil
	}
	return err == nil && conv.State != "closed", err
}

// over ends the chat from the desk's side.
func (d *desk) over(reason string) {
	if reason == "" {
		reason = "The chat was closed."
	}
	// Unfollowed first: once the engine hears of the end, the next chat's
	// StartChat may follow its own conversation.
	d.follow("")
	d.EndedByDesk(reason, false)
}

// toResponse turns an agent's message into a Carbon message: the body's
// items (servicedesk.MarkdownItems: its image and link paragraphs as
// images and link buttons), then each media item, an image or a link to
// the file, at the media service's temporary URL.
func (d *desk) toResponse(ctx context.Context, m wire.Message) servicedesk.MessageResponse {
	items := servicedesk.MarkdownItems(m.Body)
	for _, md := range m.Media {
		if link := d.mediaURL(ctx, md.SID); link == "" {
			continue
		} else if strings.HasPrefix(md.ContentType, "image/") {
			items = append(items, servicedesk.ImageItem(link, md.Filename))
		} else {
			items = append(items, servicedesk.LinkButtonItem(md.Filename, link))
		}
	}
	if len(items) == 0 {
		items = append(items, servicedesk.TextItem(m.Body))
	}
	return servicedesk.NewResponse(items...)
}

// mediaURL is the media service's temporary link to a media's content.
func (d *desk) mediaURL(ctx context.Context, sid string) string {
	var m wire.MediaResource
	err := d.k.send(ctx, httpjson.Call{Op: "fetch media", Method: http.MethodGet, Path: d.k.cfg.MediaURL + "/v1/Services/" + d.mediaService() + "/Media/" + sid, Out: &m}, nil)
	if err != nil {
		d.log.Warn("twilio: media not read", "media", sid, "err", err)
		return ""
	}
	return m.Links.ContentDirectTemporary
}
