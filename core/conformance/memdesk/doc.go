// Package memdesk is an in-memory service desk: the reference kit that
// passes every conformance scenario it can without a network, and a
// template for reading the suite. It is both sides at once: Factory builds
// the kit's servicedesk.ServiceDesk, and Desk plays the agent through
// conformance.Desk.
//
// # Concurrency
//
// All methods are safe for concurrent use.
//
// # Errors
//
// Desk calls after Close fail with ErrClosed; calls without a chat fail with
// servicedesk.ErrNoChat; refused messages wrap servicedesk.ErrRejected.
package memdesk
