package genesys

import (
	"strconv"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// Genesys Web Messaging's bounds the hand-off keeps to: the custom
// attributes of a message together (keys and values) and the text of one
// guest message. A transcript longer than maxTranscriptMessages opening
// messages keeps its newest turns.
const (
	maxCustomAttributeBytes = 2048
	maxMessageBytes         = 4000
	maxTranscriptMessages   = 4
	// maxValueBytes cuts each value first, so that one long value does
	// not crowd the others out of the 2 KB.
	maxValueBytes = 256
)

// customAttributes are the join's channel.metadata.customAttributes for a
// hand-off, in vendorkit's order, each value cut at 256 bytes and all
// within 2 KB; what cannot fit is left out (dropped counts it), never the
// start refused.
//
// maxBytes is the session's own bound (SessionResponse.maxCustomDataBytes)
// when Genesys gave one, else 2 KB, Genesys's documented default.
func customAttributes(cfg Config, h servicedesk.Handoff, summary string, maxBytes int) (attrs map[string]string, dropped int) {
	if maxBytes <= 0 {
		maxBytes = maxCustomAttributeBytes
	}
	a := &vendorkit.Attributes{MaxBytes: maxBytes, MaxValue: min(maxValueBytes, maxBytes)}
	a.PutHandoff(h, cfg.SummaryAttribute, summary)
	return a.Map(), a.Dropped
}

// transcriptMessages are the opening guest messages that show the agent
// the bot transcript: each headed so that the agent does not take it for
// the customer's words now, each within maxMessageBytes, at most
// maxTranscriptMessages of them (the newest turns kept, the rest counted).
func transcriptMessages(h servicedesk.Handoff) []string {
	if len(h.Transcript) == 0 {
		return nil
	}
	head := "Conversation with the bot before this chat"
	if h.TranscriptUnverified {
		head += " (as the customer's browser reported it)"
	}
	head += ":"
	lines, omitted := vendorkit.TranscriptLines(h, maxTranscriptMessages*maxMessageBytes-400, maxMessageBytes-200)
	if omitted > 0 {
		lines = append([]string{"[" + strconv.Itoa(omitted) + " earlier messages left out]"}, lines...)
	}
	var out []string
	cur := head
	for _, l := range lines {
		if len(cur)+1+len(l) > maxMessageBytes {
			out = append(out, cur)
			cur = "(bot conversation, continued)"
		}
		cur += "\n" + l
	}
	out = append(out, cur)
	if len(out) > maxTranscriptMessages {
		out = out[len(out)-maxTranscriptMessages:]
	}
	return out
}
