package main

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/deskbridge/deskbridge/kits/twilio"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	twilioface "github.com/deskbridge/deskbridge/mock-desk/faces/twilio"
)

// mockTwilioToken is the auth token of mock-desk's Twilio face, which the
// kit uses against a desk URL when no token is set.
const mockTwilioToken = "mock-auth-token"

// twilioSID checks a Twilio SID setting: its prefix and 32 hex digits.
func twilioSID(env, prefix, v string) error {
	if v == "" || regexp.MustCompile(`^`+prefix+`[0-9a-fA-F]{32}$`).MatchString(v) {
		return nil
	}
	return fmt.Errorf("%s=%q: want %s followed by 32 hex digits", env, v, prefix)
}

// The Twilio Flex kit: the customer's identity on a Conversation, the
// hand-off by Flex's Interactions API, the agent by webhooks to
// DESKBRIDGE_TWILIO_PUBLIC_URL (default --public-url). With a desk URL (a
// mock-desk with its Twilio face) it talks to that instead.
func init() {
	registerKit(kitSpec{
		Name:  "twilio",
		About: "Twilio Flex over Conversations: REST as the customer's identity, webhooks to the public URL",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_TWILIO_ACCOUNT_SID", Required: true, Usage: "the account's SID (AC…)"},
			{Env: "DESKBRIDGE_TWILIO_AUTH_TOKEN", Secret: true, Required: true, Usage: "the account's auth token: Twilio signs its webhooks with it"},
			{Env: "DESKBRIDGE_TWILIO_API_KEY_SID", Usage: "an API key (SK…) for the REST calls instead of the auth token"},
			{Env: "DESKBRIDGE_TWILIO_API_KEY_SECRET", Secret: true, Usage: "the API key's secret"},
			{Env: "DESKBRIDGE_TWILIO_WORKSPACE_SID", Required: true, Usage: "Flex's TaskRouter workspace (WS…)"},
			{Env: "DESKBRIDGE_TWILIO_WORKFLOW_SID", Usage: "the TaskRouter workflow (WW…), when the workspace has several"},
			{Env: "DESKBRIDGE_TWILIO_TASK_CHANNEL", Default: "chat", Usage: "the task channel's unique name"},
			{Env: "DESKBRIDGE_TWILIO_PUBLIC_URL", Usage: "this server's URL as Twilio reaches it, for the conversations' webhooks (default: --public-url)"},
		},
		Start: startTwilio,
		MockFace: func(d *mockdesk.Desk) http.Handler {
			return twilioface.New(d, twilioface.Options{AuthToken: mockTwilioToken})
		},
	})
}

func startTwilio(c kitConfig) (*kit, error) {
	s := c.Settings
	public := cmp.Or(s["DESKBRIDGE_TWILIO_PUBLIC_URL"], c.PublicURL)
	if u, err := url.Parse(public); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("DESKBRIDGE_TWILIO_PUBLIC_URL=%q: want http://host or https://host", public)
	}
	tc := twilio.Config{
		AccountSID:   s["DESKBRIDGE_TWILIO_ACCOUNT_SID"],
		AuthToken:    s["DESKBRIDGE_TWILIO_AUTH_TOKEN"],
		APIKeySID:    s["DESKBRIDGE_TWILIO_API_KEY_SID"],
		APIKeySecret: s["DESKBRIDGE_TWILIO_API_KEY_SECRET"],
		WorkspaceSID: s["DESKBRIDGE_TWILIO_WORKSPACE_SID"],
		WorkflowSID:  s["DESKBRIDGE_TWILIO_WORKFLOW_SID"],
		TaskChannel:  s["DESKBRIDGE_TWILIO_TASK_CHANNEL"],
		WebhookURL:   strings.TrimSuffix(public, "/") + webhookPath,
		Logger:       c.Logger,
	}
	if c.DeskURL != "" {
		tc.ConversationsURL, tc.FlexURL, tc.MediaURL = c.DeskURL, c.DeskURL, c.DeskURL
		tc.AccountSID = cmp.Or(tc.AccountSID, "AC00000000000000000000000000000000")
		tc.AuthToken = cmp.Or(tc.AuthToken, mockTwilioToken)
		tc.WorkspaceSID = cmp.Or(tc.WorkspaceSID, "WS00000000000000000000000000000000")
	}
	if err := errors.Join(twilioSID("DESKBRIDGE_TWILIO_ACCOUNT_SID", "AC", tc.AccountSID), twilioSID("DESKBRIDGE_TWILIO_WORKSPACE_SID", "WS", tc.WorkspaceSID),
		twilioSID("DESKBRIDGE_TWILIO_WORKFLOW_SID", "WW", tc.WorkflowSID), twilioSID("DESKBRIDGE_TWILIO_API_KEY_SID", "SK", tc.APIKeySID)); err != nil {
		return nil, err
	}
	// The conversation's follower takes a (verified) delivery another
	// instance got.
	return startWebhookKit(c, func(elsewhere func([]byte) error) (*twilio.Kit, error) {
		tc.Elsewhere = elsewhere
		return twilio.New(tc)
	})
}
