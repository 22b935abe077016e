// Package facekit is what every vendor face of mock-desk needs once, on
// mock-desk's customer-side API: a WebSocket to the face's customer that
// pushes a chat's events with the desk's faults (Socket), a directory of
// the agents a vendor shows customers only part of (Directory), a
// conversation's ordered webhook deliveries with the desk's webhook
// faults for vendors that retry them (Outbox), and ids.
package facekit
