package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/kits/nice"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	niceface "github.com/deskbridge/deskbridge/mock-desk/faces/nice"
)

// The demo's mock-desk CXone face and the kit agree on these when the
// environment names none: the face takes any brand and channel.
const (
	mockNiceBrand   = "1086"
	mockNiceChannel = "chat_mock"
)

// The NICE CXone kit, as a digital chat customer of the chat gateway:
// guests, or OAuth-authorized customers whose authorization codes the
// brand's own service issues (its token from the environment only). With
// a desk URL (a mock-desk with its CXone face) it talks to that instead.
func init() {
	registerKit(kitSpec{
		Name:  "nice",
		About: "NICE CXone Digital chat, as a customer of the chat gateway the chat web SDK speaks",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_NICE_BRAND_ID", Required: true, Usage: "the CXone brand's id (a number)"},
			{Env: "DESKBRIDGE_NICE_CHANNEL_ID", Required: true, Usage: "the brand's digital chat channel id (chat_…)"},
			{Env: "DESKBRIDGE_NICE_ENVIRONMENT", Usage: "the CXone environment (EU1, NA1, AU1, UK1, …) whose gateway and chat API the kit uses"},
			{Env: "DESKBRIDGE_NICE_GATEWAY_URL", Usage: "the chat gateway's wss URL, in place of the environment's"},
			{Env: "DESKBRIDGE_NICE_CHAT_URL", Usage: "the chat API's https URL, in place of the environment's"},
			{Env: "DESKBRIDGE_NICE_AUTH_CODE_URL", Usage: "the brand's service that issues OAuth authorization codes for customers (POST {\"customerId\"} → {\"authorizationCode\"}); unset: guests"},
			{Env: "DESKBRIDGE_NICE_AUTH_CODE_TOKEN", Secret: true, Usage: "the bearer token of that service"},
		},
		Start: func(c kitConfig) (*kit, error) {
			s := c.Settings
			cfg := nice.Config{
				ChannelID:   s["DESKBRIDGE_NICE_CHANNEL_ID"],
				Environment: s["DESKBRIDGE_NICE_ENVIRONMENT"],
				GatewayURL:  s["DESKBRIDGE_NICE_GATEWAY_URL"],
				ChatURL:     s["DESKBRIDGE_NICE_CHAT_URL"],
				Logger:      c.Logger,
			}
			brand := s["DESKBRIDGE_NICE_BRAND_ID"]
			if c.DeskURL != "" {
				u, err := url.Parse(c.DeskURL)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
					return nil, fmt.Errorf("desk URL %q: not an http(s) URL", c.DeskURL)
				}
				ws := *u
				ws.Scheme = map[string]string{"https": "wss", "http": "ws"}[u.Scheme]
				cfg.GatewayURL, cfg.ChatURL = ws.String(), c.DeskURL
				brand, cfg.ChannelID = cmp.Or(brand, mockNiceBrand), cmp.Or(cfg.ChannelID, mockNiceChannel)
			}
			n, err := strconv.Atoi(brand)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("DESKBRIDGE_NICE_BRAND_ID=%q: not a brand id (a positive number)", brand)
			}
			cfg.BrandID = n
			if _, _, ok := nice.Endpoints(cfg.Environment); cfg.Environment != "" && !ok {
				return nil, fmt.Errorf("DESKBRIDGE_NICE_ENVIRONMENT=%q: not a CXone environment (EU1, NA1, AU1, UK1, …)", cfg.Environment)
			}
			if cfg.Environment == "" && (cfg.GatewayURL == "" || cfg.ChatURL == "") {
				return nil, errors.New("set DESKBRIDGE_NICE_ENVIRONMENT, or both DESKBRIDGE_NICE_GATEWAY_URL and DESKBRIDGE_NICE_CHAT_URL")
			}
			for env, schemes := range map[string][2]string{"DESKBRIDGE_NICE_GATEWAY_URL": {"wss", "ws"}, "DESKBRIDGE_NICE_CHAT_URL": {"https", "http"}, "DESKBRIDGE_NICE_AUTH_CODE_URL": {"https", "http"}} {
				if v := s[env]; v != "" {
					if u, err := url.Parse(v); err != nil || (u.Scheme != schemes[0] && u.Scheme != schemes[1]) || u.Host == "" {
						return nil, fmt.Errorf("%s=%q: not a %s URL", env, v, strings.Join(schemes[:], " or "))
					}
				}
			}
			if v := s["DESKBRIDGE_NICE_AUTH_CODE_URL"]; v != "" {
				cfg.AuthorizationCode = authCodeSource(v, s["DESKBRIDGE_NICE_AUTH_CODE_TOKEN"])
			}
			k, err := nice.New(cfg)
			if err != nil {
				return nil, err
			}
			return &kit{factory: k.Factory, close: k.Close}, nil
		},
		MockFace: func(d *mockdesk.Desk) http.Handler { return niceface.New(d, niceface.Options{}) },
		order:    -1,
	})
}

// authCodeSource asks the brand's service at u for an OAuth authorization
// code for a customer (deskbridge's convention, not CXone's: CXone takes
// the code from the brand's identity provider however the brand gets it).
func authCodeSource(u, token string) func(ctx context.Context, customerID string) (string, error) {
	c := httpjson.Client{Name: "nice", HTTP: &http.Client{Timeout: 15 * time.Second}}
	return func(ctx context.Context, customerID string) (string, error) {
		var out struct {
			Code string `json:"authorizationCode"`
		}
		if err := c.Do(ctx, "authorization code", http.MethodPost, u, token, map[string]string{"customerId": customerID}, &out); err != nil {
			return "", err
		}
		if out.Code == "" {
			return "", errors.New("nice: authorization code: an answer without authorizationCode")
		}
		return out.Code, nil
	}
}
