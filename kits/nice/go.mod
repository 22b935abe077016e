module github.com/deskbridge/deskbridge/kits/nice

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
	github.com/stretchr/testify v1.11.1
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
