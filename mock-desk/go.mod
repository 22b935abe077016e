module github.com/deskbridge/deskbridge/mock-desk

go 1.25

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/deskbridge/deskbridge/core v0.0.0
	github.com/gorilla/websocket v1.5.3
	go.uber.org/goleak v1.3.0
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/stretchr/testify v1.11.1 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace github.com/deskbridge/deskbridge/core => ../core
