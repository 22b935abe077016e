// Package lifetime holds the small lifetime pieces of a kit's desk: a
// Lifecycle (a context that ends with Close, tracked goroutines, callers'
// contexts bound to it), a Set of open desks that one Close closes, a Slot
// for the desk's one live connection, an Indicator that turns itself off
// unless renewed (an agent's typing, for a desk that never says
// "stopped"), and a Queue that never blocks its producers, for a desk's
// worker goroutine.
//
// # Concurrency
//
// Lifecycle, Set, Slot, Indicator and Queue are safe for concurrent use.
//
// # Errors
//
// Set.Add fails with ErrClosed after Close.
package lifetime
