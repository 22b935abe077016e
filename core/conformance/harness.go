package conformance

import (
	"context"
	"log/slog"
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Features is what a kit declares it can do (watermill's word; Carbon's
// Capabilities, in servicedesk, are a desk's upload limits). The suite runs
// the scenarios of every declared feature, and checks that an undeclared
// one answers errors.ErrUnsupported (or, for desk-side features, never
// shows up).
type Features struct {
	AvailabilityCheck bool // AreAnyAgentsOnline answers online/offline
	QueuePosition     bool // queue position updates while waiting
	WaitTime          bool // estimated wait updates while waiting
	UserTyping        bool // the user's typing reaches the agent
	AgentTyping       bool // the agent's typing reaches the user
	UserRead          bool // the user's read receipts reach the agent
	AgentRead         bool // the agent's read receipts reach the user
	FileUpload        bool // files reach the agent; limits reported as capabilities
	Transfer          bool // transfers to another agent
	ScreenShare       bool // screen share requests from the agent
	Reconnect         bool // a chat survives an engine restart (Reconnect)
}

// Harness is one fresh setup: the kit under test and the simulated desk it
// talks to. A HarnessMaker builds one per subtest.
type Harness struct {
	// Factory builds the kit's desk for a session, exactly as a server would.
	Factory servicedesk.Factory
	// Desk plays the agent and watches the customer side.
	Desk Desk
	// Faults injects transport faults; nil when the desk cannot.
	Faults Faults
	// NewID, when set, is the engine's message id maker (flow.Options.NewID),
	// for desks that take the engine's ids as their own only in a format of
	// theirs (Salesforce wants lowercase UUIDs).
	NewID func() string
	// Logger, when set, receives the engine's logs and, through
	// FactoryParams.Logger, the kit's desks'. Nil: discarded, unless
	// KIT_DEBUG is set in the environment, which shows them all on
	// stderr at debug level, to see why a scenario failed.
	Logger *slog.Logger
}

// HarnessMaker builds a fresh Harness for one subtest. It registers its own
// cleanup with t.Cleanup.
type HarnessMaker func(t *testing.T) *Harness

// Desk is the agent side of the simulated desk: what the suite needs to play
// agents and observe what the kit did. mock-desk implements it; so does the
// in-memory reference desk in package memdesk.
type Desk interface {
	// SetAgentsOnline sets whether any agent is online.
	SetAgentsOnline(ctx context.Context, online bool) error
	// RefuseNextChat makes the desk refuse the next chat request, giving
	// reason.
	RefuseNextChat(ctx context.Context, reason string) error
	// NextChat waits for the next chat a customer started.
	NextChat(ctx context.Context) (Chat, error)
}

// Chat is one chat on the desk, seen from the agent's seat.
type Chat interface {
	// ID is the desk's chat id.
	ID() string
	// Summary is the initial summary for the agent, from the
	// connect_to_agent item's transfer_info.
	Summary() string

	// QueueUpdate tells the waiting customer a position and a wait in
	// minutes (negative: not set).
	QueueUpdate(ctx context.Context, position, waitMinutes int) error
	Join(ctx context.Context, agent servicedesk.AgentProfile) error
	Say(ctx context.Context, msg servicedesk.MessageResponse) error
	Typing(ctx context.Context, on bool) error
	Read(ctx context.Context) error
	Transfer(ctx context.Context, to servicedesk.AgentProfile) error
	Leave(ctx context.Context) error
	End(ctx context.Context) error
	RequestScreenShare(ctx context.Context) error
	CancelScreenShare(ctx context.Context) error
	// FailNextUpload makes the desk accept the next customer message but
	// fail its files' uploads afterwards, giving reason (a virus scan, say).
	FailNextUpload(ctx context.Context, reason string) error
	// RejectNextMessage makes the desk refuse the next customer message.
	RejectNextMessage(ctx context.Context, reason string) error
	// DropConnection cuts the kit's live connection(s) for this chat, as a
	// network failure would.
	DropConnection(ctx context.Context) error

	// AwaitMessage returns the next customer message, in arrival order.
	AwaitMessage(ctx context.Context) (CustomerMessage, error)
	// AwaitTyping returns the next customer typing change.
	AwaitTyping(ctx context.Context) (bool, error)
	// AwaitRead returns when the customer next reports messages read.
	AwaitRead(ctx context.Context) error
	// AwaitScreenShare returns the customer's next screen share change:
	// accepted, declined or ended.
	AwaitScreenShare(ctx context.Context) (servicedesk.ScreenShareState, error)
	// AwaitEnded returns when the customer ended the chat.
	AwaitEnded(ctx context.Context) error
}

// CustomerMessage is a message the desk received from the customer.
type CustomerMessage struct {
	// ID is the id the kit gave the message (its idempotency key).
	ID    string
	Text  string
	Files []CustomerFile
	// Rejected is set when the desk refused the message (see
	// RejectNextMessage) or one of its files.
	Rejected bool
}

// CustomerFile is a file the desk received.
type CustomerFile struct {
	ID   string
	Name string
	Type string
	Data []byte
	// Rejected holds the desk's reason when it refused the file.
	Rejected string
}

// Faults injects transport faults, deterministically from Seed.
type Faults interface {
	Set(ctx context.Context, p FaultProfile) error
	// Injected returns how many faults of each kind were injected so far.
	Injected(ctx context.Context) (map[string]int, error)
}

// FaultProfile describes faults to inject. Rates are in [0, 1].
type FaultProfile struct {
	Seed int64
	// ServerErrorRate answers customer requests with a 5xx.
	ServerErrorRate float64
	// RateLimitRate answers customer requests with a 429 and Retry-After.
	RateLimitRate float64
	// RetryAfterSeconds is the Retry-After a 429 carries.
	RetryAfterSeconds int
	// DuplicateRate delivers desk events twice.
	DuplicateRate float64
	// ReorderRate delivers desk events out of order.
	ReorderRate float64
}
