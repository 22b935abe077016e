module github.com/deskbridge/deskbridge/mock-desk

go 1.25

require (
	github.com/deskbridge/deskbridge/core v0.0.0
	github.com/gorilla/websocket v1.5.3
)

require go.uber.org/goleak v1.3.0 // indirect

replace github.com/deskbridge/deskbridge/core => ../core
