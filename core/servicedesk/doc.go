// Package servicedesk is Carbon AI Chat's custom service desk contract in Go.
//
// # Overview
//
// A ServiceDesk is what the chat calls: StartChat, EndChat and
// SendMessageToAgent, plus optional methods that each live in a one-method
// interface (AvailabilityChecker, TypingNotifier, ReadNotifier,
// FileSelectionValidator, ScreenShareStopper, Reconnector, StateUpdater). A
// Callback is what the desk calls back: AgentJoined, SendMessageToUser,
// SetErrorStatus and the rest of Carbon's ServiceDeskCallback. A Factory
// builds one desk per chat session from FactoryParams.
//
// The message and value types carry Carbon's JSON names (message_type,
// response_type, agent_available, transfer_info, ...), so a desk payload
// written for the browser decodes here unchanged and back again. Item members
// this package does not model survive a round trip in GenericItem.Extra.
// docs/api-mapping.md lists every TypeScript member beside its Go name.
//
// # Optional methods
//
// Callers never type-assert a desk. A Controller finds each optional method
// on the desk, or on a desk it wraps (see Unwrapper), and answers an error
// matching errors.ErrUnsupported when there is none:
//
//	err := servicedesk.NewController(desk).UserTyping(ctx, true)
//	if errors.Is(err, errors.ErrUnsupported) { ... }
//
// # Concurrency
//
// The flow engine calls a desk's methods from its own goroutines, never more
// than one StartChat, EndChat or Reconnect at a time per session, and user
// messages one after another in order. A desk may call its Callback from any
// goroutine at any time, including from inside a ServiceDesk method.
//
// # Errors
//
// One vocabulary of failures serves every desk, transport and front end:
// ErrorCode, read from any error with CodeOf. Desk methods return errors
// that wrap the sentinels ErrUnavailable, ErrRateLimited, ErrRejected,
// ErrChatNotFound or ErrNoChat where they apply, or typed errors that
// report their code (Coder); an error that only knows the HTTP status of
// its answer (HTTPStatuser) gets the code of that status, so a proxy's 502
// reads as unavailable. IsTemporary tells whether to try again. The engine
// wraps each desk error once in an *Error naming the operation, desk,
// session and message; kits add only the vendor's own ids. Unsupported
// optional methods answer errors.ErrUnsupported (CodeUnimplemented).
//
// # As
//
// What only one desk has (a vendor's contact or conversation id) is reached
// with As, through the desk and any desk it wraps; each kit lists the types
// it answers in its own "# As" section.
package servicedesk
