package facekit

import (
	"cmp"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Markdown writes an agent's message as the text an agent of a text-only
// desk types: one paragraph per item, an image "![alt](source)", a link
// button "[label](url)", a video or audio "[title](source)", the rest its
// plain text. servicedesk.MarkdownItems reads it back.
func Markdown(m servicedesk.MessageResponse) string {
	paras := make([]string, 0, len(m.Output.Generic))
	for _, it := range m.Output.Generic {
		var p string
		switch it.ResponseType {
		case servicedesk.ResponseImage:
			p = "![" + it.AltText + "](" + it.Source + ")"
		case servicedesk.ResponseButton:
			p = "[" + it.Label + "](" + it.URL + ")"
		case servicedesk.ResponseVideo, servicedesk.ResponseAudio:
			p = "[" + cmp.Or(it.Title, it.Source) + "](" + it.Source + ")"
		default:
			p = servicedesk.NewResponse(it).PlainText()
		}
		if p != "" {
			paras = append(paras, p)
		}
	}
	return strings.Join(paras, "\n\n")
}
