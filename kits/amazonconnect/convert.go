package amazonconnect

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/amazonconnect/internal/wire"
)

var (
	imageParagraph = regexp.MustCompile(`^!\[([^\]]*)\]\((\S+)\)$`)
	linkParagraph  = regexp.MustCompile(`^\[([^\]]+)\]\((\S+)\)$`)
)

// decodeContent turns a MESSAGE item's content into a Carbon message.
// text/markdown is split into paragraphs: a paragraph that is only an image
// becomes an image item, only a link a link button, the rest text items
// (Carbon renders their markdown). Interactive messages become their title
// and choices as text. Other content types are shown as text.
func decodeContent(contentType, content string) servicedesk.MessageResponse {
	switch contentType {
	case wire.CTTextMarkdown:
		var items []servicedesk.GenericItem
		for _, p := range strings.Split(content, "\n\n") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if m := imageParagraph.FindStringSubmatch(p); m != nil {
				items = append(items, servicedesk.ImageItem(m[2], m[1]))
			} else if m := linkParagraph.FindStringSubmatch(p); m != nil {
				items = append(items, servicedesk.LinkButtonItem(m[1], m[2]))
			} else {
				items = append(items, servicedesk.TextItem(p))
			}
		}
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
