package main

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/deskbridge/deskbridge/kits/chatwoot"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	chatwootface "github.com/deskbridge/deskbridge/mock-desk/faces/chatwoot"
)

// mockChatwootInbox is the inbox the demo's mock-desk Chatwoot face and
// the kit agree on when DESKBRIDGE_CHATWOOT_INBOX names none.
const mockChatwootInbox = "mock_inbox"

// The Chatwoot kit, as an API inbox's client: the inbox's HMAC token and
// the agent bot's access token come from the environment only. With a
// desk URL (a mock-desk with its Chatwoot face) it talks to that instead.
func init() {
	registerKit(kitSpec{
		Name:  "chatwoot",
		About: "Chatwoot, through an API channel inbox's public client API and its ActionCable",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_CHATWOOT_URL", Required: true, Usage: "the Chatwoot installation, such as https://chat.example.com"},
			{Env: "DESKBRIDGE_CHATWOOT_INBOX", Required: true, Usage: "the API inbox's identifier (its Configuration tab)"},
			{Env: "DESKBRIDGE_CHATWOOT_HMAC_TOKEN", Secret: true, Usage: "the inbox's identity validation token: verified customers' contacts carry identifier_hash"},
			{Env: "DESKBRIDGE_CHATWOOT_BOT_TOKEN", Secret: true, Usage: "the access token of the agent bot connected to the inbox: it opens each pending conversation at the hand-off"},
			{Env: "DESKBRIDGE_CHATWOOT_ACCOUNT_ID", Usage: "the account's id (the number in /app/accounts/{id}); required with the bot token"},
			{Env: "DESKBRIDGE_CHATWOOT_CABLE_URL", Usage: "the ActionCable URL; default the installation's /cable"},
			{Env: "DESKBRIDGE_CHATWOOT_ORIGIN", Usage: "the Origin the cable's handshake sends; default the installation's"},
			{Env: "DESKBRIDGE_CHATWOOT_MIN_INTERVAL", Usage: "the least time between two requests of all chats (a Go duration); default 25ms"},
		},
		Start: func(c kitConfig) (*kit, error) {
			s := c.Settings
			cc := chatwoot.Config{
				URL:             s["DESKBRIDGE_CHATWOOT_URL"],
				InboxIdentifier: s["DESKBRIDGE_CHATWOOT_INBOX"],
				HMACToken:       s["DESKBRIDGE_CHATWOOT_HMAC_TOKEN"],
				BotToken:        s["DESKBRIDGE_CHATWOOT_BOT_TOKEN"],
				AccountID:       s["DESKBRIDGE_CHATWOOT_ACCOUNT_ID"],
				CableURL:        s["DESKBRIDGE_CHATWOOT_CABLE_URL"],
				Origin:          s["DESKBRIDGE_CHATWOOT_ORIGIN"],
				Logger:          c.Logger,
			}
			if c.DeskURL != "" {
				cc.URL = c.DeskURL
				cc.InboxIdentifier = cmp.Or(cc.InboxIdentifier, mockChatwootInbox)
			}
			if u, err := url.Parse(cc.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("DESKBRIDGE_CHATWOOT_URL=%q: not an http(s) URL", cc.URL)
			}
			if u, err := url.Parse(cc.CableURL); cc.CableURL != "" && (err != nil || (u.Scheme != "wss" && u.Scheme != "ws") || u.Host == "") {
				return nil, fmt.Errorf("DESKBRIDGE_CHATWOOT_CABLE_URL=%q: not a ws(s) URL", cc.CableURL)
			}
			if (cc.BotToken == "") != (cc.AccountID == "") {
				return nil, fmt.Errorf("DESKBRIDGE_CHATWOOT_BOT_TOKEN and DESKBRIDGE_CHATWOOT_ACCOUNT_ID go together")
			}
			if id := cc.AccountID; id != "" {
				if n, err := strconv.Atoi(id); err != nil || n <= 0 {
					return nil, fmt.Errorf("DESKBRIDGE_CHATWOOT_ACCOUNT_ID=%q: not an account id (a number)", id)
				}
			}
			if v := s["DESKBRIDGE_CHATWOOT_MIN_INTERVAL"]; v != "" {
				d, err := time.ParseDuration(v)
				if err != nil || d <= 0 {
					return nil, fmt.Errorf("DESKBRIDGE_CHATWOOT_MIN_INTERVAL=%q: not a positive duration", v)
				}
				cc.MinInterval = d
			}
			k, err := chatwoot.New(cc)
			if err != nil {
				return nil, err
			}
			return &kit{factory: k.Factory, close: k.Close}, nil
		},
		MockFace: func(d *mockdesk.Desk) http.Handler {
			return chatwootface.New(d, chatwootface.Options{InboxIdentifier: mockChatwootInbox})
		},
	})
}
