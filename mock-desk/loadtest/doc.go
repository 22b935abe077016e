// Package loadtest drives many concurrent chats through a kit, a flow
// engine and an in-process mock-desk whose agents echo, and measures round
// trips; RawEcho measures the same closed loop over bare gorilla/websocket
// connections, the baseline every kit's load benchmark reports beside its
// own figures.
package loadtest
