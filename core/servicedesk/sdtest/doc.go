// Package sdtest has test helpers for desk kits: a servicedesk.Callback
// that records every call, for unit tests that drive a kit's desk without
// a flow engine.
package sdtest
