package amazonconnect

import (
	"strconv"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// Amazon Connect's documented limits (StartChatContact): up to 32,768
// UTF-8 bytes across all contact attributes, keys of alphanumerics,
// dashes and underscores; a participant display name of 1 to 256
// characters.
const (
	maxAttributeBytes   = 32768
	maxDisplayNameBytes = 256
	attrTranscript      = "bot_transcript"
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
// Connect's 32 KiB: the kit's own, then the hand-off's (vendorkit's
// order), and last the bot transcript in the room left, its newest turns
// kept. What does not fit is cut or left out (dropped counts it), never
// the hand-off refused.
func contactAttributes(cfg Config, h servicedesk.Handoff, summary string) (attrs map[string]string, dropped int) {
	a := &vendorkit.Attributes{MaxBytes: maxAttributeBytes, Key: attributeKey}
	for k, v := range cfg.Attributes {
		a.Put(k, v)
	}
	a.PutHandoff(h, cfg.SummaryAttribute, summary)
	if len(h.Transcript) > 0 {
		if t := transcriptText(h, a.Room(attrTranscript)); t != "" {
			a.Put(attrTranscript, t)
		} else {
			a.Dropped++
		}
	}
	return a.Map(), a.Dropped
}

// transcriptText is the bot transcript, one line per turn, within max
// bytes: the newest turns that fit, after a line saying how many earlier
// ones are left out.
func transcriptText(h servicedesk.Handoff, max int) string {
	var head string
	if h.TranscriptUnverified {
		head = "(as the customer's browser reported it)\n"
	}
	lines, omitted := vendorkit.TranscriptLines(h, max-len(head)-40, 0) // room for the "left out" line
	if len(lines) == 0 {
		return ""
	}
	if omitted > 0 {
		head += "[" + strconv.Itoa(omitted) + " earlier messages left out]\n"
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
