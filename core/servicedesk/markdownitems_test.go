package servicedesk

import (
	"reflect"
	"strings"
	"testing"
)

func TestMarkdownItems(t *testing.T) {
	got := MarkdownItems("Hi, I'm **Ada**.\r\n\r\nSee [the policy](https://e/p).\n\n![Receipt](https://e/r.png)\n\n[Open](http://e/f)\n\n[bad](javascript:alert(1))\n\n  ")
	want := []GenericItem{TextItem("Hi, I'm **Ada**.\n\nSee [the policy](https://e/p)."), ImageItem("https://e/r.png", "Receipt"),
		LinkButtonItem("Open", "http://e/f"), TextItem("[bad](javascript:alert(1))")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	if MarkdownItems(" \n\n ") != nil {
		t.Fatal("blank text made items")
	}
}

// FuzzMarkdownItems: a desk's text never panics the reader, and a link
// item's URL is always an absolute http(s) one.
func FuzzMarkdownItems(f *testing.F) {
	for _, s := range []string{"[Open](https://example.com/f)", "![alt](http://e/x.png)\n\ntext", "[a](javascript:alert(1))", "[[a]](https://e)", "![](https://e)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, it := range MarkdownItems(s) {
			u := it.URL + it.Source
			if it.ResponseType != ResponseText && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				t.Fatalf("item %+v from %q", it, s)
			}
		}
	})
}
