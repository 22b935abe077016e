module github.com/deskbridge/deskbridge/kits/genesys

go 1.25

replace (
	github.com/deskbridge/deskbridge/core => ../../core
	github.com/deskbridge/deskbridge/mock-desk => ../../mock-desk
)

require (
	github.com/deskbridge/deskbridge/core v0.0.0
	github.com/deskbridge/deskbridge/mock-desk v0.0.0-00010101000000-000000000000
	github.com/gorilla/websocket v1.5.3
	github.com/jarcoal/httpmock v1.4.2
)

require go.uber.org/goleak v1.3.0 // indirect
