package zendesk

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/kits/zendesk/internal/wire"
)

// APIKeyHeader carries the webhook's shared secret.
const APIKeyHeader = "X-API-Key"

// WebhookHandler receives the integration's webhook deliveries for every
// conversation of every session: it checks X-API-Key against the secrets
// (in constant time), drops redelivered events by id (Zendesk tries a
// delivery up to 5 times over 15 minutes), and hands each event to the
// desk that follows its conversation, or to Config.Elsewhere. It answers
// at once (200); the desks do the work. 401 a wrong key, 400 not a
// delivery, 405 not a POST, 413 too large, 503 an event could not be
// passed on (Zendesk delivers it again). Mount it at the webhook's URL.
func (k *Kit) WebhookHandler() http.Handler { return http.HandlerFunc(k.serveWebhook) }

func (k *Kit) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if ref := webhook.CheckPost(w, r); ref != nil {
		http.Error(w, ref.Message, ref.Status)
		return
	}
	if !k.keyOK(r.Header.Get(APIKeyHeader)) {
		k.log.Warn("zendesk: webhook with a wrong X-API-Key refused", "remote", r.RemoteAddr)
		http.Error(w, "wrong X-API-Key", http.StatusUnauthorized)
		return
	}
	body, ref := webhook.ReadBody(w, r, k.cfg.MaxWebhookBytes)
	if ref != nil {
		http.Error(w, ref.Message, ref.Status)
		return
	}
	hook, events, err := decodeWebhook(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if hook.App.ID != "" && hook.App.ID != k.cfg.AppID {
		k.log.Warn("zendesk: webhook of another app ignored", "app", hook.App.ID)
		w.WriteHeader(http.StatusOK)
		return
	}
	failed := false
	for i, ev := range events {
		if !k.seen.First(ev.ID) {
			continue // a redelivery: acknowledged, not applied twice
		}
		if !k.route(ev, hook.Events[i]) {
			k.seen.Forget(ev.ID)
			failed = true
		}
	}
	if failed {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "an event could not be handed to the instance that follows its conversation", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (k *Kit) keyOK(got string) bool {
	ok := false
	for _, s := range k.cfg.WebhookSecrets {
		if subtle.ConstantTimeCompare([]byte(s), []byte(got)) == 1 {
			ok = true
		}
	}
	return ok && got != ""
}

// decodeWebhook decodes a delivery and each of its events.
func decodeWebhook(body []byte) (wire.Webhook, []wire.Event, error) {
	var hook wire.Webhook
	if err := json.Unmarshal(body, &hook); err != nil {
		return hook, nil, errors.New("zendesk: webhook: not a JSON delivery: " + err.Error())
	}
	events := make([]wire.Event, len(hook.Events))
	for i, raw := range hook.Events {
		if err := json.Unmarshal(raw, &events[i]); err != nil {
			return hook, nil, errors.New("zendesk: webhook: event " + err.Error())
		}
	}
	return hook, events, nil
}

// route hands ev to the desk following its conversation, or passes it
// Elsewhere; false when it could not be passed on. A desk that resumes
// later reads the conversation itself: what nobody takes is not lost.
func (k *Kit) route(ev wire.Event, raw json.RawMessage) bool {
	conv := ev.Payload.Conversation
	if conv == nil || conv.ID == "" {
		return true
	}
	if err := k.router.Route(conv.ID, ev, raw); err != nil {
		k.log.Warn("zendesk: event for a conversation followed elsewhere could not be passed on", "conversation", conv.ID, "err", err)
		return false
	}
	return true
}

// Deliver hands an event another instance received (and verified) to the
// desk here that follows its conversation; false when none does.
func (k *Kit) Deliver(event []byte) bool {
	var ev wire.Event
	if json.Unmarshal(event, &ev) != nil || ev.Payload.Conversation == nil {
		return false
	}
	// Not deduplicated: the instance that received it did, and an event
	// twice is harmless (a bell, typing, an end once).
	return k.router.Here(ev.Payload.Conversation.ID, ev)
}

// What a desk's worker does, in order.
type itemKind int

const (
	itemFill      itemKind = iota // read the messages after the cursor
	itemTyping                    // the agent's typing
	itemEnd                       // control left the agent workspace
	itemFailed                    // passControl failed
	itemRecovered                 // the desk answers again after an outage
)

type item struct {
	kind   itemKind
	on     bool
	author wire.Author
	at     string
	reason string
}

// onEvent turns a webhook event into the desk's work. A message is only
// a bell: the worker reads the conversation after its cursor, so that the
// agent's messages are shown once each and in the conversation's order,
// whatever order and how many times Zendesk delivers them.
func (d *desk) onEvent(ev wire.Event) {
	p := ev.Payload
	switch ev.Type {
	case wire.EventMessage:
		if p.Message != nil && p.Message.Author.Type == wire.AuthorBusiness {
			d.events.Push(item{kind: itemFill})
		}
	case wire.EventTyping:
		if a := p.Activity; a != nil && a.Author.Type == wire.AuthorBusiness {
			d.events.Push(item{kind: itemTyping, on: a.Type == wire.ActivityTypingStart, author: a.Author, at: ev.CreatedAt})
		}
	case wire.EventPassControl:
		if !d.isHandoffTarget(p.Conversation.ActiveSwitchboardIntegration) {
			d.events.Push(item{kind: itemEnd, reason: endReason(p.Reason)})
		}
	case wire.EventReleaseControl, wire.EventRemove:
		d.events.Push(item{kind: itemEnd, reason: endReason(p.Reason)})
	case wire.EventPassControlFail:
		reason := "The chat could not be handed to an agent."
		if p.Error != nil && p.Error.Message != "" {
			reason = p.Error.Message
		}
		d.events.Push(item{kind: itemFailed, reason: reason})
	}
}

func endReason(reason string) string {
	if reason == "transferToEmail" {
		return "The conversation continues by email."
	}
	return "The conversation was closed before an agent joined."
}

// typingTimeout ends an agent's typing indicator that no typing:stop
// ended.
const typingTimeout = 10 * time.Second

// run is the desk's worker: one at a time, in order, for its lifetime.
func (d *desk) run() {
	ctx := d.Life.Context()
	lastTyping := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.events.Ready():
		}
		var items []item
		for it, ok := d.events.Pop(); ok; it, ok = d.events.Pop() {
			// Bells rung together are one read.
			if n := len(items); it.kind != itemFill || n == 0 || items[n-1].kind != itemFill {
				items = append(items, it)
			}
		}
		for _, it := range items {
			switch it.kind {
			case itemFill:
				d.fillRetry(ctx)
			case itemRecovered:
				if d.fillRetry(ctx) {
					d.health.Over(&d.Chat)
				}
			case itemEnd:
				d.fillRetry(ctx)
				d.over(it.reason)
			case itemFailed:
				if !d.Joined() {
					d.over(it.reason)
				}
			case itemTyping:
				// Retried deliveries come late: an older typing event than
				// the last one shown changes nothing.
				if it.at != "" && it.at < lastTyping || d.Ended() || d.state().ConversationID == "" {
					continue
				}
				lastTyping = it.at
				d.agent(ctx, it.author)
				if it.on {
					d.AgentTyping.On(typingTimeout)
				} else {
					d.AgentTyping.Off()
				}
			}
		}
	}
}

// over ends the chat from the desk's side.
func (d *desk) over(reason string) {
	d.EndedByDesk(reason, false)
	d.leave()
}

// fillRetry fills until it succeeds, the conversation is gone (the chat
// ends), or the desk closes; it reports success.
func (d *desk) fillRetry(ctx context.Context) bool {
	for attempt := 0; ; attempt++ {
		err := d.fill(ctx)
		switch {
		case err == nil:
			return true
		case ctx.Err() != nil:
			return false
		case gone(err):
			d.over("The conversation is gone.")
			return false
		}
		d.log.Warn("zendesk: reading the conversation failed", "err", err, "attempt", attempt)
		if !retry.Sleep(ctx, d.k.cfg.Backoff.Delay(attempt)) {
			return false
		}
	}
}

// maxFillPages bounds how far back a fill looks for its cursor (100
// messages a page).
const maxFillPages = 20

// fill shows the agent's messages after the cursor, in the conversation's
// order, and moves the cursor past them (and past the customer's and the
// kit's own messages).
func (d *desk) fill(ctx context.Context) error {
	st := d.state()
	if st.ConversationID == "" || d.Ended() {
		return nil
	}
	var fresh []wire.Message
	before := ""
	for range maxFillPages {
		page, err := d.messages(ctx, before)
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(page.Messages, func(m wire.Message) bool { return m.ID == st.Cursor }); i >= 0 {
			fresh = append(page.Messages[i+1:], fresh...)
			break
		}
		fresh = append(page.Messages, fresh...)
		if st.Cursor == "" || !page.Meta.HasMore || page.Meta.BeforeCursor == "" {
			break
		}
		before = page.Meta.BeforeCursor
	}
	if len(fresh) == 0 {
		return nil
	}
	for _, m := range fresh {
		if m.Author.Type != wire.AuthorBusiness || m.Metadata[metaHandoff] != nil || m.Deleted || d.Ended() {
			continue
		}
		p := d.agent(ctx, m.Author)
		d.cb.SendMessageToUser(toResponse(m.Content), p.ID)
	}
	d.update(func(s *saved) { s.Cursor = fresh[len(fresh)-1].ID })
	return nil
}

// agent returns the profile of the agent behind author: the first one
// joins; another one is a transfer (Zendesk shows a reassignment only as
// a new author). An author without a name is the current agent.
func (d *desk) agent(ctx context.Context, a wire.Author) servicedesk.AgentProfile {
	cur := d.state().Agent
	if a.DisplayName == "" && cur != nil {
		return *cur
	}
	p := servicedesk.AgentProfile{ID: a.DisplayName, Nickname: a.DisplayName, ProfilePictureURL: a.AvatarURL, UserType: servicedesk.UserHuman}
	if p.ID == "" {
		p.ID, p.Nickname = "agent", "Agent"
	}
	if d.k.cfg.AgentProfile != nil {
		p = d.k.cfg.AgentProfile(ctx, p)
	}
	first := d.Join()
	if !first && cur != nil && cur.ID == p.ID {
		return *cur
	}
	d.update(func(s *saved) { s.Agent = &p })
	if !first {
		d.cb.BeginTransferToAnotherAgent(&p)
	}
	d.cb.AgentJoined(p)
	return p
}

// toResponse shows a message's content: its text, its image, a file as a
// link, its link actions as buttons; other content types by their text.
func toResponse(c wire.Content) servicedesk.MessageResponse {
	var items []servicedesk.GenericItem
	text := c.Text
	if text == "" {
		text = c.MarkdownText
	}
	if text != "" {
		items = append(items, servicedesk.TextItem(text))
	}
	switch c.Type {
	case wire.ContentImage:
		if c.MediaURL != "" {
			items = append(items, servicedesk.ImageItem(c.MediaURL, c.AltText))
		}
	case wire.ContentFile:
		if c.MediaURL != "" {
			label := c.AltText
			if label == "" {
				label = "Download the file"
			}
			items = append(items, servicedesk.LinkButtonItem(label, c.MediaURL))
		}
	}
	for _, a := range c.Actions {
		if a.Type == "link" && a.URI != "" {
			items = append(items, servicedesk.LinkButtonItem(a.Text, a.URI))
		}
	}
	if len(items) == 0 {
		items = append(items, servicedesk.TextItem("[a "+c.Type+" message this chat cannot show]"))
	}
	return servicedesk.NewResponse(items...)
}
