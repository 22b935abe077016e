package main

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/deskbridge/deskbridge/kits/oracle"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	oracleface "github.com/deskbridge/deskbridge/mock-desk/faces/oracle"
)

// The chat API user the demo's mock-desk Oracle face and the kit agree on
// when the environment names none.
const (
	mockOracleUser     = "mock-chat-api"
	mockOraclePassword = "mock-password"
)

// The Oracle B2C Service kit, as a consumer of the Engagement Engine chat
// API: the chat API user's credentials from the environment only. With a
// desk URL (a mock-desk with its Oracle face) it talks to that instead.
func init() {
	registerKit(kitSpec{
		Name:  "oracle",
		About: "Oracle B2C Service chat, as a consumer of the Engagement Engine chat API",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_ORACLE_URL", Required: true, Usage: "the B2C Service site, such as https://mysite.custhelp.com (establishSessions is there)"},
			{Env: "DESKBRIDGE_ORACLE_USER", Required: true, Usage: "the chat API user's name"},
			{Env: "DESKBRIDGE_ORACLE_PASSWORD", Required: true, Secret: true, Usage: "the chat API user's password"},
			{Env: "DESKBRIDGE_ORACLE_CHAT_URL", Usage: "the chat session server, in place of the one establishSessions names"},
			{Env: "DESKBRIDGE_ORACLE_QUEUE_ID", Usage: "the queue that routes the chats and whose statistics tell availability (a number)"},
			{Env: "DESKBRIDGE_ORACLE_INTERFACE_ID", Usage: "the site's interface (a number)"},
		},
		Start: func(c kitConfig) (*kit, error) {
			s := c.Settings
			cfg := oracle.Config{
				URL:      s["DESKBRIDGE_ORACLE_URL"],
				User:     s["DESKBRIDGE_ORACLE_USER"],
				Password: s["DESKBRIDGE_ORACLE_PASSWORD"],
				ChatURL:  s["DESKBRIDGE_ORACLE_CHAT_URL"],
				Logger:   c.Logger,
			}
			if c.DeskURL != "" {
				cfg.URL, cfg.ChatURL = c.DeskURL, ""
				cfg.User, cfg.Password = cmp.Or(cfg.User, mockOracleUser), cmp.Or(cfg.Password, mockOraclePassword)
			}
			for env, v := range map[string]string{"DESKBRIDGE_ORACLE_URL": cfg.URL, "DESKBRIDGE_ORACLE_CHAT_URL": cfg.ChatURL} {
				if u, err := url.Parse(v); v != "" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
					return nil, fmt.Errorf("%s=%q: not an http(s) URL", env, v)
				}
			}
			for env, id := range map[string]*int64{"DESKBRIDGE_ORACLE_QUEUE_ID": &cfg.QueueID, "DESKBRIDGE_ORACLE_INTERFACE_ID": &cfg.InterfaceID} {
				if v := s[env]; v != "" {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil || n <= 0 {
						return nil, fmt.Errorf("%s=%q: not an id (a positive number)", env, v)
					}
					*id = n
				}
			}
			k, err := oracle.New(cfg)
			if err != nil {
				return nil, err
			}
			return &kit{factory: k.Factory, close: k.Close}, nil
		},
		MockFace: func(d *mockdesk.Desk) http.Handler {
			return oracleface.New(d, oracleface.Options{User: mockOracleUser, Password: mockOraclePassword})
		},
	})
}
