// Command deskbridge runs the deskbridge server: the browser gateway that
// hands an AI chat over to a human agent in a service desk.
//
//	deskbridge demo                  # everything on loopback: a mock desk with scripted agents,
//	                                 # the agent console, a demo bot and a chat page
//	deskbridge demo --kit polling    # the same through another kit (websocket, rest, polling,
//	                                 # amazonconnect, genesys: those two through mock-desk's vendor faces)
//	deskbridge serve --desk-url https://desk.example.com --allowed-origins https://shop.example.com
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
// serve reads flags, then DESKBRIDGE_* environment variables, then a JSON
// config file (--config); secrets come from the environment only.
package main
