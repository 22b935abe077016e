package conformance

import (
	"slices"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Timeout bounds each scenario.
var Timeout = 20 * time.Second

var (
	ada   = servicedesk.AgentProfile{ID: "agent-ada", Nickname: "Ada", UserType: servicedesk.UserHuman, ProfilePictureURL: "https://example.com/ada.png"}
	grace = servicedesk.AgentProfile{ID: "agent-grace", Nickname: "Grace", UserType: servicedesk.UserHuman}
)

// Summary is the summary_message_to_agent the suite sends; desks must show
// it to the agent.
const Summary = "Card ending 4242 was declined twice."

// ConnectMessage is the bot response the suite starts chats with.
func ConnectMessage() servicedesk.MessageResponse {
	return servicedesk.NewResponse(
		servicedesk.TextItem("Let me get you a person."),
		servicedesk.GenericItem{
			ResponseType:        servicedesk.ResponseConnectToAgent,
			MessageToHumanAgent: "Customer asks about a declined card.",
			TransferInfo: &servicedesk.TransferInfo{
				AdditionalData:        map[string]string{"queue": "billing"},
				SummaryMessageToAgent: []servicedesk.GenericItem{servicedesk.TextItem(Summary)},
			},
		},
	)
}

// Run runs every scenario against the kit that maker builds, each as a
// subtest with a stable name. Scenarios run in parallel (as many at once as
// -parallel allows), each with its own harness; the few that cannot share
// the process with others run first, alone. A scenario of a feature the
// kit does not declare skips itself, after declarations/optional_methods
// checked that the kit answers errors.ErrUnsupported for it. Run returns
// before the parallel scenarios end: call it last, and check what they
// leave behind in t.Cleanup.
func Run(t *testing.T, features Features, maker HarnessMaker) {
	t.Helper()
	RunExcluding(t, features, nil, maker)
}

// RunExcluding is Run without the scenarios named in excluded, for a real
// desk whose protocol cannot express what a scenario needs (Genesys's
// guests never see an agent leave a chat that goes on). Each value is the
// reason, shown as the skip message; a name that is no scenario fails the
// test, so an exclusion cannot outlive a renamed scenario.
func RunExcluding(t *testing.T, features Features, excluded map[string]string, maker HarnessMaker) {
	t.Helper()
	for name := range excluded {
		if !slices.ContainsFunc(scenarios, func(sc scenario) bool { return sc.name == name }) {
			t.Errorf("excluded scenario %q does not exist", name)
		}
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if why, ok := excluded[sc.name]; ok {
				t.Skipf("excluded by the kit: %s", why)
			}
			if !sc.notParallel {
				t.Parallel()
			}
			sc.run(t, features, maker)
		})
	}
}

// A Scenario is one exported scenario function: a kit may run one alone,
// e.g. conformance.TestTransfer(t, features, maker).
type Scenario func(t *testing.T, features Features, maker HarnessMaker)

type scenario struct {
	name string
	run  Scenario
	// notParallel: the scenario counts the process's goroutines, so it
	// runs alone.
	notParallel bool
}

var scenarios = []scenario{
	{name: "declarations/optional_methods", run: TestDeclarations},
	{name: "availability/online", run: TestAvailabilityOnline},
	{name: "availability/offline", run: TestAvailabilityOffline},
	{name: "availability/unknown", run: TestAvailabilityUnknown},
	{name: "chat/full_conversation", run: TestFullConversation},
	{name: "chat/agent_ends", run: TestAgentEnds},
	{name: "chat/another_chat_in_the_same_session", run: TestAnotherChatInTheSameSession},
	{name: "chat/agent_leaves_then_another_joins", run: TestAgentLeavesThenAnotherJoins},
	{name: "chat/transfer", run: TestTransfer},
	{name: "chat/start_refused", run: TestStartRefused},
	{name: "chat/user_message_fails", run: TestUserMessageFails},
	{name: "files/accepted", run: TestFilesAccepted},
	{name: "files/rejected_with_reason", run: TestFilesRejectedWithReason},
	{name: "files/upload_fails_after_send", run: TestUploadFailsAfterSend},
	{name: "screen_share/accepted", run: TestScreenShareAccepted},
	{name: "screen_share/declined", run: TestScreenShareDeclined},
	{name: "screen_share/cancelled_by_agent", run: TestScreenShareCancelledByAgent},
	{name: "screen_share/stopped_by_user", run: TestScreenShareStoppedByUser},
	{name: "reconnect/after_engine_restart", run: TestReconnectAfterEngineRestart},
	{name: "faults/connection_lost_mid_chat", run: TestConnectionLostMidChat},
	{name: "faults/desk_errors_retried", run: TestDeskErrorsRetried},
	{name: "faults/duplicate_and_reordered_delivery", run: TestDuplicateAndReorderedDelivery},
	{name: "lifecycle/close_idempotent", run: TestCloseIdempotent},
	{name: "lifecycle/close_while_call_blocks", run: TestCloseWhileCallBlocks},
	{name: "lifecycle/no_goroutine_leaks", run: TestNoGoroutineLeaks, notParallel: true},
}

// requires skips a scenario of a feature the kit does not declare; the
// declarations scenario checked that the kit refuses it properly.
func requires(t *testing.T, declared bool, feature string) {
	t.Helper()
	if !declared {
		t.Skipf("feature not declared: %s (checked by declarations/optional_methods)", feature)
	}
}
