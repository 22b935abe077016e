module github.com/deskbridge/deskbridge/core

go 1.25

require (
	github.com/gorilla/websocket v1.5.3
	github.com/hashicorp/go-retryablehttp v0.7.8
	github.com/jarcoal/httpmock v1.4.2
	go.uber.org/goleak v1.3.0
)

require github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
