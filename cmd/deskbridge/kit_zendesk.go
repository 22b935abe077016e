package main

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/deskbridge/deskbridge/kits/zendesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	zendeskface "github.com/deskbridge/deskbridge/mock-desk/faces/zendesk"
)

// mockZendesk is the app and key of mock-desk's Zendesk face, which the
// kit uses against a desk URL when none is set.
var mockZendesk = zendeskface.Options{AppID: "5ebee0975ac5304b664a12fa", KeyID: "app_mock", KeySecret: "mock-key-secret", WebhookSecret: "mock-webhook-secret"}

// The Zendesk messaging kit: Sunshine Conversations v2 as a custom
// integration, the hand-off by switchboard passControl to the Agent
// Workspace, the agent by the integration's webhook at --public-url. With
// a desk URL (a mock-desk with its Zendesk face) it talks to that instead.
func init() {
	registerKit(kitSpec{
		Name:  "zendesk",
		About: "Zendesk messaging (Sunshine Conversations v2): REST as the customer, switchboard hand-off, webhooks to the public URL",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_ZENDESK_SUBDOMAIN", Usage: "the Zendesk subdomain: the API is https://SUBDOMAIN.zendesk.com/sc (this or DESKBRIDGE_ZENDESK_BASE_URL)"},
			{Env: "DESKBRIDGE_ZENDESK_BASE_URL", Usage: "the API's base URL instead, such as https://api.smooch.io or https://api.eu-1.smooch.io"},
			{Env: "DESKBRIDGE_ZENDESK_APP_ID", Required: true, Usage: "the Sunshine Conversations app's id"},
			{Env: "DESKBRIDGE_ZENDESK_KEY_ID", Required: true, Usage: "the API key's id (app_… or int_…)"},
			{Env: "DESKBRIDGE_ZENDESK_KEY_SECRET", Secret: true, Required: true, Usage: "the API key's secret"},
			{Env: "DESKBRIDGE_ZENDESK_JWT", Default: "false", Usage: "true: sign a JWT with the key (scope app) instead of Basic authentication"},
			{Env: "DESKBRIDGE_ZENDESK_WEBHOOK_SECRET", Secret: true, Required: true, Usage: "the custom integration's webhook secret (X-API-Key); two, comma-separated, while rotating"},
			{Env: "DESKBRIDGE_ZENDESK_HANDOFF_TO", Default: zendesk.AgentWorkspace, Usage: "the switchboard integration the chat is passed to: its id, name or type"},
			{Env: "DESKBRIDGE_ZENDESK_INTEGRATION", Default: "next", Usage: "the kit's own switchboard integration, given control back when the customer ends the chat"},
			{Env: "DESKBRIDGE_ZENDESK_SUMMARY_FIELD", Usage: "a custom ticket field's id that receives the bot's summary"},
			{Env: "DESKBRIDGE_ZENDESK_INTEGRATION_ID", Usage: "the custom integration's id: with DESKBRIDGE_ZENDESK_WEBHOOK_ID, its webhook is pointed at --public-url"},
			{Env: "DESKBRIDGE_ZENDESK_WEBHOOK_ID", Usage: "the custom integration's webhook id"},
		},
		Start: startZendesk,
		MockFace: func(d *mockdesk.Desk) http.Handler {
			return zendeskface.New(d, mockZendesk)
		},
	})
}

func startZendesk(c kitConfig) (*kit, error) {
	s := c.Settings
	zc := zendesk.Config{
		Subdomain:     s["DESKBRIDGE_ZENDESK_SUBDOMAIN"],
		BaseURL:       s["DESKBRIDGE_ZENDESK_BASE_URL"],
		AppID:         s["DESKBRIDGE_ZENDESK_APP_ID"],
		KeyID:         s["DESKBRIDGE_ZENDESK_KEY_ID"],
		KeySecret:     s["DESKBRIDGE_ZENDESK_KEY_SECRET"],
		HandoffTo:     s["DESKBRIDGE_ZENDESK_HANDOFF_TO"],
		Integration:   s["DESKBRIDGE_ZENDESK_INTEGRATION"],
		SummaryField:  s["DESKBRIDGE_ZENDESK_SUMMARY_FIELD"],
		IntegrationID: s["DESKBRIDGE_ZENDESK_INTEGRATION_ID"],
		WebhookID:     s["DESKBRIDGE_ZENDESK_WEBHOOK_ID"],
		WebhookURL:    strings.TrimSuffix(c.PublicURL, "/") + webhookPath,
		Logger:        c.Logger,
	}
	zc.WebhookSecrets = splitList(s["DESKBRIDGE_ZENDESK_WEBHOOK_SECRET"])
	var errs []error
	jwt, err := strconv.ParseBool(s["DESKBRIDGE_ZENDESK_JWT"])
	if err != nil {
		errs = append(errs, fmt.Errorf("DESKBRIDGE_ZENDESK_JWT=%q: want true or false", s["DESKBRIDGE_ZENDESK_JWT"]))
	}
	zc.JWT = jwt
	if c.DeskURL != "" {
		// A mock-desk with its Zendesk face: its app, key and webhook.
		zc.BaseURL, zc.Subdomain = c.DeskURL, ""
		zc.AppID = cmp.Or(zc.AppID, mockZendesk.AppID)
		zc.KeyID = cmp.Or(zc.KeyID, mockZendesk.KeyID)
		zc.KeySecret = cmp.Or(zc.KeySecret, mockZendesk.KeySecret)
		if len(zc.WebhookSecrets) == 0 {
			zc.WebhookSecrets = []string{mockZendesk.WebhookSecret}
		}
		zc.IntegrationID = cmp.Or(zc.IntegrationID, zendeskface.IntegrationID)
		zc.WebhookID = cmp.Or(zc.WebhookID, zendeskface.WebhookID)
		if zc.Integration == "next" {
			zc.Integration = "deskbridge"
		}
	}
	switch {
	case zc.Subdomain == "" && zc.BaseURL == "":
		errs = append(errs, errors.New("set DESKBRIDGE_ZENDESK_SUBDOMAIN (https://SUBDOMAIN.zendesk.com/sc) or DESKBRIDGE_ZENDESK_BASE_URL"))
	case zc.Subdomain != "" && !regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`).MatchString(zc.Subdomain):
		errs = append(errs, fmt.Errorf("DESKBRIDGE_ZENDESK_SUBDOMAIN=%q: want the subdomain alone, such as acme for acme.zendesk.com", zc.Subdomain))
	}
	if u, err := url.Parse(zc.BaseURL); zc.BaseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Errorf("DESKBRIDGE_ZENDESK_BASE_URL=%q: want https://host", zc.BaseURL))
	}
	if zc.HandoffTo == "next" {
		errs = append(errs, errors.New(`DESKBRIDGE_ZENDESK_HANDOFF_TO="next": name the integration (its id, name or type), so the kit knows it when control comes back`))
	}
	if f := zc.SummaryField; f != "" && !regexp.MustCompile(`^[0-9]+$`).MatchString(f) {
		errs = append(errs, fmt.Errorf("DESKBRIDGE_ZENDESK_SUMMARY_FIELD=%q: want a ticket field's numeric id", f))
	}
	if (zc.IntegrationID == "") != (zc.WebhookID == "") {
		errs = append(errs, errors.New("DESKBRIDGE_ZENDESK_INTEGRATION_ID and DESKBRIDGE_ZENDESK_WEBHOOK_ID go together"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// The conversation's follower takes a (verified) delivery another
	// instance got.
	return startWebhookKit(c, func(elsewhere func([]byte) error) (*zendesk.Kit, error) {
		zc.Elsewhere = elsewhere
		return zendesk.New(zc)
	})
}
