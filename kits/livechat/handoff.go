package livechat

import (
	"maps"
	"slices"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/livechat/internal/wire"
)

// Limits the kit keeps to (LiveChat documents none for these fields; the
// values keep a hand-off well inside a 1 MB RTM frame): a session field
// value, the number of session fields, the opening event's text.
const (
	maxFieldBytes   = 512
	maxFields       = 50
	maxOpeningBytes = 16 << 10
	maxNameBytes    = 256
)

type handoff struct{ servicedesk.Handoff }

func handoffOf(m servicedesk.MessageResponse, opts servicedesk.StartChatOptions) handoff {
	return handoff{opts.Handoff.WithConnectMessage(m)}
}

// customer is the login payload's customer: the verified name and email,
// and the session fields the agent sees beside the chat (routing
// attributes as they are, the browser's claims marked unverified).
func (h handoff) customer() map[string]any {
	c := map[string]any{}
	if v := h.Customer; v != nil {
		if v.Name != "" {
			c["name"] = servicedesk.Truncate(v.Name, maxNameBytes)
		}
		if strings.Contains(v.Email, "@") && len(v.Email) <= maxNameBytes {
			c["email"] = v.Email
		}
	}
	var fields []map[string]string
	add := func(k, v string) {
		if len(fields) < maxFields {
			fields = append(fields, map[string]string{servicedesk.Truncate(k, maxFieldBytes): servicedesk.Truncate(v, maxFieldBytes)})
		}
	}
	if v := h.Customer; v != nil && v.ID != "" {
		add("verified_customer_id", v.ID)
	}
	for _, k := range slices.Sorted(maps.Keys(h.Attributes)) {
		add(k, h.Attributes[k])
	}
	for _, k := range slices.Sorted(maps.Keys(h.Unverified)) {
		add("unverified_"+k, h.Unverified[k])
	}
	if len(fields) > 0 {
		c["session_fields"] = fields
	}
	return c
}

// openingEvents are the chat's initial events (start_chat's
// chat.thread.events): one message with the summary and the bot
// conversation, which the agent reads first; none without either.
func (h handoff) openingEvents() []wire.Event {
	var b strings.Builder
	if h.Summary != "" {
		b.WriteString("Summary: " + h.Summary)
	}
	if len(h.Transcript) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(vendorkit.TranscriptHeading(h.Handoff, 0) + "\n")
		b.WriteString(servicedesk.TranscriptText(h.Transcript, maxOpeningBytes-b.Len()))
	}
	if b.Len() == 0 {
		return []wire.Event{}
	}
	return []wire.Event{{Type: wire.EventMessage, Text: servicedesk.Truncate(b.String(), maxOpeningBytes), Recipients: "all"}}
}
