package amazonconnect

import (
	"encoding/json"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/amazonconnect/internal/wire"
)

// decodeContent turns a MESSAGE item's content into a Carbon message.
// text/markdown is read by servicedesk.MarkdownItems: a paragraph that is
// only an image becomes an image item, only an http(s) link a link button,
// the paragraphs between them one text item (Carbon renders its markdown). Interactive messages become their title
// and choices as text. Other content types are shown as text.
func decodeContent(contentType, content string) servicedesk.MessageResponse {
	switch contentType {
	case wire.CTTextMarkdown:
		items := servicedesk.MarkdownItems(content)
		if len(items) == 0 {
			items = append(items, servicedesk.TextItem(content))
		}
		return servicedesk.NewResponse(items...)
	case wire.CTInteractive:
		return servicedesk.TextResponse(interactiveText(content))
	}
	return servicedesk.TextResponse(content)
}

// interactiveText renders an interactive message (ListPicker, QuickReply,
// TimePicker, Panel, Carousel templates) as its title and a list of its
// choices.
func interactiveText(content string) string {
	var m struct {
		TemplateType string `json:"templateType"`
		Data         struct {
			Content struct {
				Title    string `json:"title"`
				Subtitle string `json:"subtitle"`
				Elements []struct {
					Title string `json:"title"`
				} `json:"elements"`
			} `json:"content"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(content), &m) != nil || m.Data.Content.Title == "" {
		return content
	}
	var b strings.Builder
	b.WriteString(m.Data.Content.Title)
	if m.Data.Content.Subtitle != "" {
		b.WriteString("\n\n" + m.Data.Content.Subtitle)
	}
	for i, e := range m.Data.Content.Elements {
		if i == 0 {
			b.WriteString("\n")
		}
		b.WriteString("\n- " + e.Title)
	}
	return b.String()
}
