module github.com/deskbridge/deskbridge/kits/zendesk

go 1.25

replace (
	github.com/deskbridge/deskbridge/core => ../../core
	github.com/deskbridge/deskbridge/mock-desk => ../../mock-desk
)

require (
	github.com/deskbridge/deskbridge/core v0.0.0
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/jarcoal/httpmock v1.4.2
	github.com/stretchr/testify v1.11.1
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
