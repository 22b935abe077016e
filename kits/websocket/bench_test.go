package websocket_test

import (
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/websocket"
	"github.com/deskbridge/deskbridge/mock-desk/loadtest"
)

// BenchmarkLoad: 1,000 concurrent chats exchanging messages with an
// echoing agent through engine → kit → mock-desk and back, beside a raw
// gorilla/websocket echo and the desk alone, in the same run (see
// loadtest.Bench). One op is a whole run:
//
//	go test -run '^$' -bench Load -benchtime=1x -count=6 .
func BenchmarkLoad(b *testing.B) {
	loadtest.Bench(b, loadtest.Config{Chats: 1000, Messages: 10}, func(url string) (servicedesk.Factory, func(), error) {
		kit, err := websocket.New(websocket.Config{BaseURL: url})
		if err != nil {
			return nil, nil, err
		}
		return kit.Factory, func() { _ = kit.Close() }, nil
	})
}
