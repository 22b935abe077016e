// Command deskbridge runs the deskbridge server: the browser gateway that
// hands an AI chat over to a human agent in a service desk.
//
//	deskbridge demo                  # everything on loopback: a mock desk with scripted agents,
//	                                 # the agent console, a demo bot and a chat page
//	deskbridge demo --kit polling    # the same through another kit (websocket, rest, polling,
//	                                 # amazonconnect, genesys: those two through mock-desk's vendor faces)
//	deskbridge demo --carbon         # also the real @carbon/ai-chat at /carbon/ (scripts/install-npm.sh builds it)
//	deskbridge serve --desk-url https://desk.example.com --allowed-origins https://shop.example.com
//	deskbridge help serve            # every setting: flag, DESKBRIDGE_* variable, config-file member
//	deskbridge healthcheck           # exit 0 when the local serve's /healthz answers 200
//
// The vendor kits need no desk URL. Amazon Connect: --kit amazonconnect with
// DESKBRIDGE_CONNECT_REGION, DESKBRIDGE_CONNECT_INSTANCE_ID and
// DESKBRIDGE_CONNECT_CONTACT_FLOW_ID; AWS credentials from the SDK's default
// chain only (AWS_ACCESS_KEY_ID…, AWS_PROFILE, SSO, a role). Genesys Cloud:
// --kit genesys with DESKBRIDGE_GENESYS_REGION (or DESKBRIDGE_GENESYS_DOMAIN),
// DESKBRIDGE_GENESYS_DEPLOYMENT_ID and, for deployments that restrict
// domains, DESKBRIDGE_GENESYS_ORIGIN. With --desk-url they talk to that
// mock-desk instead.
//
// Each of serve's settings comes from its flag, else its DESKBRIDGE_*
// environment variable, else its member of the JSON config file (--config),
// else its default; secrets come from the environment only. One table
// (serveSettings, settings.go) names them all, and the flags, the help
// ("deskbridge help serve"), the config-file reader and the README's list are
// made from it. Kits register themselves from kit_NAME.go (kitSpec);
// scripts/new-kit.sh adds one. "deskbridge healthcheck" asks a running
// server's /healthz, for container images without a shell.
package main
