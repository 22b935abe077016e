package servicedesk

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTranscriptText(t *testing.T) {
	turns := []Turn{{From: TurnUser, Text: "my card was charged twice"}, {From: TurnBot, Text: "I'll get a person."}}
	if got := TranscriptText(turns, 1000); got != "user: my card was charged twice\nbot: I'll get a person." {
		t.Fatalf("whole: %q", got)
	}
	got := TranscriptText(turns, 30)
	if len(got) > 30 || !strings.HasPrefix(got, "[…] ") || !strings.HasSuffix(got, "I'll get a person.") {
		t.Fatalf("cut: %q", got)
	}
	long := []Turn{{From: TurnUser, Text: strings.Repeat("é", 40)}}
	for max := 0; max < 30; max++ {
		if s := TranscriptText(long, max); len(s) > max || !utf8.ValidString(s) {
			t.Fatalf("max %d: %q", max, s)
		}
	}
	if TranscriptText(nil, 10) != "" {
		t.Fatal("no turns, some text")
	}
}
