// Package conformance is the suite every desk kit must pass: the contract
// of core/servicedesk, driven through a real flow.Engine against a
// simulated desk that plays the agent and injects faults.
//
// # Overview
//
// A kit's test is one call: Run (or RunExcluding, for a real desk whose
// protocol cannot express a scenario) with the Features it declares and a
// HarnessMaker that builds, per scenario, the kit's Factory and the desk it
// talks to (mock-desk through mock-desk/conformdesk, or the in-memory
// reference desk in package memdesk). Each scenario is a subtest with a
// stable name and an exported function of its own (TestFullConversation,
// TestTransfer, ...), in files by group: declarations, availability, chat
// (a whole conversation, agent ends / leaves / transfers, refused starts,
// failing messages, a second chat in the same session), files, screen
// share, reconnect after an engine restart over the same store, faults (a
// dropped connection, desk 5xx/429, duplicated and reordered delivery: no
// message lost, doubled or reordered either way) and lifecycle (Close
// idempotent, Close while a call blocks, no goroutine leaks). A scenario of
// a feature the kit does not declare skips itself; undeclared features must
// answer errors.ErrUnsupported. CheckREADME keeps a kit's feature table in
// step with its declaration. docs/writing-a-kit.md lists what each
// scenario asks of a kit.
//
// # Concurrency
//
// Scenarios run as parallel subtests, each with a fresh harness, engine and
// store (TestNoGoroutineLeaks, which counts goroutines, runs alone first),
// so a HarnessMaker must share nothing between scenarios. A scenario may
// call the harness's Desk and Chat from several goroutines at once (agent
// and user talking together), so implementations must be safe for
// concurrent use. Run returns before the parallel scenarios end.
//
// # Errors
//
// A scenario fails its subtest with the events the session saw so far, so
// a failure reads as a timeline. Scenarios that need faults skip when
// Harness.Faults is nil; scenarios of undeclared features skip after
// declarations/optional_methods checked that they answer ErrUnsupported.
package conformance
