package main

import "github.com/deskbridge/deskbridge/kits/polling"

// The polling kit: the desk protocol's REST actions, events by long polling.
func init() {
	registerKit(kitSpec{
		Name:         "polling",
		Aliases:      []string{"poll"},
		About:        "the desk protocol's REST actions, events by long polling",
		NeedsDeskURL: true,
		Start: func(c kitConfig) (*kit, error) {
			k, err := polling.New(polling.Config{BaseURL: c.DeskURL, Logger: c.Logger})
			if err != nil {
				return nil, err
			}
			return &kit{factory: k.Factory, close: k.Close}, nil
		},
		order: -3,
	})
}
