package servicedesk

import (
	"context"
	"errors"
	"fmt"
)

// ServiceDesk is the required part of Carbon's ServiceDesk interface: what
// every desk integration must do. The optional methods each have their own
// one-method interface (AvailabilityChecker, TypingNotifier, ...) and are
// reached through a Controller, never by type assertions at call sites.
//
// The engine calls these methods off its session queue, one call at a time
// per method kind, with a context that carries the call's timeout. A method
// may invoke Callback methods before it returns.
type ServiceDesk interface {
	// Name reports the desk integration's name (Carbon's getName): 1 to 40
	// characters, for logs and metrics.
	Name() string
	// StartChat asks the desk for an agent. connectMessage is the whole bot
	// response holding the connect_to_agent item. Returning nil means the
	// request exists, not that an agent joined; the desk reports that through
	// Callback.AgentJoined. An error ends the request with a CONNECTING error.
	StartChat(ctx context.Context, connectMessage MessageResponse, opts StartChatOptions) error
	// EndChat tells the desk the chat is over. It must be idempotent.
	EndChat(ctx context.Context, info EndChatInfo) error
	// SendMessageToAgent delivers one user message. messageID equals
	// message.ID and is the id a later USER_MESSAGE error names; desks that
	// accept an idempotency key should use it as that key.
	SendMessageToAgent(ctx context.Context, message MessageRequest, messageID string, data AdditionalDataToAgent) error
}

// AvailabilityChecker is Carbon's optional areAnyAgentsOnline.
type AvailabilityChecker interface {
	// AreAnyAgentsOnline answers Online, Offline or OnlineUnknown.
	AreAnyAgentsOnline(ctx context.Context, connectMessage MessageResponse) (OnlineStatus, error)
}

// TypingNotifier is Carbon's optional userTyping.
type TypingNotifier interface {
	UserTyping(ctx context.Context, isTyping bool) error
}

// ReadNotifier is Carbon's optional userReadMessages.
type ReadNotifier interface {
	UserReadMessages(ctx context.Context) error
}

// FileSelectionValidator is Carbon's optional filesSelectedForUpload: an early
// check of files the user picked but has not sent yet. It reports problems
// through Callback.SetFileUploadStatus and must not upload anything.
type FileSelectionValidator interface {
	FilesSelectedForUpload(ctx context.Context, uploads []FileUpload) error
}

// ScreenShareStopper is Carbon's optional screenShareStop.
type ScreenShareStopper interface {
	ScreenShareStop(ctx context.Context) error
}

// Reconnector is Carbon's optional reconnect: after a restart or reload it
// re-attaches to the chat described by the persisted state the factory got.
// It reports false when that chat is gone.
type Reconnector interface {
	Reconnect(ctx context.Context) (bool, error)
}

// StateUpdater is deskbridge's optional updateState (Carbon has none): the
// engine tells the desk about the chat's host-side state (user id, locale,
// ...) when it changes.
type StateUpdater interface {
	UpdateState(ctx context.Context, state ChatState) error
}

// Unwrapper is implemented by middleware that wraps a ServiceDesk (logging,
// metrics, tracing). A Controller follows Unwrap to find optional methods of
// the desk underneath, so a wrapper need not forward every optional method.
type Unwrapper interface {
	Unwrap() ServiceDesk
}

// Optional lists which optional methods a desk has.
type Optional struct {
	AvailabilityCheck bool
	UserTyping        bool
	UserReadMessages  bool
	FileSelection     bool
	ScreenShareStop   bool
	Reconnect         bool
	UpdateState       bool
}

// Controller reaches a desk's optional methods, in the manner of
// net/http.ResponseController: each method finds the one-method interface on
// the desk or on a desk it wraps, and otherwise returns an error that matches
// errors.ErrUnsupported.
type Controller struct {
	desk ServiceDesk
}

// NewController returns a Controller for desk.
func NewController(desk ServiceDesk) *Controller { return &Controller{desk: desk} }

// Desk returns the desk the controller was made for.
func (c *Controller) Desk() ServiceDesk { return c.desk }

// Supports reports which optional methods the desk has.
func (c *Controller) Supports() Optional {
	_, avail := find[AvailabilityChecker](c.desk)
	_, typing := find[TypingNotifier](c.desk)
	_, read := find[ReadNotifier](c.desk)
	_, files := find[FileSelectionValidator](c.desk)
	_, stop := find[ScreenShareStopper](c.desk)
	_, reconnect := find[Reconnector](c.desk)
	_, state := find[StateUpdater](c.desk)
	return Optional{avail, typing, read, files, stop, reconnect, state}
}

// AreAnyAgentsOnline calls the desk's AvailabilityChecker.
func (c *Controller) AreAnyAgentsOnline(ctx context.Context, connectMessage MessageResponse) (OnlineStatus, error) {
	d, ok := find[AvailabilityChecker](c.desk)
	if !ok {
		return OnlineUnknown, c.unsupported("AreAnyAgentsOnline")
	}
	return d.AreAnyAgentsOnline(ctx, connectMessage)
}

// UserTyping calls the desk's TypingNotifier.
func (c *Controller) UserTyping(ctx context.Context, isTyping bool) error {
	d, ok := find[TypingNotifier](c.desk)
	if !ok {
		return c.unsupported("UserTyping")
	}
	return d.UserTyping(ctx, isTyping)
}

// UserReadMessages calls the desk's ReadNotifier.
func (c *Controller) UserReadMessages(ctx context.Context) error {
	d, ok := find[ReadNotifier](c.desk)
	if !ok {
		return c.unsupported("UserReadMessages")
	}
	return d.UserReadMessages(ctx)
}

// FilesSelectedForUpload calls the desk's FileSelectionValidator.
func (c *Controller) FilesSelectedForUpload(ctx context.Context, uploads []FileUpload) error {
	d, ok := find[FileSelectionValidator](c.desk)
	if !ok {
		return c.unsupported("FilesSelectedForUpload")
	}
	return d.FilesSelectedForUpload(ctx, uploads)
}

// ScreenShareStop calls the desk's ScreenShareStopper.
func (c *Controller) ScreenShareStop(ctx context.Context) error {
	d, ok := find[ScreenShareStopper](c.desk)
	if !ok {
		return c.unsupported("ScreenShareStop")
	}
	return d.ScreenShareStop(ctx)
}

// Reconnect calls the desk's Reconnector.
func (c *Controller) Reconnect(ctx context.Context) (bool, error) {
	d, ok := find[Reconnector](c.desk)
	if !ok {
		return false, c.unsupported("Reconnect")
	}
	return d.Reconnect(ctx)
}

// UpdateState calls the desk's StateUpdater.
func (c *Controller) UpdateState(ctx context.Context, state ChatState) error {
	d, ok := find[StateUpdater](c.desk)
	if !ok {
		return c.unsupported("UpdateState")
	}
	return d.UpdateState(ctx, state)
}

func (c *Controller) unsupported(method string) error {
	name := "<nil>"
	if c.desk != nil {
		name = c.desk.Name()
	}
	return fmt.Errorf("servicedesk %q: %s: %w", name, method, errors.ErrUnsupported)
}

// find looks for T on desk and on every desk it wraps.
func find[T any](desk ServiceDesk) (T, bool) {
	for desk != nil {
		if t, ok := desk.(T); ok {
			return t, true
		}
		u, ok := desk.(Unwrapper)
		if !ok {
			break
		}
		desk = u.Unwrap()
	}
	var zero T
	return zero, false
}

// ErrBadName: a desk's Name breaks Carbon's getName rule (1 to 40
// characters); Carbon refuses such a desk, and so does the engine.
var ErrBadName = errors.New("servicedesk: a desk name must be 1 to 40 characters")

// CheckName checks Carbon's getName rule. Characters count as JavaScript
// counts a string's length (UTF-16 code units).
func CheckName(name string) error {
	n := 0
	for _, r := range name {
		n++
		if r > 0xFFFF {
			n++ // a surrogate pair
		}
	}
	if n == 0 || n > 40 {
		return fmt.Errorf("%w: %q has %d", ErrBadName, name, n)
	}
	return nil
}
