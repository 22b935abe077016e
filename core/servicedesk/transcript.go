package servicedesk

import "strings"

// TranscriptText writes turns as lines "user: …" / "bot: …", oldest first,
// in at most max bytes: when they do not fit, the oldest are cut (the
// newest matter most to an agent) and the text starts with
// TruncatedMarker's brackets, on a rune boundary. For desks that take the
// bot transcript as one text (an attribute, a note).
func TranscriptText(turns []Turn, max int) string {
	var b strings.Builder
	for i, t := range turns {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(t.From)
		b.WriteString(": ")
		b.WriteString(t.Text)
	}
	s := b.String()
	if len(s) <= max {
		return s
	}
	const mark = "[…] "
	if max <= len(mark) {
		return Truncate(s, max)
	}
	cut := len(s) - (max - len(mark))
	for cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut++ // a rune boundary
	}
	return mark + s[cut:]
}
