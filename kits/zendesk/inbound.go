package zendesk

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/webhook"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/zendesk/internal/wire"
)

// APIKeyHeader carries the webhook's shared secret.
const APIKeyHeader = "X-API-Key"

// WebhookHandler receives the integration's webhook deliveries for every
// conversation of every session: it checks X-API-Key against the secrets
// (in constant time), drops redelivered events by id (Zendesk tries a
// delivery up to 5 times over 15 minutes), and hands each event to the
// desk that follows its conversation, or to Config.Elsewhere (a desk that
// resumes later reads the conversation itself: what nobody takes is not
// lost). It answers at once (200); the desks do the work. 401 a wrong
// key, 400 not a delivery, 405 not a POST, 413 too large, 503 an event
// could not be passed on (Zendesk delivers it again). Mount it at the
// webhook's URL.
func (k *Kit) WebhookHandler() http.Handler {
	return k.router.Handler(webhook.Reception[wire.Event]{Kit: "zendesk", MaxBytes: k.cfg.MaxWebhookBytes, Logger: k.log,
		Verify: func(r *http.Request, _ []byte) error {
			if !k.keyOK(r.Header.Get(APIKeyHeader)) {
				return errors.New("wrong " + APIKeyHeader)
			}
			return nil
		},
		Decode: func(_ *http.Request, body []byte) ([]webhook.Delivery[wire.Event], error) {
			hook, events, err := decodeWebhook(body)
			if err != nil {
				return nil, err
			}
			if hook.App.ID != "" && hook.App.ID != k.cfg.AppID {
				k.log.Warn("zendesk: webhook of another app ignored", "app", hook.App.ID)
				return nil, nil
			}
			out := make([]webhook.Delivery[wire.Event], len(events))
			for i, ev := range events {
				out[i] = webhook.Delivery[wire.Event]{Key: ev.ID, Event: ev, Raw: hook.Events[i]}
				if conv := ev.Payload.Conversation; conv != nil {
					out[i].Chat = conv.ID
				}
			}
			return out, nil
		}})
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

// Deliver hands an event another instance received (and verified) to the
// desk here that follows its conversation; false when none does.
func (k *Kit) Deliver(event []byte) bool {
	var ev wire.Event
	if json.Unmarshal(event, &ev) != nil || ev.Payload.Conversation == nil {
		return false
	}
	return k.router.Relayed(ev.ID, ev.Payload.Conversation.ID, ev)
}

// onEvent turns a webhook event into the desk's work, done in order by
// its worker (a vendorkit.Reader). A message is only a bell: the worker
// reads the conversation after its cursor, so that the agent's messages
// are shown once each and in the conversation's order, whatever order and
// how many times Zendesk delivers them.
func (d *desk) onEvent(ev wire.Event) {
	p := ev.Payload
	switch ev.Type {
	case wire.EventMessage:
		if p.Message != nil && p.Message.Author.Type == wire.AuthorBusiness {
			d.reader.Ring()
		}
	case wire.EventTyping:
		if a := p.Activity; a != nil && a.Author.Type == wire.AuthorBusiness {
			d.reader.Do(func(ctx context.Context) { d.typing(ctx, a.Type == wire.ActivityTypingStart, a.Author, ev.CreatedAt) })
		}
	case wire.EventPassControl:
		if !d.isHandoffTarget(p.Conversation.ActiveSwitchboardIntegration) {
			d.endAfterRead(endReason(p.Reason))
		}
	case wire.EventReleaseControl, wire.EventRemove:
		d.endAfterRead(endReason(p.Reason))
	case wire.EventPassControlFail:
		reason := "The chat could not be handed to an agent."
		if p.Error != nil && p.Error.Message != "" {
			reason = p.Error.Message
		}
		d.reader.Do(func(context.Context) {
			if !d.Joined() {
				d.over(reason)
			}
		})
	}
}

// endAfterRead ends the chat once the agent's last messages are shown:
// control left the agent workspace.
func (d *desk) endAfterRead(reason string) {
	d.reader.Do(func(ctx context.Context) {
		d.reader.Retry(ctx, d.fill)
		d.over(reason)
	})
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

// typing shows the agent's typing; it runs on the worker.
func (d *desk) typing(ctx context.Context, on bool, author wire.Author, at string) {
	// Retried deliveries come late: an older typing event than the last
	// one shown changes nothing.
	if at != "" && at < d.lastTyping || d.Ended() || d.State().ConversationID == "" {
		return
	}
	d.lastTyping = at
	d.agent(ctx, author)
	if on {
		d.AgentTyping.On(typingTimeout)
	} else {
		d.AgentTyping.Off()
	}
}

// over ends the chat from the desk's side.
func (d *desk) over(reason string) {
	d.EndedByDesk(reason, false)
	d.leave()
}

// maxFillPages bounds how far back a fill looks for its cursor (100
// messages a page).
const maxFillPages = 20

// fill shows the agent's messages after the cursor, in the conversation's
// order, and moves the cursor past them (and past the customer's and the
// kit's own messages).
func (d *desk) fill(ctx context.Context) error {
	st := d.State()
	if st.ConversationID == "" || d.Ended() {
		return nil
	}
	fresh, err := vendorkit.ReadBack(ctx, maxFillPages, func(ctx context.Context, before string) ([]wire.Message, string, error) {
		page, err := d.messages(ctx, before)
		if st.Cursor == "" || !page.Meta.HasMore {
			return page.Messages, "", err // no cursor: only the latest are new
		}
		return page.Messages, page.Meta.BeforeCursor, err
	}, func(m wire.Message) bool { return m.ID == st.Cursor }, func(m wire.Message) string { return m.ID })
	if err != nil || len(fresh) == 0 {
		return err
	}
	for _, m := range fresh {
		if m.Author.Type != wire.AuthorBusiness || m.Metadata[metaHandoff] != nil || m.Deleted || d.Ended() {
			continue
		}
		p := d.agent(ctx, m.Author)
		d.Callback.SendMessageToUser(toResponse(m.Content), p.ID)
	}
	d.Update(func(s *saved) { s.Cursor = fresh[len(fresh)-1].ID })
	return nil
}

// agent returns the profile of the agent behind author: the first one
// joins; another one is a transfer (Zendesk shows a reassignment only as
// a new author). An author without a name is the current agent.
func (d *desk) agent(ctx context.Context, a wire.Author) servicedesk.AgentProfile {
	cur := d.State().Agent
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
	d.Update(func(s *saved) { s.Agent = &p })
	if !first {
		d.Callback.BeginTransferToAnotherAgent(&p)
	}
	d.Callback.AgentJoined(p)
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
