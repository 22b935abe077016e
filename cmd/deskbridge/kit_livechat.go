package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/deskbridge/deskbridge/kits/livechat"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	livechatface "github.com/deskbridge/deskbridge/mock-desk/faces/livechat"
)

// The demo's mock-desk LiveChat face and the kit agree on these when the
// environment names none: the face takes any organization, app and
// agent token.
const (
	mockLiveChatOrg    = "mock-organization"
	mockLiveChatClient = "mock-client"
	mockLiveChatToken  = "mock-agent-token"
)

// The LiveChat kit, as a customer of the Customer Chat API: the agent
// access token that issues customer tokens comes from the environment
// only. With a desk URL (a mock-desk with its LiveChat face) it talks to
// that instead.
func init() {
	registerKit(kitSpec{
		Name:  "livechat",
		About: "LiveChat (Text), as a customer of the Customer Chat API v3.6 over RTM",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_LIVECHAT_ORGANIZATION_ID", Required: true, Usage: "the LiveChat organization's id"},
			{Env: "DESKBRIDGE_LIVECHAT_CLIENT_ID", Required: true, Usage: "the client id of the LiveChat app that issues customer tokens"},
			{Env: "DESKBRIDGE_LIVECHAT_AGENT_TOKEN", Required: true, Secret: true, Usage: "an agent access token with the customers:own scope: the agent token grant makes a customer identity per chat"},
			{Env: "DESKBRIDGE_LIVECHAT_GROUP_ID", Default: "0", Usage: "the group chats go to, and whose status answers availability"},
			{Env: "DESKBRIDGE_LIVECHAT_API_URL", Usage: "the Customer Chat API's base URL; default https://api.livechatinc.com"},
			{Env: "DESKBRIDGE_LIVECHAT_ACCOUNTS_URL", Usage: "the accounts service's base URL; default https://accounts.livechat.com"},
		},
		Start: func(c kitConfig) (*kit, error) {
			s := c.Settings
			lc := livechat.Config{
				OrganizationID: s["DESKBRIDGE_LIVECHAT_ORGANIZATION_ID"],
				ClientID:       s["DESKBRIDGE_LIVECHAT_CLIENT_ID"],
				APIURL:         s["DESKBRIDGE_LIVECHAT_API_URL"],
				AccountsURL:    s["DESKBRIDGE_LIVECHAT_ACCOUNTS_URL"],
				Logger:         c.Logger,
			}
			agent := s["DESKBRIDGE_LIVECHAT_AGENT_TOKEN"]
			if c.DeskURL != "" {
				lc.APIURL, lc.AccountsURL = c.DeskURL, c.DeskURL
				lc.OrganizationID = cmp.Or(lc.OrganizationID, mockLiveChatOrg)
				lc.ClientID = cmp.Or(lc.ClientID, mockLiveChatClient)
				agent = cmp.Or(agent, mockLiveChatToken)
			}
			lc.AgentToken = func(context.Context) (string, error) { return agent, nil }
			if v := s["DESKBRIDGE_LIVECHAT_GROUP_ID"]; v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("DESKBRIDGE_LIVECHAT_GROUP_ID=%q: not a group id (a number)", v)
				}
				lc.GroupID = n
			}
			for env, v := range map[string]string{"DESKBRIDGE_LIVECHAT_API_URL": lc.APIURL, "DESKBRIDGE_LIVECHAT_ACCOUNTS_URL": lc.AccountsURL} {
				if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
					return nil, fmt.Errorf("%s=%q: not an http(s) URL", env, v)
				}
			}
			k, err := livechat.New(lc)
			if err != nil {
				return nil, err
			}
			return &kit{factory: k.Factory, close: k.Close}, nil
		},
		MockFace: func(d *mockdesk.Desk) http.Handler { return livechatface.New(d, livechatface.Options{}) },
		order:    -1,
	})
}
