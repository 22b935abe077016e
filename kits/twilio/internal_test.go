package twilio

import (
	"strings"
	"testing"
	"unicode/utf8"
)

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
