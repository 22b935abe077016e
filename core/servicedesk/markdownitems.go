package servicedesk

import "strings"

// MarkdownItems turns the markdown text of a desk that has only text (a
// Twilio body, a Connect text/markdown message) into Carbon items, the way
// mock-desk's faces write an agent's rich message: a paragraph that is
// only "![alt](url)" is an image item, one that is only "[label](url)" a
// link button (absolute http or https URLs only), and the paragraphs
// between them one text item (Carbon renders its markdown). Blank text is
// no item.
func MarkdownItems(text string) []GenericItem {
	var items []GenericItem
	var paras []string
	flush := func() {
		if len(paras) > 0 {
			items = append(items, TextItem(strings.Join(paras, "\n\n")))
			paras = nil
		}
	}
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if alt, src, ok := markdownLink(p, true); ok {
			flush()
			items = append(items, ImageItem(src, alt))
		} else if label, href, ok := markdownLink(p, false); ok {
			flush()
			items = append(items, LinkButtonItem(label, href))
		} else if strings.TrimSpace(p) != "" {
			paras = append(paras, p)
		}
	}
	flush()
	return items
}

// markdownLink reads a paragraph that is one markdown link (an image's
// with image: "![a](u)").
func markdownLink(p string, image bool) (text, href string, ok bool) {
	p = strings.TrimSpace(p)
	if image {
		if !strings.HasPrefix(p, "!") {
			return "", "", false
		}
		p = p[1:]
	}
	if !strings.HasPrefix(p, "[") || !strings.HasSuffix(p, ")") {
		return "", "", false
	}
	mid := strings.Index(p, "](")
	if mid < 0 || strings.ContainsAny(p[1:mid], "[]") {
		return "", "", false
	}
	href = p[mid+2 : len(p)-1]
	if strings.ContainsAny(href, " ()") || !(strings.HasPrefix(href, "https://") || strings.HasPrefix(href, "http://")) {
		return "", "", false
	}
	return p[1:mid], href, true
}
