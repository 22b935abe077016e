package facekit

import (
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func TestMarkdownRoundTrip(t *testing.T) {
	m := servicedesk.NewResponse(
		servicedesk.TextItem("Hi, I'm **Ada**."),
		servicedesk.ImageItem("https://example.com/r.png", "Receipt"),
		servicedesk.LinkButtonItem("Open", "https://example.com/form"),
	)
	md := Markdown(m)
	if want := "Hi, I'm **Ada**.\n\n![Receipt](https://example.com/r.png)\n\n[Open](https://example.com/form)"; md != want {
		t.Fatalf("Markdown = %q, want %q", md, want)
	}
	back := servicedesk.MarkdownItems(md)
	if len(back) != 3 || back[1].Source != "https://example.com/r.png" || back[2].URL != "https://example.com/form" {
		t.Fatalf("MarkdownItems(Markdown(m)) = %+v", back)
	}
}
