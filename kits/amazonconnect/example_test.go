package amazonconnect_test

import (
	"context"
	"fmt"
	"log"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/kits/amazonconnect"
)

// Example wires the kit into the flow engine. Credentials come from the AWS
// default chain (AWS_ACCESS_KEY_ID…, a profile, a role); nothing secret is
// in the Config.
func Example() {
	kit, err := amazonconnect.New(amazonconnect.Config{
		Region:        "us-east-1",
		InstanceID:    "12345678-1234-1234-1234-123456789012",
		ContactFlowID: "87654321-4321-4321-4321-210987654321",
		DisplayName:   "Web customer",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	engine, err := flow.NewEngine(kit.Factory, flow.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close(context.Background())
	fmt.Println(kit.Capabilities().MaxFileSizeBytes)
	// Output: 20971520
}
