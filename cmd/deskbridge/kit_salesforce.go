package main

import (
	"cmp"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/kits/salesforce"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	salesforceface "github.com/deskbridge/deskbridge/mock-desk/faces/salesforce"
)

// The ids the demo's mock-desk Salesforce face and the kit agree on when
// no DESKBRIDGE_SALESFORCE_* names real ones.
const (
	mockSalesforceOrg        = "00D000000000001"
	mockSalesforceDeployment = "mock_deployment"
)

// The Salesforce Messaging for In-App and Web kit, as a custom client: no
// credentials for unverified users; the private key that signs verified
// users' identity tokens comes from the environment only. With a desk URL
// (a mock-desk with its Salesforce face) it talks to that instead.
func init() {
	registerKit(kitSpec{
		Name:    "salesforce",
		Aliases: []string{"miaw"},
		About:   "Salesforce Messaging for In-App and Web (Enhanced Chat), as a custom client",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_SALESFORCE_URL", Required: true, Usage: "the deployment's SCRT URL, such as https://acme.my.salesforce-scrt.com"},
			{Env: "DESKBRIDGE_SALESFORCE_ORG_ID", Required: true, Usage: "the org's 15-character id (00D…)"},
			{Env: "DESKBRIDGE_SALESFORCE_DEPLOYMENT", Required: true, Usage: "the API name of the Custom Client Embedded Service deployment"},
			{Env: "DESKBRIDGE_SALESFORCE_IDENTITY_KEY", Secret: true, Usage: "a PEM RSA private key that signs verified users' identity tokens (user verification); unset: every user unverified"},
			{Env: "DESKBRIDGE_SALESFORCE_IDENTITY_KEY_ID", Usage: "the key's id (kid) in the channel's keyset; required with the key"},
			{Env: "DESKBRIDGE_SALESFORCE_IDENTITY_ISSUER", Usage: "the keyset's issuer (iss); required with the key"},
		},
		Start: func(c kitConfig) (*kit, error) {
			s := c.Settings
			sc := salesforce.Config{
				URL:           s["DESKBRIDGE_SALESFORCE_URL"],
				OrgID:         s["DESKBRIDGE_SALESFORCE_ORG_ID"],
				DeveloperName: s["DESKBRIDGE_SALESFORCE_DEPLOYMENT"],
				Logger:        c.Logger,
			}
			if c.DeskURL != "" {
				sc.URL = c.DeskURL
				sc.OrgID = cmp.Or(sc.OrgID, mockSalesforceOrg)
				sc.DeveloperName = cmp.Or(sc.DeveloperName, mockSalesforceDeployment)
			}
			if u, err := url.Parse(sc.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, fmt.Errorf("DESKBRIDGE_SALESFORCE_URL=%q: not an http(s) URL", sc.URL)
			}
			if !strings.HasPrefix(sc.OrgID, "00D") || (len(sc.OrgID) != 15 && len(sc.OrgID) != 18) {
				return nil, fmt.Errorf("DESKBRIDGE_SALESFORCE_ORG_ID=%q: not an org id (00D…, 15 or 18 characters)", sc.OrgID)
			}
			sign, err := identitySigner(s)
			if err != nil {
				return nil, err
			}
			sc.IdentityToken = sign
			k, err := salesforce.New(sc)
			if err != nil {
				return nil, err
			}
			return &kit{factory: k.Factory, close: k.Close}, nil
		},
		MockFace: func(d *mockdesk.Desk) http.Handler {
			return salesforceface.New(d, salesforceface.Options{OrgID: mockSalesforceOrg, DeveloperName: mockSalesforceDeployment})
		},
		order: -1,
	})
}

// identitySigner reads the user verification settings: none, or a key
// with its id and issuer.
func identitySigner(s map[string]string) (salesforce.IdentityTokenFunc, error) {
	pemKey, kid, iss := s["DESKBRIDGE_SALESFORCE_IDENTITY_KEY"], s["DESKBRIDGE_SALESFORCE_IDENTITY_KEY_ID"], s["DESKBRIDGE_SALESFORCE_IDENTITY_ISSUER"]
	if pemKey == "" {
		if kid != "" || iss != "" {
			return nil, errors.New("DESKBRIDGE_SALESFORCE_IDENTITY_KEY_ID and _ISSUER need DESKBRIDGE_SALESFORCE_IDENTITY_KEY")
		}
		return nil, nil
	}
	if kid == "" || iss == "" {
		return nil, errors.New("DESKBRIDGE_SALESFORCE_IDENTITY_KEY needs DESKBRIDGE_SALESFORCE_IDENTITY_KEY_ID and DESKBRIDGE_SALESFORCE_IDENTITY_ISSUER")
	}
	block, _ := pem.Decode([]byte(pemKey))
	if block == nil {
		return nil, errors.New("DESKBRIDGE_SALESFORCE_IDENTITY_KEY: not a PEM block")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("DESKBRIDGE_SALESFORCE_IDENTITY_KEY: not an RSA key (Salesforce verifies RS256)")
		}
		key = rk
	} else {
		return nil, fmt.Errorf("DESKBRIDGE_SALESFORCE_IDENTITY_KEY: not a PKCS#1 or PKCS#8 private key: %w", err)
	}
	return salesforce.SignIdentity(key, kid, iss, 10*time.Minute), nil
}
