module github.com/deskbridge/deskbridge/cmd/deskbridge

go 1.25.0

replace (
	github.com/deskbridge/deskbridge/core => ../../core
	github.com/deskbridge/deskbridge/kits/amazonconnect => ../../kits/amazonconnect
	github.com/deskbridge/deskbridge/kits/egain => ../../kits/egain
	github.com/deskbridge/deskbridge/kits/genesys => ../../kits/genesys
	github.com/deskbridge/deskbridge/kits/polling => ../../kits/polling
	github.com/deskbridge/deskbridge/kits/rest => ../../kits/rest
	github.com/deskbridge/deskbridge/kits/websocket => ../../kits/websocket
	github.com/deskbridge/deskbridge/mock-desk => ../../mock-desk
)

require (
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/credentials v1.21.0
	github.com/chromedp/chromedp v0.23.0
	github.com/deskbridge/deskbridge/core v0.0.0
	github.com/deskbridge/deskbridge/kits/amazonconnect v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/egain v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/genesys v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/polling v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/rest v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/websocket v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/mock-desk v0.0.0-00010101000000-000000000000
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/gorilla/websocket v1.5.3
	github.com/prometheus/client_golang v1.23.2
	github.com/redis/go-redis/v9 v9.22.0
)

require (
	go.etcd.io/bbolt v1.5.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
)

require (
	github.com/aws/aws-sdk-go-v2/config v1.33.18 // indirect
	github.com/aws/aws-sdk-go-v2/feature/ec2/imds v1.20.9 // indirect
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/v4a v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/service/connect v1.175.2 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/accept-encoding v1.13.25 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/presigned-url v1.14.12 // indirect
	github.com/aws/aws-sdk-go-v2/service/signin v1.13.1 // indirect
	github.com/aws/aws-sdk-go-v2/service/sso v1.39.5 // indirect
	github.com/aws/aws-sdk-go-v2/service/ssooidc v1.44.5 // indirect
	github.com/aws/aws-sdk-go-v2/service/sts v1.52.0 // indirect
	github.com/aws/smithy-go v1.28.9 // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/deskbridge/deskbridge/kits/chatwoot v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/kustomer v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/livechat v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/nice v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/oracle v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/salesforce v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/twilio v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/kits/zendesk v0.0.0-00010101000000-000000000000
	github.com/deskbridge/deskbridge/stores/bolt v0.0.0
	github.com/deskbridge/deskbridge/stores/redis v0.0.0
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.2 // indirect
	github.com/prometheus/common v0.66.1 // indirect
	github.com/prometheus/procfs v0.16.1 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	golang.org/x/sys v0.45.0 // indirect
	google.golang.org/protobuf v1.36.8 // indirect
)

replace github.com/deskbridge/deskbridge/stores/bolt => ../../stores/bolt

replace github.com/deskbridge/deskbridge/stores/redis => ../../stores/redis

replace github.com/deskbridge/deskbridge/kits/salesforce => ../../kits/salesforce

replace github.com/deskbridge/deskbridge/kits/twilio => ../../kits/twilio

replace github.com/deskbridge/deskbridge/kits/zendesk => ../../kits/zendesk

replace github.com/deskbridge/deskbridge/kits/chatwoot => ../../kits/chatwoot

replace github.com/deskbridge/deskbridge/kits/livechat => ../../kits/livechat

replace github.com/deskbridge/deskbridge/kits/nice => ../../kits/nice

replace github.com/deskbridge/deskbridge/kits/oracle => ../../kits/oracle

replace github.com/deskbridge/deskbridge/kits/kustomer => ../../kits/kustomer
