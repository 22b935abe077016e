// Package sse reads Server-Sent Events (the text/event-stream format of the
// HTML standard) for desks that push their events that way (Salesforce
// Messaging for In-App and Web, and others): a Reader that parses one
// response body into events, and a Stream that holds a reconnecting GET
// open, sends Last-Event-Id on every reconnection, treats a silent
// connection as lost after a heartbeat timeout, and spaces reconnections
// with a backoff.
//
// # Overview
//
// Open starts a Stream in the background. Each connection asks
// Config.Header for its headers (a token that may have been renewed since
// the last one), reports itself up through Config.OnState before any
// event of it is read (so that a stream.Recovery holds live events back
// while it fills the gap), and hands each event to Config.OnEvent, in
// order, from one goroutine. Comments (lines starting with a colon) count
// as heartbeats: they keep the connection alive and deliver nothing.
//
// A Stream gives up when Config.Fatal says an error is not worth another
// try (an expired token), or after Config.MaxAttempts connection attempts
// in a row have failed; Config.OnStop is then told why, once.
//
// # Concurrency
//
// A Stream's methods may be called from any goroutine; its callbacks run
// on its own goroutine, one at a time.
//
// # Errors
//
// A response other than 200 with a text/event-stream body is a
// *StatusError (it carries the server's Retry-After as RetryDelay).
// Reader.Next returns io.EOF at the end of the body and ErrLineTooLong for
// a line over its limit.
package sse
