// Command mock-desk runs the simulated service desk on loopback: the
// customer protocol (REST + webhooks, WebSocket, long polling), the control
// API and the agent console.
//
//	go run ./mock-desk/cmd/mock-desk -port 8089 -agents Ada,Grace
//	go run ./mock-desk/cmd/mock-desk -scenario mock-desk/cmd/mock-desk/testdata/demo.json
//	MOCKDESK_WEBHOOK_SECRET=… go run ./mock-desk/cmd/mock-desk -webhook-url http://127.0.0.1:9000/hook
package main
