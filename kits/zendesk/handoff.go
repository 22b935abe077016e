package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/zendesk/internal/wire"
)

// Sunshine Conversations limits (openapi.yaml): a text of 4096
// characters, metadata of 4 KB, profile names and emails of 128.
const (
	maxTextBytes      = 4096
	maxMetadataBytes  = 4096
	maxMetaValueBytes = 1024
	maxProfileBytes   = 128
	maxLocaleBytes    = 64
	maxTranscript     = 50
)

// handoff is what StartChat delivers: the customer, the routing
// attributes, the summary and the bot's transcript.
type handoff struct {
	servicedesk.Handoff
	externalID string
}

func handoffOf(m servicedesk.MessageResponse, opts servicedesk.StartChatOptions, session string) handoff {
	h := handoff{Handoff: opts.Handoff.WithConnectMessage(m), externalID: "deskbridge-" + session}
	if c := h.Customer; c != nil && c.ID != "" {
		// A verified customer is the same Zendesk user on every chat (and
		// channel): the agent sees their history.
		h.externalID = c.ID
	}
	return h
}

// profile is the user's profile: verified facts only.
func (h handoff) profile() wire.Profile {
	c := h.Customer
	if c == nil {
		return wire.Profile{}
	}
	return wire.Profile{GivenName: servicedesk.Truncate(c.Name, maxProfileBytes), Email: emailOrEmpty(c.Email), Locale: servicedesk.Truncate(c.Locale, maxLocaleBytes)}
}

// emailOrEmpty drops an email Zendesk would refuse (too long to be one).
func emailOrEmpty(s string) string {
	if len(s) > maxProfileBytes || !strings.Contains(s, "@") {
		return ""
	}
	return s
}

// summaryText is the message the agent reads first: the summary, who the
// customer is (verified or as claimed), and the routing attributes.
func (h handoff) summaryText() string {
	return servicedesk.Truncate(strings.Join(vendorkit.NoteLines(h.Handoff), "\n"), maxTextBytes)
}

// passMetadata is the passControl metadata the Agent Workspace reads:
// first_message_id (the agent sees the conversation from there), the
// requester's verified name and email, and the ticket fields configured
// for the summary and the attributes; at most 4 KB of it.
func (h handoff) passMetadata(cfg Config, first string) map[string]any {
	md := map[string]string{}
	if first != "" {
		md["first_message_id"] = first
	}
	if c := h.Customer; c != nil {
		if c.Name != "" {
			md["dataCapture.systemField.requester.name"] = c.Name
		}
		if e := emailOrEmpty(c.Email); e != "" {
			md["dataCapture.systemField.requester.email"] = e
		}
	}
	if cfg.SummaryField != "" && h.Summary != "" {
		md["dataCapture.ticketField."+cfg.SummaryField] = h.Summary
	}
	for attr, field := range cfg.AttributeFields {
		if v, ok := h.Attributes[attr]; ok {
			md["dataCapture.ticketField."+field] = v
		}
	}
	// The hand-off's own keys first, then the ticket fields by name.
	return limitMetadata(md, maxMetadataBytes, "first_message_id", "dataCapture.systemField.requester.name", "dataCapture.systemField.requester.email")
}

// limitMetadata returns m as metadata of at most max bytes of JSON: each
// value cut to maxMetaValueBytes, the keys first in order then by name,
// and the keys that no longer fit left out.
func limitMetadata(m map[string]string, max int, first ...string) map[string]any {
	keys := slices.DeleteFunc(slices.Clone(first), func(k string) bool { _, ok := m[k]; return !ok })
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	out := map[string]any{}
	size := 2 // {}
	for _, k := range keys {
		v := servicedesk.Truncate(m[k], maxMetaValueBytes)
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		n := len(kb) + 1 + len(vb) + 1
		if size+n > max {
			continue
		}
		size += n
		out[k] = v
	}
	return out
}

// postHandoff posts the bot transcript (its last maxTranscript turns, the
// customer's as the user, the bot's as the business under BotName) and the
// summary, each marked as the kit's; it returns the first and the last
// message's ids.
func (d *desk) postHandoff(ctx context.Context, h handoff) (first, last string, err error) {
	st := d.State()
	bot := wire.Author{Type: wire.AuthorBusiness, DisplayName: d.k.cfg.BotName}
	type post struct {
		author wire.Author
		text   string
	}
	var posts []post
	add := func(a wire.Author, text string) {
		if text = strings.TrimSpace(text); text != "" {
			posts = append(posts, post{a, servicedesk.Truncate(text, maxTextBytes)})
		}
	}
	b := h.Bound(maxTranscript, maxTextBytes, 0)
	if b.TranscriptOmitted > 0 {
		add(bot, fmt.Sprintf("[%d earlier messages with the assistant are not shown]", b.TranscriptOmitted))
	}
	for _, t := range b.Transcript {
		if t.From == servicedesk.TurnUser {
			add(userAuthor(st.UserID), t.Text)
		} else {
			add(bot, t.Text)
		}
	}
	add(bot, h.summaryText())
	for i, p := range posts {
		id, err := d.postID(ctx, "hand-off message", p.author, wire.Content{Type: wire.ContentText, Text: p.text},
			map[string]any{metaHandoff: "transcript"}, fmt.Sprintf("handoff-%s-%d", st.ConversationID, i))
		if err != nil {
			return "", "", err
		}
		if first == "" {
			first = id
		}
		last = id
	}
	return first, last, nil
}

func userAuthor(userID string) wire.Author { return wire.Author{Type: wire.AuthorUser, UserID: userID} }
