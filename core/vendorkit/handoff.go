package vendorkit

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Attributes fills a desk's string attributes (contact attributes, custom
// attributes, …) within the desk's bound on their bytes: a value past
// MaxValue or past the room left is cut with servicedesk.TruncatedMarker;
// one for which no useful room is left is dropped and counted. Nothing
// is refused: a hand-off never fails on a desk's limits.
type Attributes struct {
	// MaxBytes bounds keys and values together; MaxValue each value
	// (0: none).
	MaxBytes, MaxValue int
	// Key maps a key onto what the desk takes (nil: as it is).
	Key func(string) string
	// Dropped counts the attributes left out.
	Dropped int

	m    map[string]string
	used int
}

// minRoom is the least room worth a cut value.
const minRoom = 16

// Put sets k to v within the bounds.
func (a *Attributes) Put(k, v string) {
	if a.Key != nil {
		k = a.Key(k)
	}
	if k == "" {
		return
	}
	if a.m == nil {
		a.m = map[string]string{}
	}
	if a.MaxValue > 0 {
		v = servicedesk.Truncate(v, a.MaxValue)
	}
	if old, ok := a.m[k]; ok {
		a.used -= len(k) + len(old)
		delete(a.m, k)
	}
	if a.MaxBytes > 0 && a.used+len(k)+len(v) > a.MaxBytes {
		room := a.MaxBytes - a.used - len(k)
		if room < minRoom {
			a.Dropped++
			return
		}
		v = servicedesk.Truncate(v, room)
	}
	a.m[k] = v
	a.used += len(k) + len(v)
}

// Room is the bytes left for one more value under key k.
func (a *Attributes) Room(k string) int {
	if a.Key != nil {
		k = a.Key(k)
	}
	if a.MaxBytes <= 0 {
		return int(^uint(0) >> 1)
	}
	return a.MaxBytes - a.used - len(k)
}

// Map returns the attributes, nil when there are none.
func (a *Attributes) Map() map[string]string {
	if len(a.m) == 0 {
		return nil
	}
	return a.m
}

// PutHandoff puts a hand-off's attributes in the order that keeps the
// most useful when room runs out: the routing attributes, the verified
// customer (customer_id, customer_verified, customer_name,
// customer_email, customer_locale, customer_<claim>), the summary under
// summaryKey, and the user's unverified claims as unverified_<name>.
func (a *Attributes) PutHandoff(h servicedesk.Handoff, summaryKey, summary string) {
	for _, k := range slices.Sorted(maps.Keys(h.Attributes)) {
		a.Put(k, h.Attributes[k])
	}
	if c := h.Customer; c != nil {
		a.Put("customer_id", c.ID)
		a.Put("customer_verified", "true")
		for _, f := range [][2]string{{"customer_name", c.Name}, {"customer_email", c.Email}, {"customer_locale", c.Locale}} {
			if f[1] != "" {
				a.Put(f[0], f[1])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(c.Claims)) {
			a.Put("customer_"+k, c.Claims[k])
		}
	}
	if summary == "" {
		summary = h.Summary
	}
	if summary != "" && summaryKey != "" {
		a.Put(summaryKey, summary)
	}
	for _, k := range slices.Sorted(maps.Keys(h.Unverified)) {
		a.Put("unverified_"+k, h.Unverified[k])
	}
}

// TranscriptLines are a hand-off's bot transcript as lines "user: …" and
// "bot: …", oldest first, one line per turn (its text cut to maxLine),
// the newest turns whose lines fit maxBytes together; omitted counts the
// turns left out, earlier ones included (TranscriptOmitted).
func TranscriptLines(h servicedesk.Handoff, maxBytes, maxLine int) (lines []string, omitted int) {
	size := 0
	i := len(h.Transcript) - 1
	for ; i >= 0; i-- {
		t := h.Transcript[i]
		line := t.From + ": " + strings.ReplaceAll(t.Text, "\n", " ")
		if maxLine > 0 {
			line = servicedesk.Truncate(line, maxLine)
		}
		if size+len(line)+1 > maxBytes {
			break
		}
		lines = append(lines, line)
		size += len(line) + 1
	}
	slices.Reverse(lines)
	return lines, i + 1 + h.TranscriptOmitted
}

// NoteLines are what an agent reads of a hand-off besides the transcript,
// a line each, for desks that show it as a message or a note: the summary,
// the verified customer and their claims, what the user's browser said
// (marked as not verified) and the routing attributes; none of what h
// lacks. Maps are listed as key=value pairs sorted by key.
func NoteLines(h servicedesk.Handoff) []string {
	var lines []string
	if h.Summary != "" {
		lines = append(lines, "Summary: "+h.Summary)
	}
	if c := h.Customer; c != nil {
		who := slices.DeleteFunc([]string{c.Name, c.Email, c.ID}, func(s string) bool { return s == "" })
		lines = append(lines, "Customer (verified): "+strings.Join(who, ", "))
		if len(c.Claims) > 0 {
			lines = append(lines, "Verified claims: "+pairs(c.Claims))
		}
	}
	if len(h.Unverified) > 0 {
		lines = append(lines, "Said by the customer's browser (not verified): "+pairs(h.Unverified))
	}
	if len(h.Attributes) > 0 {
		lines = append(lines, "Attributes: "+pairs(h.Attributes))
	}
	return lines
}

func pairs(m map[string]string) string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return strings.Join(out, ", ")
}

// TranscriptHeading heads the bot transcript where a desk shows it as
// text, so that the agent does not take the bot's turns for the
// customer's words: it says when the transcript is only the browser's
// word and how many earlier turns were left out.
func TranscriptHeading(h servicedesk.Handoff, omitted int) string {
	head := "Conversation with the bot"
	if h.TranscriptUnverified {
		head += " (as the customer's browser reported it)"
	}
	if omitted > 0 {
		head += ", " + strconv.Itoa(omitted) + " earlier turns left out"
	}
	return head + ":"
}
