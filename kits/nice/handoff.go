package nice

import (
	"maps"
	"slices"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/nice/internal/wire"
)

// Limits the kit keeps to (CXone documents none for the chat gateway;
// these keep a hand-off well inside one frame): the custom fields'
// bytes, one field's value, the opening message.
const (
	maxFieldBytes   = 8 << 10
	maxFieldValue   = 1024
	maxOpeningBytes = 16 << 10
	maxLineBytes    = 1024
)

// openingText is the thread's first message, which opens the contact:
// the summary, then the bot conversation headed as such, so that the
// agent does not take it for the customer's words.
func openingText(h servicedesk.Handoff) string {
	var b strings.Builder
	if h.Summary != "" {
		b.WriteString("Summary: " + h.Summary)
	}
	lines, omitted := vendorkit.TranscriptLines(h, maxOpeningBytes-b.Len()-200, maxLineBytes)
	if len(lines) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(vendorkit.TranscriptHeading(h, omitted) + "\n" + strings.Join(lines, "\n"))
	}
	if b.Len() == 0 {
		return "The customer asked for an agent."
	}
	return servicedesk.Truncate(b.String(), maxOpeningBytes)
}

// customFields are the contact's custom fields (consumerContact
// customFields): the routing attributes, the verified customer, the
// summary and the customer's unverified claims, within the kit's bounds.
// CXone keeps only the fields the channel defines.
func customFields(h servicedesk.Handoff) []wire.CustomField {
	a := vendorkit.Attributes{MaxBytes: maxFieldBytes, MaxValue: maxFieldValue}
	a.PutHandoff(h, "summary", "")
	m := a.Map()
	fields := make([]wire.CustomField, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fields = append(fields, wire.CustomField{Ident: k, Value: m[k]})
	}
	return fields
}

// identityOf is the customer's name as CXone shows it: the verified
// name, split as the SDK's splitName does (first word, the rest).
func identityOf(h servicedesk.Handoff) wire.Identity {
	if h.Customer == nil || h.Customer.Name == "" {
		return wire.Identity{}
	}
	first, last, _ := strings.Cut(strings.TrimSpace(h.Customer.Name), " ")
	return wire.Identity{FirstName: first, LastName: strings.TrimSpace(last)}
}
