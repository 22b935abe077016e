package main

import "github.com/deskbridge/deskbridge/kits/websocket"

// The websocket kit: the desk protocol over one WebSocket per chat.
func init() {
	registerKit(kitSpec{
		Name:         "websocket",
		Aliases:      []string{"ws"},
		About:        "the desk protocol over one WebSocket per chat",
		NeedsDeskURL: true,
		Start: func(c kitConfig) (*kit, error) {
			k, err := websocket.New(websocket.Config{BaseURL: c.DeskURL, Logger: c.Logger})
			if err != nil {
				return nil, err
			}
			return &kit{factory: k.Factory, close: k.Close}, nil
		},
		order: -5,
	})
}
