package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/twilio/internal/wire"
)

// Twilio's limits the hand-off respects: a FriendlyName of 256
// characters, a message Body of 1,600, and a budget for the JSON of
// conversation and task attributes.
const (
	maxFriendlyName = 256
	maxBody         = 1600
	maxAttrsJSON    = 16 << 10
	maxAttrValue    = 1024
	maxSummary      = 4096
)

// customerName is what Flex shows as the customer: the verified name, the
// browser's claim, or a plain word.
func customerName(h servicedesk.Handoff) string {
	switch {
	case h.Customer != nil && h.Customer.Name != "":
		return h.Customer.Name
	case h.Unverified["name"] != "":
		return h.Unverified["name"]
	}
	return "Customer"
}

// taskAttributes are the TaskRouter attributes of the hand-off: the
// routing attributes as they are, Flex's known customer attributes, the
// summary and the claims, cut to fit maxAttrsJSON with Truncate.
func taskAttributes(identity string, h servicedesk.Handoff) map[string]any {
	cut := func(m map[string]string, limit int) map[string]string {
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[k] = servicedesk.Truncate(v, limit)
		}
		return out
	}
	for limit := maxAttrValue; ; limit /= 2 {
		a := map[string]any{}
		for k, v := range cut(h.Attributes, limit) {
			a[k] = v
		}
		name := servicedesk.Truncate(customerName(h), limit)
		a["from"], a["customerName"], a["customerAddress"] = name, name, identity
		if h.Summary != "" {
			a["conversationSummary"] = servicedesk.Truncate(h.Summary, min(maxSummary, 4*limit))
		}
		if c := h.Customer; c != nil {
			cust := map[string]any{"external_id": servicedesk.Truncate(c.ID, limit), "name": name}
			if c.Email != "" {
				cust["email"] = servicedesk.Truncate(c.Email, limit)
			}
			verified := cut(c.Claims, limit)
			verified["id"], verified["locale"] = c.ID, c.Locale
			a["customers"], a["verifiedCustomer"] = cust, verified
		}
		if len(h.Unverified) > 0 {
			a["unverifiedClaims"] = cut(h.Unverified, limit)
		}
		if len(jsonString(a)) <= maxAttrsJSON || limit <= 16 {
			return a
		}
	}
}

func (d *desk) createConversation(ctx context.Context, h servicedesk.Handoff) (wire.Conversation, error) {
	unique := "deskbridge-" + vendorkit.NewUUID()
	attrs := map[string]any{"deskbridge": true}
	if h.Summary != "" {
		attrs["summary"] = servicedesk.Truncate(h.Summary, maxSummary)
	}
	form := url.Values{
		"FriendlyName": {servicedesk.Truncate("Chat with "+customerName(h), maxFriendlyName)},
		"UniqueName":   {unique},
		"Attributes":   {jsonString(attrs)},
	}
	var conv wire.Conversation
	base := d.k.cfg.ConversationsURL + "/v1/Conversations"
	err := d.k.send(ctx, httpjson.Call{Op: "create conversation", Method: http.MethodPost, Path: base, Form: form, Out: &conv}, nil)
	if conflict(err) {
		// A retry of a create whose answer was lost: the unique name finds it.
		err = d.k.send(ctx, httpjson.Call{Op: "fetch conversation", Method: http.MethodGet, Path: base + "/" + unique, Out: &conv}, nil)
	}
	return conv, err
}

func (d *desk) addCustomer(ctx context.Context, conv, identity string, h servicedesk.Handoff) (wire.Participant, error) {
	attrs := map[string]any{"name": customerName(h), "verified": h.Customer != nil}
	form := url.Values{"Identity": {identity}, "Attributes": {jsonString(attrs)}}
	var p wire.Participant
	err := d.k.send(ctx, httpjson.Call{Op: "add participant", Method: http.MethodPost, Path: d.k.cfg.ConversationsURL + "/v1/Conversations/" + conv + "/Participants", Form: form, Out: &p}, nil)
	if conflict(err) {
		parts, lerr := d.listParticipants(ctx, conv)
		if lerr != nil {
			return p, lerr
		}
		for _, q := range parts {
			if q.Identity == identity {
				return q, nil
			}
		}
	}
	return p, err
}

func (d *desk) listParticipants(ctx context.Context, conv string) ([]wire.Participant, error) {
	var page wire.ParticipantPage
	err := d.k.send(ctx, httpjson.Call{Op: "list participants", Method: http.MethodGet, Path: d.k.cfg.ConversationsURL + "/v1/Conversations/" + conv + "/Participants?PageSize=100", Out: &page}, nil)
	return page.Participants, err
}

// ensureWebhook gives the conversation a scoped webhook to the kit,
// unless it has one already (a retry, a resume).
func (d *desk) ensureWebhook(ctx context.Context, conv string) error {
	base := d.k.cfg.ConversationsURL + "/v1/Conversations/" + conv + "/Webhooks"
	var page wire.WebhookPage
	if err := d.k.send(ctx, httpjson.Call{Op: "list webhooks", Method: http.MethodGet, Path: base, Out: &page}, nil); err != nil {
		return err
	}
	for _, w := range page.Webhooks {
		if w.Target == "webhook" && w.Configuration.URL == d.k.cfg.WebhookURL {
			return nil
		}
	}
	form := url.Values{"Target": {"webhook"}, "Configuration.Url": {d.k.cfg.WebhookURL}, "Configuration.Method": {"POST"},
		"Configuration.Filters": wire.Filters}
	return d.k.send(ctx, httpjson.Call{Op: "create webhook", Method: http.MethodPost, Path: base, Form: form}, nil)
}

// postTranscript posts the bot conversation as the opening messages, the
// customer's turns as the customer, the bot's as Config.BotAuthor, each
// with its time; past Config.TranscriptTurns, the older turns are left
// out and a first message says how many.
func (d *desk) postTranscript(ctx context.Context, turns []servicedesk.Turn) error {
	if n := len(turns) - d.k.cfg.TranscriptTurns; n > 0 {
		turns = turns[n:]
		if _, err := d.post(ctx, url.Values{"Author": {d.k.cfg.BotAuthor}, "Body": {"[" + strconv.Itoa(n) + " earlier messages with the bot are not shown]"}}, "", 0); err != nil {
			return err
		}
	}
	st := d.State()
	for _, t := range turns {
		author := d.k.cfg.BotAuthor
		if t.From == servicedesk.TurnUser {
			author = st.Identity
		}
		form := url.Values{"Author": {author}, "Body": {servicedesk.Truncate(t.Text, maxBody)}}
		if !t.At.IsZero() {
			form.Set("DateCreated", t.At.UTC().Format(time.RFC3339))
		}
		if _, err := d.post(ctx, form, "", 0); err != nil {
			return err
		}
	}
	return nil
}

// createInteraction hands the conversation to Flex: the conversation is
// the channel's media channel, the routing the task's.
func (d *desk) createInteraction(ctx context.Context, conv, identity string, h servicedesk.Handoff) (wire.Interaction, error) {
	channel := map[string]any{"type": d.k.cfg.ChannelType, "initiated_by": "customer",
		"properties": map[string]string{"media_channel_sid": conv}}
	props := map[string]any{"workspace_sid": d.k.cfg.WorkspaceSID, "task_channel_unique_name": d.k.cfg.TaskChannel,
		"attributes": taskAttributes(identity, h)}
	if d.k.cfg.WorkflowSID != "" {
		props["workflow_sid"] = d.k.cfg.WorkflowSID
	}
	form := url.Values{"Channel": {jsonString(channel)}, "Routing": {jsonString(map[string]any{"properties": props})}}
	var in wire.Interaction
	err := d.k.send(ctx, httpjson.Call{Op: "create interaction", Method: http.MethodPost, Path: d.k.cfg.FlexURL + "/v1/Interactions", Form: form, Out: &in}, nil)
	if err == nil && (in.SID == "" || in.Channel.SID == "") {
		err = errors.New("twilio: create interaction: no interaction or channel sid in the answer")
	}
	return in, err
}
