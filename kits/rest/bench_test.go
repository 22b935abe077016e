package rest_test

import (
	"net/http/httptest"
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/rest"
	"github.com/deskbridge/deskbridge/mock-desk/loadtest"
)

// BenchmarkLoad: 1,000 concurrent chats exchanging messages with an
// echoing agent through engine → kit → mock-desk → webhook and back,
// beside a raw gorilla/websocket echo and the desk alone, in the same run
// (see loadtest.Bench). One op is a whole run:
//
//	go test -run '^$' -bench Load -benchtime=1x -count=6 .
func BenchmarkLoad(b *testing.B) {
	cfg := loadtest.Config{Chats: 1000, Messages: 10, WebhookSecret: []byte(secret)}
	loadtest.Bench(b, cfg, func(url string) (servicedesk.Factory, func(), error) {
		bridge := httptest.NewUnstartedServer(nil)
		kit, err := rest.New(rest.Config{BaseURL: url, WebhookURL: "http://" + bridge.Listener.Addr().String() + "/hook", WebhookSecrets: []string{secret}})
		if err != nil {
			return nil, nil, err
		}
		bridge.Config.Handler = kit.WebhookHandler()
		bridge.Start()
		return kit.Factory, func() { _ = kit.Close(); bridge.CloseClientConnections(); bridge.Close() }, nil
	})
}
