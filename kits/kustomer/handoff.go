package kustomer

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/kustomer/internal/wire"
)

// Kustomer's bounds on a handoff (API reference, "Create a chat session
// via handoff"): 2 to 100 messages, at least one in and one out. The
// length of a message body is not documented: 4,000 bytes is the kit's.
const (
	maxImported = 100
	maxBody     = 4000
)

// handoff is what StartChat delivers: the customer, the routing
// attributes, the summary and the bot's transcript.
type handoff struct {
	servicedesk.Handoff
	externalID string // the customer's externalId
	session    string
}

func handoffOf(m servicedesk.MessageResponse, opts servicedesk.StartChatOptions, session string) handoff {
	h := handoff{Handoff: opts.Handoff.WithConnectMessage(m), externalID: "deskbridge-" + session, session: session}
	if c := h.Customer; c != nil && c.ID != "" {
		// A verified customer is the same Kustomer customer on every
		// chat: the agent sees their history.
		h.externalID = c.ID
	}
	return h
}

// ensureCustomer creates the customer of the chat (POST /v1/customers,
// with the externalId), or finds the one made before by its externalId
// (409).
func (d *desk) ensureCustomer(ctx context.Context, h handoff) (string, error) {
	body := map[string]any{"externalId": h.externalID}
	if c := h.Customer; c != nil {
		if c.Name != "" {
			body["name"] = servicedesk.Truncate(c.Name, 256)
		}
		if strings.Contains(c.Email, "@") {
			body["emails"] = []any{map[string]string{"type": "other", "email": c.Email}}
		}
		if c.Locale != "" {
			body["locale"] = c.Locale
		}
	}
	var out wire.Doc[wire.Customer]
	err := d.create(ctx, httpjson.Call{Op: "create customer", Method: http.MethodPost, Path: "/v1/customers", Body: body, Out: &out},
		func(context.Context) (bool, error) { return false, nil }) // a second try of a taken one answers 409
	if httpjson.StatusOf(err) == http.StatusConflict {
		err = d.call(ctx, httpjson.Call{Op: "get customer", Method: http.MethodGet, Path: "/v1/customers/externalId=" + url.PathEscape(h.externalID), Out: &out})
	}
	if err != nil {
		return "", err
	}
	if out.Data.ID == "" {
		return "", fmt.Errorf("kustomer: create customer: no id in the answer: %w", servicedesk.ErrUnavailable)
	}
	return out.Data.ID, nil
}

// importedMessage is one message of the handoff's import.
type importedMessage struct {
	Direction string `json:"direction"`
	Body      string `json:"body"`
	Date      string `json:"date"`
}

// messages are the handoff's import: the newest transcript turns that fit
// (the customer's in, the bot's out), then the hand-off note out (the
// summary, who the customer is, the attributes). Kustomer wants an in
// message: a transcript without the customer's words gets one saying the
// customer asked for an agent. Dates are the turns' own, or a millisecond
// apart before now, so that Kustomer's sort by date keeps the order.
func (h handoff) messages(now time.Time) []importedMessage {
	b := h.Bound(maxImported-3, maxBody, 0)
	var out []importedMessage
	add := func(dir, text string, at time.Time) {
		if text = strings.TrimSpace(text); text != "" {
			out = append(out, importedMessage{Direction: dir, Body: servicedesk.Truncate(text, maxBody), Date: at.UTC().Format(time.RFC3339Nano)})
		}
	}
	n := len(b.Transcript) + 3
	step := func(i int) time.Time { return now.Add(time.Duration(i-n) * time.Millisecond) }
	if b.TranscriptOmitted > 0 {
		add(wire.DirectionOut, fmt.Sprintf("[%d earlier messages with the assistant are not shown]", b.TranscriptOmitted), step(0))
	}
	in := false
	last := time.Time{}
	for i, t := range b.Transcript {
		at := step(i + 1)
		if !t.At.IsZero() && t.At.After(last) && t.At.Before(now) {
			at = t.At
		}
		last = at
		dir := wire.DirectionOut
		if t.From == servicedesk.TurnUser {
			dir, in = wire.DirectionIn, true
		}
		add(dir, t.Text, at)
	}
	if !in {
		add(wire.DirectionIn, "(The customer asked to talk to an agent.)", later(last, step(n-2)))
	}
	add(wire.DirectionOut, h.note(), later(last, step(n-1)))
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a.Add(time.Millisecond)
}

// note is the hand-off note the agent reads last of the import: the
// summary, who the customer is (verified or as claimed), the attributes,
// and whether the transcript is the page's word.
func (h handoff) note() string {
	lines := append([]string{"Handed over to an agent."}, vendorkit.NoteLines(h.Handoff)...)
	if h.TranscriptUnverified {
		lines = append(lines, "The transcript above is as the customer's browser reported it.")
	}
	return strings.Join(lines, "\n")
}

// startSession imports the transcript as a new chat session of the
// customer (POST /v2.1/chat/handoff, active) and returns its
// conversation's id. The session's externalId names the deskbridge
// session it continues.
func (d *desk) startSession(ctx context.Context, h handoff, customerID string) (string, error) {
	body := map[string]any{"customerId": customerID, "from": d.k.cfg.From, "externalId": "deskbridge-" + h.session,
		"active": true, "messages": h.messages(time.Now())}
	var out wire.Doc[wire.ChatSession]
	// Kustomer has no idempotency key for a handoff: a try whose outcome
	// is unknown is not sent again (it could open a second session).
	err := d.create(ctx, httpjson.Call{Op: "handoff", Method: http.MethodPost, Path: "/v2.1/chat/handoff", Body: body, Out: &out},
		func(context.Context) (bool, error) {
			return false, fmt.Errorf("kustomer: handoff: the outcome of an earlier try is unknown: %w", servicedesk.ErrRejected)
		})
	if err != nil {
		return "", err
	}
	id := cmp.Or(out.Data.Attributes.ConversationID, out.Data.ID)
	switch {
	case id == "":
		return "", fmt.Errorf("kustomer: handoff: no session id in the answer: %w", servicedesk.ErrUnavailable)
	case !out.Data.Attributes.Active:
		return "", fmt.Errorf("kustomer: handoff: session %s was closed at once: %w", id, servicedesk.ErrRejected)
	}
	return id, nil
}
