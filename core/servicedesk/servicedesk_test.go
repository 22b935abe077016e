package servicedesk

import (
	"context"
	"errors"
	"testing"
)

type minimalDesk struct{}

func (minimalDesk) Name() string                                                       { return "minimal" }
func (minimalDesk) StartChat(context.Context, MessageResponse, StartChatOptions) error { return nil }
func (minimalDesk) EndChat(context.Context, EndChatInfo) error                         { return nil }
func (minimalDesk) SendMessageToAgent(context.Context, MessageRequest, string, AdditionalDataToAgent) error {
	return nil
}

type typingDesk struct {
	minimalDesk
	typed []bool
}

func (d *typingDesk) UserTyping(_ context.Context, on bool) error {
	d.typed = append(d.typed, on)
	return nil
}
func (d *typingDesk) Reconnect(context.Context) (bool, error) { return true, nil }

// loggingWrapper is middleware that forwards only the required methods.
type loggingWrapper struct {
	ServiceDesk
}

func (w loggingWrapper) Unwrap() ServiceDesk { return w.ServiceDesk }

func TestControllerFindsOptionalMethodsThroughWrappers(t *testing.T) {
	inner := &typingDesk{}
	c := NewController(loggingWrapper{loggingWrapper{inner}})
	if err := c.UserTyping(context.Background(), true); err != nil {
		t.Fatalf("UserTyping through two wrappers: %v", err)
	}
	if len(inner.typed) != 1 || !inner.typed[0] {
		t.Fatalf("inner desk saw %v", inner.typed)
	}
	ok, err := c.Reconnect(context.Background())
	if err != nil || !ok {
		t.Fatalf("Reconnect = %v, %v", ok, err)
	}
	got := c.Supports()
	want := Optional{UserTyping: true, Reconnect: true}
	if got != want {
		t.Fatalf("Supports = %+v, want %+v", got, want)
	}
}

func TestControllerAnswersErrUnsupported(t *testing.T) {
	c := NewController(minimalDesk{})
	ctx := context.Background()
	status, err := c.AreAnyAgentsOnline(ctx, MessageResponse{})
	errs := []error{
		err,
		c.UserTyping(ctx, true),
		c.UserReadMessages(ctx),
		c.FilesSelectedForUpload(ctx, nil),
		c.ScreenShareStop(ctx),
		c.UpdateState(ctx, ChatState{}),
	}
	_, rerr := c.Reconnect(ctx)
	errs = append(errs, rerr)
	for i, err := range errs {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("call %d: err = %v, want ErrUnsupported", i, err)
		}
	}
	if status != OnlineUnknown {
		t.Errorf("status = %q, want unknown", status)
	}
	if (c.Supports() != Optional{}) {
		t.Errorf("minimal desk claims optional methods: %+v", c.Supports())
	}
}

func TestMatchesAccept(t *testing.T) {
	cases := []struct {
		accept, name, mime string
		want               bool
	}{
		{"", "x.exe", "application/x-msdownload", true},
		{"image/*,.txt", "a.png", "image/png", true},
		{"image/*,.txt", "notes.TXT", "", true},
		{"image/*,.txt", "a.pdf", "application/pdf", false},
		{"application/pdf", "a.pdf", "Application/PDF", true},
		{".txt", ".txt", "", false},
		{"*/*", "anything", "", true},
		{"image/*", "a.png", "", false},
	}
	for _, c := range cases {
		if got := MatchesAccept(c.accept, c.name, c.mime); got != c.want {
			t.Errorf("MatchesAccept(%q, %q, %q) = %v", c.accept, c.name, c.mime, got)
		}
	}
}

func TestCapabilitiesAccepts(t *testing.T) {
	c := Capabilities{AllowFileUploads: true, AllowedFileUploadTypes: "image/*", MaxFileSizeBytes: 100}
	if ok, _ := c.Accepts("a.png", "image/png", 100); !ok {
		t.Error("a 100-byte png must pass a 100-byte limit")
	}
	if ok, why := c.Accepts("a.png", "image/png", 101); ok || why == "" {
		t.Error("too large file accepted")
	}
	if ok, _ := c.Accepts("a.txt", "text/plain", 1); ok {
		t.Error("wrong type accepted")
	}
	if ok, _ := (Capabilities{}).Accepts("a.png", "image/png", 1); ok {
		t.Error("uploads not allowed, yet accepted")
	}
}

func TestErrorWrapsOnce(t *testing.T) {
	err := &Error{Op: "SendMessageToAgent", Desk: "rest", SessionID: "s1", MessageID: "m1", Err: ErrRateLimited}
	if !errors.Is(err, ErrRateLimited) || !IsTemporary(err) {
		t.Fatal("sentinel lost")
	}
	if got, want := err.Error(), "servicedesk rest SendMessageToAgent session=s1 message=m1: service desk rate limit"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
