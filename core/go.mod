module github.com/deskbridge/deskbridge/core

go 1.25

require (
	github.com/gorilla/websocket v1.5.3 // indirect
	go.uber.org/goleak v1.3.0 // indirect
)
