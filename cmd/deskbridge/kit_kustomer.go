package main

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"github.com/deskbridge/deskbridge/kits/kustomer"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	kustomerface "github.com/deskbridge/deskbridge/mock-desk/faces/kustomer"
)

// What the kit uses against the demo's mock-desk Kustomer face when the
// environment names nothing.
const (
	mockKustomerAPIKey = "mock-kustomer-api-key"
	mockKustomerToken  = "mock-kustomer-webhook-token"
	mockKustomerBot    = "mock-bot-user"
)

// The Kustomer kit: the bridge as the customer on the chat server API,
// the hand-off importing the bot's transcript, the agent by the org's
// outbound webhook at --public-url. With a desk URL (a mock-desk with its
// Kustomer face) it talks to that instead.
func init() {
	registerKit(kitSpec{
		Name:  "kustomer",
		About: "Kustomer chat: the chat server API as the customer, the transcript imported at the hand-off, the outbound webhook to the public URL",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_KUSTOMER_ORG", Usage: "the org's name: the API is https://ORG.api.kustomerapp.com (this or DESKBRIDGE_KUSTOMER_BASE_URL)"},
			{Env: "DESKBRIDGE_KUSTOMER_BASE_URL", Usage: "the API's base URL instead, such as https://ORG.api.prod2.kustomerapp.com"},
			{Env: "DESKBRIDGE_KUSTOMER_API_KEY", Required: true, Secret: true, Usage: "an API key with the conversation, message, customer, user and attachment permissions"},
			{Env: "DESKBRIDGE_KUSTOMER_BOT_USER_ID", Required: true, Usage: "the Kustomer user the bot's turns of the imported transcript show as"},
			{Env: "DESKBRIDGE_KUSTOMER_WEBHOOK_TOKEN", Required: true, Secret: true, Usage: "the outbound webhook's token (its signatures' key); two, comma-separated, while rotating"},
		},
		Start: startKustomer,
		MockFace: func(d *mockdesk.Desk) http.Handler {
			return kustomerface.New(d, kustomerface.Options{APIKey: mockKustomerAPIKey, WebhookToken: mockKustomerToken})
		},
	})
}

func startKustomer(c kitConfig) (*kit, error) {
	s := c.Settings
	kc := kustomer.Config{
		Org:     s["DESKBRIDGE_KUSTOMER_ORG"],
		BaseURL: s["DESKBRIDGE_KUSTOMER_BASE_URL"],
		APIKey:  s["DESKBRIDGE_KUSTOMER_API_KEY"],
		From:    s["DESKBRIDGE_KUSTOMER_BOT_USER_ID"],
		// Two while rotating; a stray comma leaves no empty token.
		WebhookTokens: splitList(s["DESKBRIDGE_KUSTOMER_WEBHOOK_TOKEN"]),
		Logger:        c.Logger,
	}
	if c.DeskURL != "" {
		kc.BaseURL, kc.Org = c.DeskURL, ""
		kc.APIKey, kc.From = cmp.Or(kc.APIKey, mockKustomerAPIKey), cmp.Or(kc.From, mockKustomerBot)
		if len(kc.WebhookTokens) == 0 {
			kc.WebhookTokens = []string{mockKustomerToken}
		}
	}
	switch {
	case kc.Org == "" && kc.BaseURL == "":
		return nil, errors.New("set DESKBRIDGE_KUSTOMER_ORG (https://ORG.api.kustomerapp.com) or DESKBRIDGE_KUSTOMER_BASE_URL")
	case kc.Org != "" && !regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`).MatchString(kc.Org):
		return nil, fmt.Errorf("DESKBRIDGE_KUSTOMER_ORG=%q: want the org's name alone, such as acme for acme.api.kustomerapp.com", kc.Org)
	}
	if u, err := url.Parse(kc.BaseURL); kc.BaseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return nil, fmt.Errorf("DESKBRIDGE_KUSTOMER_BASE_URL=%q: want https://host", kc.BaseURL)
	}
	// The conversation's follower takes a (verified) delivery another
	// instance got.
	return startWebhookKit(c, func(elsewhere func([]byte) error) (*kustomer.Kit, error) {
		kc.Elsewhere = elsewhere
		return kustomer.New(kc)
	})
}
