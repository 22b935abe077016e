package servicedesk

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestHandoff(t *testing.T) {
	if _, _, ok := TextResponse("hi").Handoff(); ok {
		t.Fatal("a message without connect_to_agent has a hand-off")
	}
	m := NewResponse(TextItem("wait"), GenericItem{ResponseType: ResponseConnectToAgent, MessageToHumanAgent: "short"})
	if s, d, ok := m.Handoff(); !ok || s != "short" || d != nil {
		t.Fatalf("Handoff = %q %v %v", s, d, ok)
	}
	m.Output.Generic[1].TransferInfo = &TransferInfo{AdditionalData: map[string]string{"queue": "billing"}, SummaryMessageToAgent: []GenericItem{TextItem("Card declined.")}}
	if s, d, ok := m.Handoff(); !ok || s != "Card declined." || d["queue"] != "billing" {
		t.Fatalf("Handoff = %q %v %v", s, d, ok)
	}
}

func TestFileReadAll(t *testing.T) {
	open := func(s string) func(context.Context) (io.ReadCloser, error) {
		return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
	}
	ctx := context.Background()
	if b, err := (File{Name: "a", Size: 3, Open: open("abc")}).ReadAll(ctx); err != nil || string(b) != "abc" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
	if _, err := (File{Name: "a", Size: 2, Open: open("abc")}).ReadAll(ctx); err == nil {
		t.Fatal("a file longer than its size was read")
	}
	if _, err := (File{Name: "a"}).ReadAll(ctx); err == nil {
		t.Fatal("a file without content was read")
	}
	boom := errors.New("gone")
	if _, err := (File{Name: "a", Open: func(context.Context) (io.ReadCloser, error) { return nil, boom }}).ReadAll(ctx); !errors.Is(err, boom) {
		t.Fatalf("open error %v", err)
	}
}
