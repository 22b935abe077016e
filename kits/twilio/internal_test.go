package twilio

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMarkdownLink: an agent's body paragraph is a link, an image, or
// text; a link's URL is always an absolute http(s) one.
func FuzzMarkdownLink(f *testing.F) {
	for _, s := range []string{"[Open](https://example.com/f)", "![alt](http://e/x.png)", "[a](javascript:alert(1))", "[x]", "![](https://e)", "[[a]](https://e)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		for _, image := range []bool{true, false} {
			_, href, ok := mdLink(p, image)
			if ok && !(strings.HasPrefix(href, "https://") || strings.HasPrefix(href, "http://")) {
				t.Fatalf("link %q from %q", href, p)
			}
		}
	})
}

// FuzzSplitBody: the parts of a message are each within Twilio's limit,
// valid UTF-8 when the text was, and together the text.
func FuzzSplitBody(f *testing.F) {
	f.Add("hello", 3)
	f.Add(strings.Repeat("é", 900), 1600)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 4 || n > 4096 {
			return
		}
		parts := splitBody(s, n)
		if strings.Join(parts, "") != s {
			t.Fatal("parts lose text")
		}
		for _, p := range parts {
			if len(p) > n || (utf8.ValidString(s) && !utf8.ValidString(p)) {
				t.Fatalf("part %q", p)
			}
		}
	})
}
