package main

import (
	"cmp"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/deskbridge/deskbridge/kits/amazonconnect"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	connectface "github.com/deskbridge/deskbridge/mock-desk/faces/connect"
)

// The Amazon Connect kit. For a real instance its settings come from the
// environment and AWS credentials from the SDK's default chain. With a desk
// URL (a mock-desk with its Amazon Connect face, as in the demo) it talks
// to that instead, with placeholder ids and credentials.
func init() {
	registerKit(kitSpec{
		Name:    "amazonconnect",
		Aliases: []string{"connect"},
		About:   "Amazon Connect chat; AWS credentials from the SDK's default chain (AWS_PROFILE, a role, ...)",
		Settings: []envSetting{
			{Env: "DESKBRIDGE_CONNECT_REGION", Default: "us-east-1", Usage: "the AWS region of the Connect instance"},
			{Env: "DESKBRIDGE_CONNECT_INSTANCE_ID", Required: true, Usage: "the Connect instance's id"},
			{Env: "DESKBRIDGE_CONNECT_CONTACT_FLOW_ID", Required: true, Usage: "the id of the inbound chat flow"},
		},
		Start: func(c kitConfig) (*kit, error) {
			cc := amazonconnect.Config{
				Region:        c.Settings["DESKBRIDGE_CONNECT_REGION"],
				InstanceID:    c.Settings["DESKBRIDGE_CONNECT_INSTANCE_ID"],
				ContactFlowID: c.Settings["DESKBRIDGE_CONNECT_CONTACT_FLOW_ID"],
				Logger:        c.Logger,
			}
			if c.DeskURL != "" {
				cc.ConnectEndpoint, cc.ParticipantEndpoint = c.DeskURL, c.DeskURL
				cc.InstanceID, cc.ContactFlowID = cmp.Or(cc.InstanceID, "mock-instance"), cmp.Or(cc.ContactFlowID, "mock-flow")
				cc.AWSConfig = &aws.Config{Region: cc.Region, Credentials: credentials.NewStaticCredentialsProvider("mock-desk", "mock-desk", "")}
			}
			k, err := amazonconnect.New(cc)
			if err != nil {
				return nil, err
			}
			return &kit{factory: k.Factory, close: k.Close}, nil
		},
		MockFace: func(d *mockdesk.Desk) http.Handler { return connectface.New(d, connectface.Options{}) },
		order:    -2,
	})
}
