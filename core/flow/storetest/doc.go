// Package storetest is the suite every flow.Store passes, in the shape of
// go-cloud's drivertest: a store's own test calls Run with a Harness that
// opens the store over fresh data, and the suite checks what the engine
// relies on — records and events read back equal, LastSeq owned by the
// store, ErrEventsTrimmed and ErrSeqGap, a refused Save that wrote nothing,
// List and Delete, ids of any shape, copies on Load, large values, many
// sessions saving at once, files (for a flow.FileStore), and, for a store
// that persists, everything again after closing and reopening the store on
// the same data, which is what a process restart does.
//
// Benchmark measures what one Save costs, the way the engine calls it.
package storetest
