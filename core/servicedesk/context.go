package servicedesk

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Handoff is what the engine tells StartChat about the hand-off, beside
// Carbon's connect message: who the user is, what the bot already knows,
// and where to route. A kit delivers it the way its desk shows it to the
// agent and its routing (contact or custom attributes, the participant's
// display name, the transcript as opening messages), cutting what exceeds
// the desk's limits with Truncate rather than failing the hand-off.
type Handoff struct {
	// Customer is the verified identity of the user, nil for an anonymous
	// session. Only a token the site signed, verified by the gateway, or a
	// Go host sets it.
	Customer *Customer `json:"customer,omitempty"`
	// Unverified is what the user's browser said about the user, unsigned:
	// context to show the agent as the user's own claim, never identity.
	Unverified map[string]string `json:"unverified,omitempty"`
	// Attributes are routing attributes: the host's, then the connect
	// message's transfer_info.additional_data.
	Attributes map[string]string `json:"attributes,omitempty"`
	// Summary is the bot's summary for the agent, plain text.
	Summary string `json:"summary,omitempty"`
	// Transcript is the conversation with the bot before the hand-off,
	// oldest first, bounded by the engine (Bound).
	Transcript []Turn `json:"transcript,omitempty"`
	// TranscriptOmitted counts the earliest turns left out of Transcript
	// to keep it within bounds.
	TranscriptOmitted int `json:"transcript_omitted,omitempty"`
	// TranscriptUnverified: the transcript is as the user's browser
	// reported it (a page's adapter), not as the bot's server kept it. A
	// kit shows it to the agent as such.
	TranscriptUnverified bool `json:"transcript_unverified,omitempty"`
}

// Customer is a verified end user.
type Customer struct {
	// ID is the subject of the identity: the site's own customer id.
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	Locale string `json:"locale,omitempty"`
	// Claims are further verified claims the operator chose to pass on.
	Claims map[string]string `json:"claims,omitempty"`
}

// Who said a turn of the bot transcript.
const (
	TurnUser = "user"
	TurnBot  = "bot"
)

// Turn is one message of the bot transcript.
type Turn struct {
	// From is TurnUser or TurnBot.
	From string    `json:"from"`
	Text string    `json:"text"`
	At   time.Time `json:"at,omitzero"`
}

// Bound returns h with a transcript of at most maxTurns turns and
// maxBytes bytes of text, each turn's text cut to maxTurnBytes with
// TruncatedMarker: the newest turns are kept, the earlier ones counted in
// TranscriptOmitted. A bound of 0 or less is no bound.
func (h Handoff) Bound(maxTurns, maxTurnBytes, maxBytes int) Handoff {
	if len(h.Transcript) == 0 {
		return h
	}
	kept := make([]Turn, 0, len(h.Transcript))
	total := 0
	i := len(h.Transcript) - 1
	for ; i >= 0; i-- {
		t := h.Transcript[i]
		if maxTurnBytes > 0 {
			t.Text = Truncate(t.Text, maxTurnBytes)
		}
		if (maxTurns > 0 && len(kept) >= maxTurns) || (maxBytes > 0 && total+len(t.Text) > maxBytes) {
			break
		}
		total += len(t.Text)
		kept = append(kept, t)
	}
	slices.Reverse(kept)
	h.TranscriptOmitted += i + 1
	h.Transcript = kept
	return h
}

// IsZero reports whether h carries nothing.
func (h Handoff) IsZero() bool {
	return h.Customer == nil && len(h.Unverified) == 0 && len(h.Attributes) == 0 && h.Summary == "" && len(h.Transcript) == 0
}

// WithConnectMessage returns h completed from Carbon's connect message m:
// its summary when h has none, and its additional_data under h's own
// attributes (the host's win on a clash).
func (h Handoff) WithConnectMessage(m MessageResponse) Handoff {
	summary, data, ok := m.Handoff()
	if !ok {
		return h
	}
	if h.Summary == "" {
		h.Summary = summary
	}
	if len(data) > 0 {
		attrs := maps.Clone(data)
		maps.Copy(attrs, h.Attributes)
		h.Attributes = attrs
	}
	return h
}

// TruncatedMarker ends a text that Truncate cut.
const TruncatedMarker = " […]"

// Truncate returns s cut to at most max bytes, on a rune boundary, ending
// with TruncatedMarker when it was cut. A max too small for the marker
// cuts without it.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if max < 0 {
		max = 0
	}
	marker := TruncatedMarker
	if max < len(marker) {
		marker = ""
	}
	cut := max - len(marker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + marker
}

// SplitText cuts s into parts of at most max bytes for a desk that bounds
// a message's text, so that a long message is sent whole in several
// messages instead of cut: each part ends at its last line break or space
// when that is past half the bound (the break stays with the part
// before), else on a rune boundary. The parts joined are s; an empty
// s is no part. max below 4 is taken as 4 (room for any rune).
func SplitText(s string, max int) []string {
	if max < 4 {
		max = 4
	}
	var parts []string
	for len(s) > max {
		cut := max
		if i := strings.LastIndexAny(s[max/2:max], "\n "); i >= 0 {
			cut = max/2 + i + 1
		} else {
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			if cut == 0 {
				cut = max // not UTF-8: bytes it is
			}
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		parts = append(parts, s)
	}
	return parts
}
