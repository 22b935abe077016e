package main

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"

	"github.com/deskbridge/deskbridge/kits/genesys"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	genesysface "github.com/deskbridge/deskbridge/mock-desk/faces/genesys"
)

// The Genesys Cloud Web Messaging kit, as a guest: no credentials, the
// deployment decides who may connect. With a desk URL (a mock-desk with
// its Genesys face) it talks to that instead.
func init() {
	registerKit(kitSpec{
		Name:  "genesys",
		About: "Genesys Cloud Web Messaging, as a guest (no credentials)",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_GENESYS_REGION", Default: "us-east-1", Usage: "the Genesys Cloud region, such as eu-west-1"},
			{Env: "DESKBRIDGE_GENESYS_DOMAIN", Usage: "the region's domain, such as mypurecloud.ie, instead of the region"},
			{Env: "DESKBRIDGE_GENESYS_DEPLOYMENT_ID", Required: true, Usage: "the Web Messaging deployment's id"},
			{Env: "DESKBRIDGE_GENESYS_ORIGIN", Usage: "the Origin sent to Genesys, when the deployment restricts domains"},
			{Env: "DESKBRIDGE_GENESYS_AUTH", Usage: "page: authenticated sessions from the auth code the page passes in the pre-chat context (genesys_auth_code, …); empty: guests"},
		},
		Start: func(c kitConfig) (*kit, error) {
			gc := genesys.Config{
				Region:       c.Settings["DESKBRIDGE_GENESYS_REGION"],
				Domain:       c.Settings["DESKBRIDGE_GENESYS_DOMAIN"],
				DeploymentID: c.Settings["DESKBRIDGE_GENESYS_DEPLOYMENT_ID"],
				Origin:       c.Settings["DESKBRIDGE_GENESYS_ORIGIN"],
				Logger:       c.Logger,
			}
			switch a := c.Settings["DESKBRIDGE_GENESYS_AUTH"]; a {
			case "":
			case "page":
				gc.Authenticate = genesys.PageAuthCode
			default:
				return nil, fmt.Errorf("DESKBRIDGE_GENESYS_AUTH=%q: want page, or empty for guests", a)
			}
			if c.DeskURL != "" {
				gc.WebSocketURL = "ws" + strings.TrimPrefix(c.DeskURL, "http") + "/v1"
				gc.APIURL = c.DeskURL
				gc.DeploymentID = cmp.Or(gc.DeploymentID, "mock-deployment")
			} else if gc.Domain == "" && genesys.Regions[gc.Region] == "" {
				return nil, fmt.Errorf("DESKBRIDGE_GENESYS_REGION=%q: unknown region; known: %s; or set DESKBRIDGE_GENESYS_DOMAIN", gc.Region, strings.Join(sortedKeys(genesys.Regions), ", "))
			}
			k, err := genesys.New(gc)
			if err != nil {
				return nil, err
			}
			return &kit{factory: k.Factory, close: k.Close}, nil
		},
		MockFace: func(d *mockdesk.Desk) http.Handler { return genesysface.New(d, genesysface.Options{}) },
		order:    -1,
	})
}
