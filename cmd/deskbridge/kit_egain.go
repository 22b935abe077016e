package main

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"

	"github.com/deskbridge/deskbridge/kits/egain"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	egainface "github.com/deskbridge/deskbridge/mock-desk/faces/egain"
)

// The ids the demo's mock-desk eGain face and the kit agree on when no
// DESKBRIDGE_EGAIN_* names real ones.
const (
	mockEGainEntryPoint = "1000"
	mockEGainCustomerID = "mock-customer-id"
)

// The eGain chat kit, on the relay IBM's starter kit drives: the tenant's
// customer id (a secret) from the environment only. With a desk URL (a
// mock-desk with its eGain face) it talks to that instead.
func init() {
	registerKit(kitSpec{
		Name:  "egain",
		About: "eGain chat (Advisor Desktop), through the Conversation Hub relay IBM's starter kit drives",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_EGAIN_URL", Required: true, Usage: "the relay's base URL (initialize at URL/initialize, the WebSocket at URL/ws)"},
			{Env: "DESKBRIDGE_EGAIN_ENTRY_POINT_ID", Required: true, Usage: "the chat entry point that routes the chats, such as 1001"},
			{Env: "DESKBRIDGE_EGAIN_CUSTOMER_ID", Required: true, Secret: true, Usage: "the tenant's customer id from the relay's registration"},
			{Env: "DESKBRIDGE_EGAIN_CHAT_URL", Usage: "the eGain chat server that answers the entry point's agent availability; default the relay's URL"},
			{Env: "DESKBRIDGE_EGAIN_INITIALIZE_URL", Usage: "initialize's URL, when it is not DESKBRIDGE_EGAIN_URL/initialize"},
			{Env: "DESKBRIDGE_EGAIN_WEBSOCKET_URL", Usage: "the WebSocket's URL, when it is not DESKBRIDGE_EGAIN_URL/ws"},
		},
		Start: func(c kitConfig) (*kit, error) {
			s := c.Settings
			ec := egain.Config{
				URL:           s["DESKBRIDGE_EGAIN_URL"],
				EntryPointID:  s["DESKBRIDGE_EGAIN_ENTRY_POINT_ID"],
				CustomerID:    s["DESKBRIDGE_EGAIN_CUSTOMER_ID"],
				ChatURL:       s["DESKBRIDGE_EGAIN_CHAT_URL"],
				InitializeURL: s["DESKBRIDGE_EGAIN_INITIALIZE_URL"],
				WebSocketURL:  s["DESKBRIDGE_EGAIN_WEBSOCKET_URL"],
				Logger:        c.Logger,
			}
			if c.DeskURL != "" {
				ec.URL, ec.ChatURL, ec.InitializeURL, ec.WebSocketURL = c.DeskURL, "", "", ""
				ec.EntryPointID = cmp.Or(ec.EntryPointID, mockEGainEntryPoint)
				ec.CustomerID = cmp.Or(ec.CustomerID, mockEGainCustomerID)
			}
			// The relay's URL is required; the others, when set, override
			// what the kit makes from it.
			for _, u := range []struct{ env, value, a, b, kind string }{
				{"DESKBRIDGE_EGAIN_URL", ec.URL, "http", "https", "an http(s)"},
				{"DESKBRIDGE_EGAIN_CHAT_URL", ec.ChatURL, "http", "https", "an http(s)"},
				{"DESKBRIDGE_EGAIN_INITIALIZE_URL", ec.InitializeURL, "http", "https", "an http(s)"},
				{"DESKBRIDGE_EGAIN_WEBSOCKET_URL", ec.WebSocketURL, "ws", "wss", "a ws(s)"},
			} {
				if u.value == "" && u.env != "DESKBRIDGE_EGAIN_URL" {
					continue
				}
				if p, err := url.Parse(u.value); err != nil || (p.Scheme != u.a && p.Scheme != u.b) || p.Host == "" {
					return nil, fmt.Errorf("%s=%q: not %s URL", u.env, u.value, u.kind)
				}
			}
			k, err := egain.New(ec)
			if err != nil {
				return nil, err
			}
			return &kit{factory: k.Factory, close: k.Close}, nil
		},
		MockFace: func(d *mockdesk.Desk) http.Handler {
			return egainface.New(d, egainface.Options{EntryPointID: mockEGainEntryPoint, CustomerID: mockEGainCustomerID})
		},
	})
}
