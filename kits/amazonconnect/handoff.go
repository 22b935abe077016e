package amazonconnect

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Amazon Connect's documented limits (StartChatContact): up to 32,768
// UTF-8 bytes across all contact attributes, keys of alphanumerics,
// dashes and underscores; a participant display name of 1 to 256
// characters.
const (
	maxAttributeBytes   = 32768
	maxDisplayNameBytes = 256
)

// Contact attributes the hand-off fills (see README.md).
const (
	attrCustomerID       = "customer_id"
	attrCustomerName     = "customer_name"
	attrCustomerEmail    = "customer_email"
	attrCustomerLocale   = "customer_locale"
	attrCustomerVerified = "customer_verified"
	attrTranscript       = "bot_transcript"
	prefixClaim          = "customer_"
	prefixUnverified     = "unverified_"
)

// displayName is the customer participant's name: the verified
// customer's, else the configured one.
func displayName(cfg Config, h servicedesk.Handoff) string {
	if c := h.Customer; c != nil && strings.TrimSpace(c.Name) != "" {
		return servicedesk.Truncate(strings.TrimSpace(c.Name), maxDisplayNameBytes)
	}
	return cfg.DisplayName
}

// contactAttributes are the contact's attributes for a hand-off, within
// Connect's 32 KiB: first the kit's own and the routing attributes, then
// the verified customer, the summary, the user's unverified claims, and
// last the bot transcript, cut to what room is left (its newest turns
// kept). What does not fit is left out, never the hand-off refused;
// dropped counts the attributes left out.
func contactAttributes(cfg Config, h servicedesk.Handoff, summary string) (attrs map[string]string, dropped int) {
	attrs = map[string]string{}
	used := 0
	put := func(k, v string) {
		k = attributeKey(k)
		if k == "" {
			return
		}
		if old, ok := attrs[k]; ok {
			used -= len(k) + len(old)
		}
		if used+len(k)+len(v) > maxAttributeBytes {
			room := maxAttributeBytes - used - len(k)
			if room < 64 {
				dropped++
				return
			}
			v = servicedesk.Truncate(v, room)
		}
		attrs[k] = v
		used += len(k) + len(v)
	}
	for _, src := range []map[string]string{cfg.Attributes, h.Attributes} {
		for _, k := range slices.Sorted(maps.Keys(src)) {
			put(k, src[k])
		}
	}
	if c := h.Customer; c != nil {
		put(attrCustomerID, c.ID)
		put(attrCustomerVerified, "true")
		for k, v := range map[string]string{attrCustomerName: c.Name, attrCustomerEmail: c.Email, attrCustomerLocale: c.Locale} {
			if v != "" {
				put(k, v)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(c.Claims)) {
			put(prefixClaim+k, c.Claims[k])
		}
	}
	if summary == "" {
		summary = h.Summary
	}
	if summary != "" {
		put(cfg.SummaryAttribute, summary)
	}
	for _, k := range slices.Sorted(maps.Keys(h.Unverified)) {
		put(prefixUnverified+k, h.Unverified[k])
	}
	if len(h.Transcript) > 0 {
		room := maxAttributeBytes - used - len(attrTranscript)
		if t := transcriptText(h, room); t != "" {
			put(attrTranscript, t)
		} else {
			dropped++
		}
	}
	return attrs, dropped
}

// transcriptText is the bot transcript as lines "user: …" / "bot: …",
// oldest first, within max bytes: the newest turns that fit, after a line
// saying how many earlier ones are left out.
func transcriptText(h servicedesk.Handoff, max int) string {
	var head string
	if h.TranscriptUnverified {
		head = "(as the customer's browser reported it)\n"
	}
	lines := make([]string, 0, len(h.Transcript))
	size := len(head)
	i := len(h.Transcript) - 1
	for ; i >= 0; i-- {
		t := h.Transcript[i]
		line := t.From + ": " + strings.ReplaceAll(t.Text, "\n", " ")
		if size+len(line)+1 > max-40 { // room for the "left out" line
			break
		}
		lines = append(lines, line)
		size += len(line) + 1
	}
	if len(lines) == 0 {
		return ""
	}
	slices.Reverse(lines)
	if n := i + 1 + h.TranscriptOmitted; n > 0 {
		head += "[" + strconv.Itoa(n) + " earlier messages left out]\n"
	}
	return head + strings.Join(lines, "\n")
}

// attributeKey is k with every character Connect does not take in a key
// replaced by an underscore, cut to 128 bytes.
func attributeKey(k string) string {
	var b strings.Builder
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 128 {
			break
		}
	}
	return b.String()
}
