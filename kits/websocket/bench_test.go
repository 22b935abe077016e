package websocket_test

import (
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/websocket"
	"github.com/deskbridge/deskbridge/mock-desk/loadtest"
)

// BenchmarkLoad: 1,000 concurrent chats, each sending 10 messages one at a
// time to an echoing agent through engine → kit → mock-desk and back,
// beside the raw gorilla/websocket echo baseline in the same run. Run it
// with -benchtime=1x (one op is a whole run):
//
//	go test -run '^$' -bench Load -benchtime=1x -count=6 .
func BenchmarkLoad(b *testing.B) {
	cfg := loadtest.Config{Chats: 1000, Messages: 10}
	b.Run("raw_echo", func(b *testing.B) {
		for range b.N {
			r, err := loadtest.RawEcho(cfg)
			if err != nil {
				b.Fatal(err)
			}
			r.Report(b)
		}
	})
	b.Run("kit", func(b *testing.B) {
		for range b.N {
			r, err := loadtest.Kit(cfg, func(url string) (servicedesk.Factory, func(), error) {
				kit, err := websocket.New(websocket.Config{BaseURL: url})
				if err != nil {
					return nil, nil, err
				}
				return kit.Factory, func() { _ = kit.Close() }, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			r.Report(b)
		}
	})
}
